"""The map's server side (issue 13): the office's MBTiles basemap served tile by tile (TMS
rows flipped, 404 where there is none, never a path from the request), the basemap settings
in /api/config, and a flight's page data: photos on their footprints with downscaled copies,
the track, each rejected photo's reason as a code, a flight with nothing usable failed, and
the default name in Chinese with Beijing time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from serve_helpers import LiveServer, fake_processor, serve_config
from support.mbtiles import png, write_mbtiles
from test_flights import photos_of, upload_photos, upload_rivers

from heyan.serve.flight_map import reject_code
from heyan.serve.mbtiles import MBTiles, MBTilesError, tms_row
from heyan.serve.routers.flights import default_flight_name
from heyan.settings import Settings


@pytest.fixture
def tiles_file(tmp_path: Path) -> Path:
    return write_mbtiles(tmp_path / "office.mbtiles", {(1, 0, 0): png((0, 0, 255)), (1, 1, 0): png((0, 255, 0)),
                                                       (2, 3, 1): png((255, 0, 0))}, bounds=(-180, -85, 180, 85))


def test_tms_rows_are_flipped(tiles_file: Path) -> None:
    assert tms_row(0, 0) == 0 and tms_row(1, 0) == 1 and tms_row(3, 2) == 5
    mb = MBTiles(tiles_file)
    assert (mb.info.minzoom, mb.info.maxzoom, mb.info.media_type) == (1, 2, "image/png")
    top_left = cv2.imdecode(np.frombuffer(mb.tile(1, 0, 0) or b"", np.uint8), cv2.IMREAD_COLOR)
    assert tuple(int(v) for v in top_left[5, 5]) == (0, 0, 255)  # XYZ row 0 is TMS row 1
    assert mb.tile(1, 0, 1) is None and mb.tile(2, 3, 1) is not None and mb.tile(2, 3, 2) is None
    assert mb.tile(1, 5, 0) is None and mb.tile(-1, 0, 0) is None  # off the grid: none, no error


def test_bad_mbtiles_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(MBTilesError, match="not found"):
        MBTiles(tmp_path / "missing.mbtiles")
    junk = tmp_path / "junk.mbtiles"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(MBTilesError, match="junk.mbtiles: not a readable MBTiles"):
        MBTiles(junk)
    vec = write_mbtiles(tmp_path / "vector.mbtiles", {(0, 0, 0): b"\x1a\x00"}, fmt="pbf")
    with pytest.raises(MBTilesError, match="'pbf' is not a raster format"):
        MBTiles(vec)


def test_basemap_route_and_viewer_config(tmp_path: Path, tiles_file: Path) -> None:
    srv = LiveServer(serve_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", basemap_mbtiles=tiles_file,
                                  tile_url="http://tiles.intranet/{z}/{x}/{y}.png", tile_datum="gcj02"),
                     fake_processor()).start()
    try:
        cfg = httpx.get(srv.url + "/api/config").json()
        assert cfg["tile_datum"] == "gcj02" and cfg["tile_url"] == "http://tiles.intranet/{z}/{x}/{y}.png"
        assert cfg["mbtiles"] == {"url": "/api/basemap/{z}/{x}/{y}", "format": "png", "minzoom": 1, "maxzoom": 2,
                                  "bounds": [-180.0, -85.0, 180.0, 85.0], "name": "test basemap"}
        assert httpx.get(srv.url + "/api/basemap/1/0/0").status_code == 401  # the office's map is not public
        with srv.client("chief") as c:  # every role sees the map
            r = c.get("/api/basemap/1/1/0")
            assert r.status_code == 200 and r.headers["content-type"] == "image/png"
            assert r.content == MBTiles(tiles_file).tile(1, 1, 0)
            miss = c.get("/api/basemap/1/1/1")
            assert miss.status_code == 404 and miss.json()["code"] == "no_tile"
            # Only three numbers are taken from the request; the file is the configured one.
            assert c.get("/api/basemap/1/0/x").status_code == 422
            assert c.get("/api/basemap/..%2F..%2Fetc/0/0").status_code in (404, 422)
            assert c.get("/api/basemap/1/0/0", params={"path": "/etc/passwd"}).content == MBTiles(tiles_file).tile(1, 0, 0)
    finally:
        srv.stop()


def test_no_basemap_configured(tmp_path: Path) -> None:
    srv = LiveServer(serve_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}"), fake_processor()).start()
    try:
        cfg = httpx.get(srv.url + "/api/config").json()
        assert cfg["mbtiles"] is None and cfg["tile_datum"] == "wgs84"
        with srv.client("viewer") as c:
            r = c.get("/api/basemap/0/0/0")
            assert r.status_code == 404 and r.json()["code"] == "no_basemap"
    finally:
        srv.stop()


def test_basemap_settings_by_name(tmp_path: Path) -> None:
    s = Settings(serve_basemap_mbtiles=str(tmp_path / "a.mbtiles"), serve_tile_datum="gcj02", serve_data_dir=tmp_path)
    assert s.serve.basemap_mbtiles == tmp_path / "a.mbtiles" and s.serve.tile_datum == "gcj02"
    with pytest.raises(ValueError, match="tile_datum"):
        Settings(serve_tile_datum="bd09", serve_data_dir=tmp_path)


def test_reject_codes_and_default_name() -> None:
    assert reject_code("JPEG is truncated (no end-of-image marker)") == "corrupt"
    assert reject_code("cannot decode JPEG data (corrupt or unsupported format)") == "corrupt"
    assert reject_code("no GPS position in EXIF or XMP") == "no_gps"
    assert reject_code("GPS position is 0, 0 (no satellite fix when the photo was taken)") == "no_gps"
    assert reject_code("no camera attitude (gimbal pitch) in the metadata: cannot place detections") == "no_attitude"
    assert reject_code("unexpected error: KeyError: 'x'") == "other"
    # 06:30 UTC is 14:30 in Beijing; an uploaded batch is a 航拍任务, never a 航线.
    assert default_flight_name(datetime(2026, 12, 4, 6, 30, tzinfo=UTC)) == "航拍任务 2026-12-04 14:30"


def _bad_photos(good: Path, out: Path) -> tuple[Path, Path]:
    data = good.read_bytes()
    corrupt = out / "corrupt.jpg"
    corrupt.write_bytes(data[: len(data) // 2])  # cut short: EXIF intact, picture broken
    ok, buf = cv2.imencode(".jpg", cv2.imread(str(good)))  # re-encoded: no EXIF, so no GPS
    assert ok
    nogps = out / "no_gps.jpg"
    nogps.write_bytes(buf.tobytes())
    return corrupt, nogps


def test_flight_detail_has_photos_on_the_ground_and_reasons(live: LiveServer, sim_flight: Path, tmp_path: Path) -> None:
    photos = photos_of(sim_flight)
    corrupt, nogps = _bad_photos(photos[0], tmp_path)
    admin = live.client("admin")
    upload_rivers(admin, sim_flight)
    with live.client("operator") as c:
        r = upload_photos(c, [*photos, corrupt, nogps])
        assert r.status_code == 201, r.text
        flight = r.json()["flight"]
    assert re.fullmatch(r"航拍任务 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", flight["name"])
    d = live.wait_job(flight["id"])
    assert d["job"]["state"] == "done" and d["job"]["error_code"] is None
    assert {(p["name"], p["code"]) for p in d["rejected_photos"]} == {("corrupt.jpg", "corrupt"), ("no_gps.jpg", "no_gps")}
    assert "photos_map" not in d["summary"] and d["summary"]["photos_used"] == len(photos)
    assert d["seen_again"] == [] and d["summary"]["seen_again"] == 0  # the first flight over this river
    placed = d["photos_map"]
    assert [p["name"] for p in placed] == sorted(p.name for p in photos)  # time order = the simulator's order
    for p in placed:
        assert p["corners"] and len(p["corners"]) == 4 and p["position"] and len(p["outline"]) >= 4
        lon, lat = p["position"]
        assert all(abs(c[0] - lon) < 0.01 and abs(c[1] - lat) < 0.01 for c in p["corners"])  # under the drone
    with live.client("viewer") as c:
        r = c.get(placed[0]["thumb_url"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
        assert max(img.shape[:2]) == min(1000, live.config.thumb_max_side)
        assert c.get(f"/api/flights/{flight['id']}/thumbs/{'0' * 64}.jpg").status_code == 404
    with live.client("chief") as c:
        assert c.get(placed[0]["thumb_url"]).status_code == 403


def test_flight_with_nothing_usable_fails(live: LiveServer, sim_flight: Path, tmp_path: Path) -> None:
    corrupt, nogps = _bad_photos(photos_of(sim_flight)[1], tmp_path)
    admin = live.client("admin")
    upload_rivers(admin, sim_flight)
    with live.client("operator") as c:
        flight = upload_photos(c, [corrupt, nogps], name="全部坏照片").json()["flight"]
    d = live.wait_job(flight["id"])
    assert d["job"]["state"] == "failed" and d["job"]["error_code"] == "no_usable_photos"
    assert d["job"]["attempts"] <= 1  # not retried: the photos will not get better
    assert sorted(p["code"] for p in d["rejected_photos"]) == ["corrupt", "no_gps"]
    assert d["photos_map"] == []
