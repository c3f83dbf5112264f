"""A small client for the Heyan server's JSON API, used by `heyan upload` (drone operators in
the field) and `heyan demo-server`. Photos are streamed from disk, never read whole, so a
2 GB flight uploads from a laptop with little memory."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from heyan.pipeline.images import IMAGE_SUFFIXES

PHOTO_SUFFIXES = frozenset(s.lower() for s in IMAGE_SUFFIXES)


class ApiFailure(RuntimeError):
    """The server answered with an error; the message is the server's own."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {message}")
        self.status = status


def flight_files(paths: Iterable[Path]) -> list[Path]:
    """Photos and zips named on the command line; folders are searched (not recursively:
    a DJI card keeps one flight per folder)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in PHOTO_SUFFIXES)
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return out


class _Counting:
    """A file wrapper reporting how many bytes httpx has read, for the progress bar."""

    def __init__(self, f: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._f, self._on_read = f, on_read

    def read(self, n: int = -1) -> bytes:
        chunk = self._f.read(n)
        self._on_read(len(chunk))
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(256 * 1024):
            yield chunk

    def seek(self, *a: Any) -> int:
        return self._f.seek(*a)

    def tell(self) -> int:
        return self._f.tell()


@dataclass
class HeyanClient:
    """Bearer token or username/password (browser-style session with the CSRF header)."""

    base_url: str
    token: str | None = None
    timeout_s: float = 60.0

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self.http = httpx.Client(base_url=self.base_url.rstrip("/"), headers=headers,
                                 timeout=httpx.Timeout(self.timeout_s, write=None))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> HeyanClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------
    def request(self, method: str, path: str, ok: tuple[int, ...] = (200, 201, 202), **kw: Any) -> Any:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise ApiFailure(0, method, path, f"cannot reach {self.base_url}: {exc}") from exc
        if r.status_code not in ok:
            try:
                msg = r.json().get("detail") or r.text
            except (json.JSONDecodeError, AttributeError):
                msg = r.text[:300]
            raise ApiFailure(r.status_code, method, path, str(msg))
        return r.json() if r.content else None

    def login(self, username: str, password: str) -> dict[str, Any]:
        out = self.request("POST", "/api/auth/login", json={"username": username, "password": password})
        self.http.headers["X-CSRF-Token"] = out["csrf_token"]
        return out

    def wait_until_up(self, timeout_s: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.request("GET", "/api/health")
            except ApiFailure:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    # -- resources --------------------------------------------------------------------
    def upload_rivers(self, geojson_path: Path) -> dict[str, Any]:
        return self.request("POST", "/api/rivers", content=geojson_path.read_bytes(),
                            headers={"Content-Type": "application/json"})

    def create_user(self, username: str, password: str, role: str, segments: list[str] | None = None,
                    full_name: str | None = None) -> dict[str, Any] | None:
        """Create a user; None if the name is taken (re-running the demo is harmless)."""
        try:
            return self.request("POST", "/api/users", json={"username": username, "password": password, "role": role,
                                                            "segments": segments or [], "full_name": full_name})
        except ApiFailure as exc:
            if exc.status == 409:
                return None
            raise

    def upload_flight(self, files: list[Path], name: str | None = None,
                      on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """One multipart POST with every photo (or one zip) in the field 'files'."""
        tick = on_progress or (lambda n: None)
        with ExitStack() as stack:
            parts = []
            for f in files:
                ctype = "application/zip" if f.suffix.lower() == ".zip" else "image/jpeg"
                fh = stack.enter_context(f.open("rb"))
                parts.append(("files", (f.name, _Counting(fh, tick), ctype)))
            data = {"name": name} if name else None
            return self.request("POST", "/api/flights", files=parts, data=data)

    def flight(self, flight_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/flights/{flight_id}")

    def wait_flight(self, flight_id: str, on_progress: Callable[[int, int], None] | None = None,
                    timeout_s: float = 3600.0, poll_s: float = 1.0) -> dict[str, Any]:
        """Poll until the flight's job is done or failed."""
        deadline = time.monotonic() + timeout_s
        while True:
            f = self.flight(flight_id)
            job = f.get("job") or {}
            if on_progress:
                on_progress(int(job.get("photos_done") or 0), int(job.get("photos_total") or 0))
            if job.get("state") in ("done", "failed"):
                return f
            if time.monotonic() > deadline:
                raise TimeoutError(f"flight {flight_id} still {job.get('state')} after {timeout_s:.0f} s")
            time.sleep(poll_s)
