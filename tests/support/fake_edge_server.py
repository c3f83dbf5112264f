"""A fake server speaking the edge HTTP contract (``/api/edge/...``), in a thread on
loopback: the edge runner's delivery tests count exactly what it receives."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from heyan.pipeline.tickets.rules import EDGE_EVENT_KINDS


@dataclass
class FakeState:
    token: str
    mode: str = "ok"  # "ok" | "503"
    auth_status: int = 401  # what a wrong token gets (401 or 403)
    delay_s: float = 0.0
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # event_id -> newest body stored
    posts: dict[tuple[str, int], int] = field(default_factory=dict)  # (event_id, seq) -> POSTs received
    stored: dict[tuple[str, int], int] = field(default_factory=dict)  # (event_id, seq) -> times stored (must be 1)
    media: dict[str, int] = field(default_factory=dict)  # sha256 -> PUTs received
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    unauthorized: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeEdgeServer:
    """The server side of the edge HTTP contract, in a thread on loopback.

    Idempotent like the real one must be: an event is stored when its ``seq`` is newer
    than what it has for that ``event_id`` (``{"stored": true}``), otherwise acknowledged
    with ``{"stored": false}``. Counts every request so tests can check exactly-once.
    """

    def __init__(self, token: str = "test-token", port: int = 0, host: str = "127.0.0.1") -> None:
        self.state = FakeState(token)
        self.host = host
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeEdgeServer:
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet tests
                pass

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _gate(self) -> bool:
                body = self._body()
                self._raw = body
                if state.delay_s:
                    time.sleep(state.delay_s)
                if self.headers.get("Authorization") != f"Bearer {state.token}":
                    with state.lock:
                        state.unauthorized += 1
                    self._reply(state.auth_status, {"detail": "invalid device token"})
                    return False
                if state.mode == "503":
                    self._reply(503, {"detail": "down for maintenance"})
                    return False
                return True

            def do_POST(self) -> None:
                if not self._gate():
                    return
                try:
                    body = json.loads(self._raw or b"{}")
                except ValueError:
                    self._reply(400, {"detail": "bad json"})
                    return
                if self.path == "/api/edge/heartbeat":
                    with state.lock:
                        state.heartbeats.append(body)
                    self._reply(200, {"ok": True})
                    return
                if self.path != "/api/edge/events":
                    self._reply(404, {"detail": "no such path"})
                    return
                eid, seq = body.get("event_id"), body.get("seq", 0)
                if not isinstance(eid, str) or body.get("kind") not in EDGE_EVENT_KINDS:
                    self._reply(422, {"detail": "event_id and kind required"})
                    return
                with state.lock:
                    state.posts[(eid, seq)] = state.posts.get((eid, seq), 0) + 1
                    have = state.events.get(eid)
                    fresh = have is None or have.get("seq", 0) < seq
                    if fresh:
                        state.events[eid] = body
                        state.stored[(eid, seq)] = state.stored.get((eid, seq), 0) + 1
                self._reply(201 if fresh else 200, {"stored": fresh})

            def do_PUT(self) -> None:
                if not self._gate():
                    return
                prefix = "/api/edge/media/"
                if not self.path.startswith(prefix):
                    self._reply(404, {"detail": "no such path"})
                    return
                sha = self.path[len(prefix):]
                if hashlib.sha256(self._raw).hexdigest() != sha:
                    self._reply(400, {"detail": "sha256 does not match the body"})
                    return
                with state.lock:
                    fresh = sha not in state.media
                    state.media[sha] = state.media.get(sha, 0) + 1
                self._reply(201 if fresh else 200, {"stored": fresh})

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client killed mid-request (the kill -9 test) is expected here

        httpd = Server((self.host, self.port), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="fake-edge-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeEdgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
