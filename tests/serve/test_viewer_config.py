"""GET /api/config: what the viewer reads before login (the intranet tile server)."""

from __future__ import annotations

from pathlib import Path

import httpx
from serve_helpers import LiveServer, fake_processor, serve_config

from heyan.settings import Settings


def test_tile_url_reaches_the_viewer(tmp_path: Path) -> None:
    url = "http://tiles.intranet/{z}/{x}/{y}.png"
    srv = LiveServer(serve_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", tile_url=url), fake_processor()).start()
    try:
        r = httpx.get(srv.url + "/api/config")
        assert r.status_code == 200
        assert r.json()["tile_url"] == url and r.json()["version"]
    finally:
        srv.stop()


def test_tile_url_setting_flows_into_the_server_config(tmp_path: Path) -> None:
    s = Settings(serve_tile_url="http://t/{z}/{x}/{y}.png", serve_data_dir=tmp_path)
    assert s.serve.tile_url == "http://t/{z}/{x}/{y}.png" and s.serve.data_dir == tmp_path
    assert Settings(serve_data_dir=tmp_path).serve.tile_url is None
