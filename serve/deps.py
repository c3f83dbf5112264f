"""FastAPI dependencies: the database session, who is calling (session cookie with CSRF
check, personal bearer token, or device token), and role checks by permission name."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from heyan.serve.errors import ApiError
from heyan.serve.permissions import PERMISSIONS
from heyan.serve.security import DEVICE_PREFIX, same, token_hash
from heyan.serve.state import AppState
from heyan.serve.tables import ApiToken, Device, User, WebSession
from heyan.serve.workflow import Actor

SESSION_COOKIE = "heyan_session"
CSRF_COOKIE = "heyan_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_TOUCH_EVERY = timedelta(minutes=5)  # last-used stamps are written at most this often
# Integer ids in paths: bounded so a huge number is a 422, not a database overflow.
DbId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def app_state(request: Request) -> AppState:
    return request.app.state.heyan


@lru_cache(maxsize=16)
def trusted_networks(trusted: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def _trusted(addr: str, nets: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr.strip())
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_ip(request: Request) -> str:
    """The client's address: the peer's, unless the peer is a configured trusted proxy
    (``serve_trusted_proxies``); then the nearest address in X-Forwarded-For that is not
    itself a trusted proxy (what a client puts further left is not believed)."""
    peer = request.client.host if request.client else "unknown"
    nets = trusted_networks(app_state(request).config.trusted_proxies)
    if not nets or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, nets):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the proxy chain: fall back to the proxy itself
    return hops[0] if hops else peer


async def get_db(request: Request) -> AsyncIterator[Session]:
    # GET requests only read (but for a best-effort "last used" stamp, see _touch).
    # async: making a session does no I/O, so it needs no thread-pool trip; closing may
    # (a rollback), so that runs in the pool.
    s = app_state(request).db.session(write=request.method not in SAFE_METHODS)
    try:
        yield s
    finally:
        await run_in_threadpool(s.close)


def _touch(db: Session, obj: object, attr: str, now: datetime) -> None:
    """Stamp last use, at most every few minutes; never fail a request over it (a read
    transaction on SQLite may not be able to upgrade to a write)."""
    last = getattr(obj, attr)
    if last is not None and now - last <= _TOUCH_EVERY:
        db.commit()
        return
    try:
        setattr(obj, attr, now)
        db.commit()
    except OperationalError:
        db.rollback()


@dataclass
class Principal:
    via: str  # session | token | device
    user: User | None = None
    device: Device | None = None
    session: WebSession | None = None

    @property
    def role(self) -> str:
        return self.user.role if self.user else "device"

    @property
    def name(self) -> str:
        if self.user:
            return self.user.username
        return f"device:{self.device.name}" if self.device else "?"

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role)

    def segments(self) -> list[str] | None:
        """Segments a chief is limited to; None for every other role (no limit)."""
        if self.user and self.user.role == "chief":
            return list(self.user.segments or [])
        return None


_UNAUTH = {"WWW-Authenticate": "Bearer"}


def authenticate(request: Request, db: Session = Depends(get_db)) -> Principal:
    st = app_state(request)
    now = st.clock.now()
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Authorization header must be 'Bearer <token>'", _UNAUTH)
        token = token.strip()
        h = token_hash(token)
        if token.startswith(DEVICE_PREFIX):
            dev = db.scalar(sa.select(Device).where(Device.token_hash == h, Device.revoked_at.is_(None)))
            if dev is None:
                raise ApiError(401, "unknown or revoked device token", _UNAUTH)
            _touch(db, dev, "last_seen_at", now)  # also ends the read transaction
            return Principal("device", device=dev)
        tok = db.scalar(sa.select(ApiToken).where(ApiToken.token_hash == h, ApiToken.revoked_at.is_(None)))
        if tok is None or not tok.user.active:
            raise ApiError(401, "unknown or revoked API token", _UNAUTH)
        user = tok.user
        _touch(db, tok, "last_used_at", now)  # also ends the read transaction: a long upload must not hold it
        return Principal("token", user=user)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        sess = db.get(WebSession, token_hash(cookie))
        if sess is None or sess.expires_at <= now or not sess.user.active:
            raise ApiError(401, "session expired or logged out: log in again")
        if request.method not in SAFE_METHODS:
            # Double submit: the page reads the csrf cookie and echoes it in a header, which
            # a cross-site form or image cannot do; the value must also be this session's.
            header = request.headers.get(CSRF_HEADER)
            if not (same(header, request.cookies.get(CSRF_COOKIE)) and same(header, sess.csrf_token)):
                raise ApiError(403, f"CSRF check failed: send the {CSRF_COOKIE} cookie's value in the {CSRF_HEADER} header")
        db.commit()
        return Principal("session", user=sess.user, session=sess)
    raise ApiError(401, "not logged in: log in at /api/auth/login or send 'Authorization: Bearer <token>'", _UNAUTH)


def require(permission: str) -> Callable[..., Principal]:
    roles = PERMISSIONS[permission]

    # async: a pure check needs no trip through the thread pool
    async def check(p: Principal = Depends(authenticate)) -> Principal:
        if p.user is None:
            raise ApiError(403, "device tokens may only use the edge API")
        if p.user.role not in roles:
            raise ApiError(403, f"role {p.user.role!r} may not do this ({permission}); allowed: {', '.join(sorted(roles))}",
                           code="forbidden", permission=permission)
        return p

    check.__name__ = f"require_{permission.replace('.', '_')}"
    return check


async def device_only(p: Principal = Depends(authenticate)) -> Principal:
    if p.device is None:
        raise ApiError(403, "this endpoint is for device tokens")
    return p


async def no_nul(request: Request) -> None:
    """NUL characters in the path or query: refused up front (PostgreSQL text cannot hold
    them, and no real value contains one)."""
    if "\x00" in request.url.path or any("\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()):
        raise ApiError(422, "NUL characters are not allowed in the path or query")
