"""Local receivers on loopback for notification tests: an HTTP endpoint that records JSON
posts (a WeCom/DingTalk robot, an SMS gateway) and can be told to fail, and a minimal SMTP
server that records the mails it is given."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from email.message import Message
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HttpReceiver:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.fail_next = 0  # answer this many of the next posts with HTTP 500
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with outer.lock:
                    fail = outer.fail_next > 0
                    if fail:
                        outer.fail_next -= 1
                    else:
                        outer.posts.append((self.path, json.loads(body)))
                answer = b'{"errcode": 500, "errmsg": "down"}' if fail else b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(500 if fail else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self, path: str) -> list[str]:
        with self.lock:
            return [b.get("text", {}).get("content") or b.get("text") for p, b in self.posts if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """Just enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, QUIT."""

    def __init__(self) -> None:
        self.mails: list[Message] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        f = conn.makefile("rwb")

        def say(line: str) -> None:
            f.write(line.encode() + b"\r\n")
            f.flush()

        say("220 localhost test SMTP")
        try:
            while line := f.readline():
                cmd = line.decode("ascii", "replace").strip().upper()
                if cmd.startswith(("EHLO", "HELO")):
                    say("250 localhost")
                elif cmd.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                    say("250 OK")
                elif cmd == "DATA":
                    say("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while (chunk := f.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    self.mails.append(message_from_bytes(bytes(data), policy=default))
                    say("250 OK queued")
                elif cmd == "QUIT":
                    say("221 bye")
                    break
                else:
                    say("502 not implemented")
        finally:
            conn.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()
