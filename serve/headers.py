"""Security headers on every response. The viewer is served from this origin only and has
no inline script or style (serve/static: every script and style is a file), so the content
security policy allows 'self' alone — plus the intranet tile server's origin for map images
when one is configured. Pages of this server may not be framed (clickjacking), responses are
never content-sniffed, no Referer leaves, and over HTTPS browsers are told to stay on it.

A route may set its own Content-Security-Policy (the flight report, a self-contained HTML
file, is served sandboxed: serve/routers/blobs.py); it is kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from heyan.serve.config import ServeConfig


def tile_origin(tile_url: str | None) -> str | None:
    """The origin of an XYZ template ('http://tiles.intranet/{z}/{x}/{y}.png'); a '{s}'
    subdomain becomes a wildcard."""
    if not tile_url:
        return None
    u = urlsplit(tile_url)
    if u.scheme not in ("http", "https") or not u.netloc:
        return None
    host = ".".join("*" if "{" in label else label for label in u.netloc.split("."))
    return f"{u.scheme}://{host}"


def content_security_policy(config: ServeConfig) -> str:
    img = " ".join(x for x in ("'self'", tile_origin(config.tile_url)) if x)
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def security_headers(config: ServeConfig) -> list[tuple[bytes, bytes]]:
    h = [("Content-Security-Policy", content_security_policy(config)),
         ("X-Content-Type-Options", "nosniff"),
         ("X-Frame-Options", "DENY"),
         ("Referrer-Policy", "no-referrer"),
         ("Cross-Origin-Opener-Policy", "same-origin"),
         ("Cross-Origin-Resource-Policy", "same-origin"),
         ("Permissions-Policy", "camera=(), microphone=(), payment=(), usb=()")]
    if config.cookie_secure:  # served over HTTPS (serve_cookie_secure)
        h.append(("Strict-Transport-Security", "max-age=31536000"))
    return [(k.lower().encode(), v.encode()) for k, v in h]


class SecurityHeaders:
    def __init__(self, app: Any, config: ServeConfig) -> None:
        self.app = app
        self.headers = security_headers(config)

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                have = {k.lower() for k, _ in msg.get("headers", ())}
                msg["headers"] = list(msg.get("headers", ())) + [(k, v) for k, v in self.headers if k not in have]
            await send(msg)

        await self.app(scope, receive, with_headers)
