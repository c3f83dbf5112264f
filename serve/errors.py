"""Every error leaves the API as JSON with a human-readable ``detail`` string (and extra keys
where they help: ``allowed`` for a refused transition, ``errors`` for validation)."""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from heyan.vision.common import InputError, ProblemsError

log = logging.getLogger("heyan.serve")

RETRY_AFTER_S = 2  # what a busy server tells clients (edge boxes, scripts, the viewer) to wait
# PostgreSQL: lock not available, serialization failure, deadlock, statement/lock timeout.
_PG_BUSY = {"55P03", "40001", "40P01", "57014"}
_BUSY_TEXT = ("database is locked", "database table is locked", "database is busy")
_FULL_TEXT = ("database or disk is full", "no space left on device", "disk full")


def db_busy(exc: BaseException) -> bool:
    """The database could not be had in time (another writer holds it): try again later."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return code in _PG_BUSY or any(t in str(exc.orig).lower() for t in _BUSY_TEXT)
    return False


def disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return code == "53100" or any(t in str(exc.orig).lower() for t in _FULL_TEXT)
    return False


def busy_response() -> JSONResponse:
    return JSONResponse({"detail": f"the server is busy (database locked by other work); try again in {RETRY_AFTER_S} s"},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


DISK_FULL = "the server's disk is full: nothing of this request was stored; tell the administrator"


def disk_full_response() -> JSONResponse:
    return JSONResponse({"detail": DISK_FULL}, status_code=507)


class ApiError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, headers, extra


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "request"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "invalid request: " + "; ".join(parts) + more


def _jsonable(errors: list[Any]) -> list[dict[str, Any]]:
    return [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in errors]


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse({"detail": _validation_message(errors), "code": "invalid_request", "errors": _jsonable(errors)},
                            status_code=422)

    @app.exception_handler(InputError)
    async def _bad_input(_: Request, exc: InputError) -> JSONResponse:
        # Bad input no router turned into an answer of its own: the client's to fix, not a crash.
        return JSONResponse({"detail": str(exc), **({"errors": exc.errors} if isinstance(exc, ProblemsError) else {})},
                            status_code=exc.http_status)

    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        if db_busy(exc):
            log.warning("database busy on %s %s: 503", request.method, request.url.path)
            return busy_response()
        if disk_full(exc):
            log.error("disk full on %s %s: 507", request.method, request.url.path)
            return disk_full_response()
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal server error ({type(exc).__name__}); it has been logged"}, status_code=500)

    # Database and disk errors by class, so they are answered inside the middleware stack
    # (with its headers); anything else reaches the catch-all.
    for cls in (DBAPIError, PoolTimeout, OSError, Exception):
        app.add_exception_handler(cls, _crash)
