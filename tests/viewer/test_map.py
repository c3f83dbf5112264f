"""Issue 13's map and flight page in real headless Chromium against a real `heyan serve`
with an office MBTiles basemap: zoom and pan, clusters that split as one zooms in, every
marker of the flight clickable (at 1440×900 and on a 390×844 phone) with its popup and
ticket link, the basemap's tiles requested and drawn, GCJ-02 against reference values, the
flight page with a corrupt and a no-GPS photo, a flight with nothing usable shown failed,
and a route() hook that lets no request leave the server."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
from support.mbtiles import BASEMAP_BGR, basemap_over
from support.net import free_port, wait_until_healthy
from viewer_helpers import CHROMIUM, CHROMIUM_ARGS, HEYAN, PASSWORD, Server, _need_browser, login, shot, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
MAP = "document.getElementById('map').heyanMap"


def _bad_copies(good: Path, out: Path) -> list[Path]:
    """A photo cut short (EXIF intact, picture broken) and one re-encoded without EXIF (no GPS)."""
    data = good.read_bytes()
    cut = out / "x1.jpg"
    cut.write_bytes(data[: len(data) // 2])
    ok, buf = cv2.imencode(".jpg", cv2.imread(str(good)))
    assert ok
    bare = out / "x2.jpg"
    bare.write_bytes(buf.tobytes())
    return [cut, bare]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's server: the conftest's, plus the office's MBTiles file, and three flights
    (the simulated one, one with two bad photos, one with nothing usable), processed."""
    _need_browser()
    tmp = tmp_path_factory.mktemp("viewer-map")
    env = dict(os.environ, HEYAN_ADMIN_PASSWORD=PASSWORD, HEYAN_ORT_THREADS="2")
    sim = subprocess.run(HEYAN + ["simulate-flight", "--out", str(tmp / "flight"), "--photos", "6", "--seed", "1"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert sim.returncode == 0, sim.stderr[-1000:]
    rivers = json.loads((tmp / "flight" / "rivers.geojson").read_text(encoding="utf-8"))
    pts = [c for f in rivers["features"] if f["geometry"] and f["geometry"]["type"] == "LineString"
           for c in f["geometry"]["coordinates"]]
    lons, lats = [p[0] for p in pts], [p[1] for p in pts]
    mbtiles = basemap_over(tmp / "office.mbtiles", min(lons), min(lats), max(lons), max(lats), range(13, 18))
    env["HEYAN_SERVE_BASEMAP_MBTILES"] = str(mbtiles)
    port = free_port()
    proc = subprocess.Popen(HEYAN + ["serve", "--data", str(tmp / "data"), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, proc, lambda: (tmp / "server.log").read_text())
        segments = [f["properties"]["id"] for f in rivers["features"] if f["properties"].get("kind") == "segment"]
        srv = Server(url, tmp / "flight", segments)
        photos = sorted((tmp / "flight" / "photos").glob("*.jpg"))
        bad = _bad_copies(photos[0], tmp)
        with srv.client() as admin:
            admin.post("/api/rivers", json=rivers).raise_for_status()
            for name, role in (("operator", "operator"), ("reviewer", "reviewer"), ("chief", "chief")):
                admin.post("/api/users", json={"username": name, "password": PASSWORD, "role": role,
                                               "segments": segments if role == "chief" else []}).raise_for_status()
        with srv.client("operator") as c:
            ids = {}
            for key, files, name in (("demo", photos, "巡河航拍"), ("mixed", [*photos[:2], *bad], "含坏照片"),
                                     ("bad", bad, None)):
                form = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in files]
                r = c.post("/api/flights", files=form, data={"name": name} if name else None)
                r.raise_for_status()
                ids[key] = r.json()["flight"]["id"]
            deadline = time.monotonic() + 400
            while not all(c.get(f"/api/flights/{i}").json()["job"]["state"] in ("done", "failed") for i in ids.values()):
                assert time.monotonic() < deadline, "flights not processed in 400 s"
                time.sleep(1)
        srv.flights = ids  # type: ignore[attr-defined]
        yield srv
    finally:
        stop_server(proc, tmp / "data")


def _page(browser: Any, server: Server, viewport: dict[str, int], phone: bool = False) -> Any:
    """A page whose every request goes through a route() hook: anything not for the server
    (127.0.0.1) is refused and recorded, so a test sees it instead of the office's firewall."""
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True, has_touch=phone, is_mobile=phone,
                              device_scale_factor=1)
    pg = ctx.new_page()
    pg.outside = []
    pg.urls = []
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

    def gate(route: Any) -> None:
        url = route.request.url
        pg.urls.append(url)
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            pg.outside.append(url)
            route.abort()

    pg.route("**/*", gate)
    return pg


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _done(pg: Any) -> None:
    assert not pg.outside, f"requests left the server: {pg.outside}"
    assert not pg.errors, pg.errors
    pg.context.close()


def _tickets(server: Server, flight_id: str) -> list[dict[str, Any]]:
    with server.client() as c:
        return c.get("/api/tickets", params={"flight_id": flight_id, "limit": 500}).json()["items"]


def _visible(pg: Any) -> tuple[int, int, int]:
    """(clusters, single markers, tickets inside the clusters) in the map's view now."""
    return pg.evaluate("""() => {
      const box = document.getElementById('map').getBoundingClientRect();
      const inView = (e) => { const r = e.getBoundingClientRect();
        return r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom; };
      const cl = [...document.querySelectorAll('#map .marker-cluster')].filter(inView);
      const dots = [...document.querySelectorAll('#map .tk-dot')].filter(inView);
      return [cl.length, dots.length, cl.reduce((n, c) => n + (+c.textContent.trim() || 0), 0)];
    }""")


def _zoom(pg: Any) -> int:
    return pg.evaluate(f"{MAP}.map.getZoom()")


def _settle(pg: Any) -> None:
    pg.wait_for_function(f"!document.querySelector('#map.leaflet-zoom-anim') && !{MAP}.map._animatingZoom")
    pg.wait_for_timeout(350)  # the cluster layer redraws after the zoom animation


def _click_every_marker(pg: Any, tickets: list[dict[str, Any]]) -> None:
    for tk in tickets:
        pg.evaluate(f"{MAP}.map.closePopup()")
        assert pg.evaluate(f"id => {MAP}.reveal(id, false)", tk["id"]), tk["id"]
        _settle(pg)
        dot = pg.locator(f'#map .tk-dot[data-ticket="{tk["id"]}"]')
        box = dot.bounding_box()
        assert box and box["width"] >= (30 if pg.viewport_size["width"] < 600 else 20), box  # big enough to hit
        dot.click(timeout=5000)  # a real click: fails if anything else lies over the marker
        popup = pg.locator(f'.leaflet-popup .tk-popup[data-ticket="{tk["id"]}"]')
        popup.wait_for(timeout=5000)
        text = popup.inner_text()
        assert ("乱" in text or "漂浮物" in text or "排口" in text) and "待审核" in text and "河段" in text, text
        assert popup.locator("a.tk-open").get_attribute("href") == f"#/ticket/{tk['id']}"


def test_gcj02_transform_matches_reference_values(browser: Any, server: Server) -> None:
    from heyan.pipeline.geo.gcj02 import wgs84_to_gcj02

    pg = _page(browser, server, DESKTOP)
    pg.goto(server.url + "/")
    pg.wait_for_selector("#login-form")
    got = pg.evaluate("""async (pts) => { const m = await import('/js/gcj02.js');
                         return pts.map(([lat, lon]) => m.wgs84ToGcj02(lat, lon)); }""",
                      [[39.915, 116.404], [31.2304, 121.4737], [30.5, 114.3], [48.8566, 2.3522]])
    # The published value of the transform (coordtransform's README): 116.404, 39.915 -> ...
    assert got[0] == pytest.approx([39.91640428150164, 116.41024449916938], abs=1e-9)
    for (lat, lon), g in zip([[31.2304, 121.4737], [30.5, 114.3]], got[1:3]):
        ref = wgs84_to_gcj02(lat, lon)  # the exports' transform (pipeline.geo.gcj02)
        assert g == pytest.approx([float(ref[0]), float(ref[1])], abs=1e-9)
    assert got[3] == [48.8566, 2.3522]  # outside China: unchanged, as the basemaps do
    _done(pg)


def test_gcj02_basemap_gets_the_features_shifted_onto_it(browser: Any, server: Server) -> None:
    """An XYZ basemap in GCJ-02 (here the server's own tile route as the template): the
    tickets are drawn shifted onto it; on a WGS-84 one they stay where they are."""
    pg = _page(browser, server, DESKTOP)
    login(pg, server, "reviewer")
    got = pg.evaluate("""async (tpl) => {
      const { HeyanMap } = await import('/js/map.js');
      const { wgs84ToGcj02 } = await import('/js/gcj02.js');
      const out = {};
      for (const datum of ['gcj02', 'wgs84']) {
        const box = document.createElement('div');
        box.id = `box-${datum}`;
        box.style.width = '400px'; box.style.height = '300px';
        document.body.append(box);
        const m = new HeyanMap(box, { config: { tile_url: tpl, tile_datum: datum } });
        m.tickets = [{ id: 't1', lat: 30.52, lon: 119.98, state: 'pending_review', category: 'floating_debris' }];
        m.network = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { kind: 'segment', name: 'A' },
          geometry: { type: 'LineString', coordinates: [[119.97, 30.51], [119.99, 30.53]] } }] };
        m.redraw();
        const p = m.markers.get('t1').getLatLng();
        out[datum] = { base: m.base.key, datum: box.dataset.datum, at: [p.lat, p.lng] };
        m.map.setZoom(15); // a zoom the test's tiles have
      }
      out.want = wgs84ToGcj02(30.52, 119.98);
      return out;
    }""", server.url + "/api/basemap/{z}/{x}/{y}")
    assert got["gcj02"]["base"] == "xyz" and got["gcj02"]["datum"] == "gcj02"
    assert got["gcj02"]["at"] == pytest.approx(got["want"], abs=1e-12)
    assert abs(got["gcj02"]["at"][1] - 119.98) > 0.003  # hundreds of metres: the shift is real
    assert got["wgs84"]["at"] == pytest.approx([30.52, 119.98], abs=1e-12)
    pg.wait_for_function("document.querySelector('#box-gcj02 .basemap-xyz img.leaflet-tile-loaded')")
    _done(pg)


def test_map_zoom_pan_clusters_and_every_marker(browser: Any, server: Server) -> None:
    tickets = _tickets(server, server.flights["demo"])  # type: ignore[attr-defined]
    assert len(tickets) >= 4
    pg = _page(browser, server, DESKTOP)
    login(pg, server, "reviewer")
    pg.goto(server.url + "/#/map")
    pg.wait_for_selector("#map .leaflet-tile-loaded")
    pg.wait_for_selector("#map[data-ready]")
    _settle(pg)
    assert _zoom(pg) >= 16, "fitted to the tickets"
    # Segment labels, scale bar, north arrow and a Chinese legend.
    assert pg.locator("#map .seg-label").count() >= 1
    assert "m" in pg.inner_text("#map .leaflet-control-scale")
    assert pg.inner_text("#north-arrow") == "北"
    legend = pg.inner_text("#map-legend")
    assert all(w in legend for w in ("图例", "待审核", "已销号", "河段", "照片覆盖范围", "航迹")), legend

    # Zoom out with the control: the tickets gather into clusters that hold them all.
    pg.evaluate(f"{MAP}.map.closePopup()")
    z0 = _zoom(pg)
    for _ in range(5):
        pg.click("#map .leaflet-control-zoom-out")
        _settle(pg)
    assert _zoom(pg) == z0 - 5
    clusters, singles, inside = _visible(pg)
    assert clusters >= 1 and clusters + singles < len(tickets) and inside + singles == len(tickets)
    # Zoom in on the biggest cluster by clicking it: it splits.
    before = clusters + singles
    for _ in range(8):
        # A real click on a cluster whose middle is not under a marker beside it.
        at = pg.evaluate("""() => {
          for (const c of document.querySelectorAll('#map .marker-cluster')) {
            const r = c.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (c.contains(document.elementFromPoint(x, y))) return [x, y];
          }
          return null;
        }""")
        if not at:
            break
        pg.mouse.click(*at)
        _settle(pg)
    clusters2, singles2, _ = _visible(pg)
    assert singles2 > singles and _zoom(pg) > z0 - 5, (clusters, singles, clusters2, singles2)
    assert clusters2 + singles2 >= before or singles2 == len(tickets)
    # The mouse wheel zooms too.
    z1 = _zoom(pg)
    box = pg.locator("#map").bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.mouse.wheel(0, 400)
    _settle(pg)
    assert _zoom(pg) < z1

    # Pan: drag the map, its centre moves.
    c0 = pg.evaluate(f"{MAP}.map.getCenter()")
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pg.mouse.move(cx, cy)
    pg.mouse.down()
    pg.mouse.move(cx + 150, cy + 80, steps=8)
    pg.mouse.up()
    c1 = pg.evaluate(f"{MAP}.map.getCenter()")
    assert c1["lng"] < c0["lng"] and c1["lat"] > c0["lat"]

    # Every marker of the flight: brought out of its cluster, clicked, its popup opens.
    pg.evaluate(f"{MAP}.fit()")
    _settle(pg)
    shot(pg, "map")
    _click_every_marker(pg, tickets)
    # The popup's link opens the ticket page.
    pg.click(f'.leaflet-popup .tk-popup[data-ticket="{tickets[-1]["id"]}"] a.tk-open')
    pg.wait_for_url(f"**/#/ticket/{tickets[-1]['id']}")
    pg.wait_for_selector("#ticket")
    pg.wait_for_selector(".minimap .tk-dot.highlight")
    _done(pg)


def test_every_marker_on_a_phone(browser: Any, server: Server) -> None:
    tickets = _tickets(server, server.flights["demo"])  # type: ignore[attr-defined]
    pg = _page(browser, server, PHONE, phone=True)
    login(pg, server, "reviewer")
    pg.goto(server.url + "/#/map")
    pg.wait_for_selector("#map[data-ready]")
    _settle(pg)
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the map page is wider than the phone: {width}px"
    assert _zoom(pg) >= 16, "fitted to the tickets"
    shot(pg, "map-phone")
    _click_every_marker(pg, tickets)
    _done(pg)


def test_filters_still_work(browser: Any, server: Server) -> None:
    with server.client() as c:
        every = c.get("/api/tickets?limit=500").json()["items"]
    pg = _page(browser, server, DESKTOP)
    login(pg, server, "reviewer")
    pg.goto(server.url + "/#/map")
    pg.wait_for_selector("#map[data-ready]")
    pg.wait_for_function(f"{MAP}.markers.size === {len(every)}")
    cat = every[0]["category"]
    pg.select_option("#filter-category", cat)
    want = len([t for t in every if t["category"] == cat])
    pg.wait_for_function(f"{MAP}.markers.size === {want}")
    assert pg.inner_text("#map-count").startswith(str(want))
    assert f"category={cat}" in pg.get_attribute("#exports a[data-format=geojson]", "href")
    pg.select_option("#filter-category", "")
    pg.select_option("#filter-flight", server.flights["mixed"])  # type: ignore[attr-defined]
    mixed = _tickets(server, server.flights["mixed"])  # type: ignore[attr-defined]
    pg.wait_for_function(f"{MAP}.markers.size === {len(mixed)} && {MAP}.flight && {MAP}.flight.id === '{server.flights['mixed']}'")  # type: ignore[attr-defined]
    _done(pg)


def test_offline_basemap_is_requested_and_drawn(browser: Any, server: Server) -> None:
    pg = _page(browser, server, DESKTOP)
    login(pg, server, "reviewer")
    pg.goto(server.url + "/#/map")
    pg.wait_for_selector("#map[data-ready]")
    pg.uncheck("#show-photos")  # the office's map alone under the river
    pg.wait_for_function("!document.querySelector('#map img.photo-overlay')")
    _settle(pg)
    pg.wait_for_function("[...document.querySelectorAll('#map .basemap-mbtiles img')].some(i => i.complete && i.naturalWidth === 256)")
    asked = [u for u in pg.urls if "/api/basemap/" in u]
    assert asked, "no basemap tile was requested"
    loaded = pg.eval_on_selector_all("#map .basemap-mbtiles img.leaflet-tile-loaded", "is => is.map(i => i.src)")
    assert loaded and all("/api/basemap/" in s for s in loaded)
    # Drawn: the tiles' colour covers much of the map in a screenshot.
    img = cv2.imdecode(np.frombuffer(pg.locator("#map").screenshot(), np.uint8), cv2.IMREAD_COLOR).astype(int)
    tile = (np.abs(img - np.array(BASEMAP_BGR)) <= 3).all(axis=2)
    assert tile.mean() > 0.3, f"basemap colour on {tile.mean():.0%} of the map"
    _done(pg)


def test_flight_page_lists_rejected_photos_with_reasons(browser: Any, server: Server) -> None:
    fid = server.flights["mixed"]  # type: ignore[attr-defined]
    for viewport, name in ((DESKTOP, "flight"), (PHONE, "flight-phone")):
        pg = _page(browser, server, viewport, phone=viewport is PHONE)
        login(pg, server, "operator")
        pg.goto(server.url + "/#/flights")
        pg.wait_for_selector(f'#flight-list tr[data-flight="{fid}"]')
        pg.click(f'#flight-list tr[data-flight="{fid}"] td:nth-child(2)')  # the row opens it, not only the name
        pg.wait_for_url(f"**/#/flight/{fid}")
        pg.wait_for_selector("#flight-rejected tr[data-code]")
        codes = pg.eval_on_selector_all("#flight-rejected tr[data-code]", "rs => rs.map(r => r.dataset.code).sort()")
        assert codes == ["corrupt", "no_gps"]
        rejected = pg.inner_text("#flight-rejected")
        assert "照片文件损坏或不完整" in rejected and "缺少GPS定位信息" in rejected
        assert pg.locator("#flight-failed").count() == 0
        assert pg.get_attribute("#flight-report-pdf", "href").startswith("/api/blobs/")  # the report to file and print
        summary = pg.inner_text("#flight-summary")
        assert "可用照片" in summary and "无法使用的照片" in summary and "照片文件损坏或不完整 1" in summary
        # The used photos laid on their footprints, the footprints and the track.
        pg.wait_for_function("[...document.querySelectorAll('#map img.photo-overlay')].length === 2 && "
                             "[...document.querySelectorAll('#map img.photo-overlay')].every(i => i.complete && i.naturalWidth > 0)")
        assert pg.locator("#map path.footprint").count() == 2 and pg.locator("#map path.track").count() == 1
        # Its tickets on the map: the earlier flight's it saw again (this one made none).
        with server.client() as c:
            again = c.get(f"/api/flights/{fid}").json()["seen_again"]
        want = sorted(set(again) | {t["id"] for t in _tickets(server, fid)})
        assert again and sorted(pg.evaluate(f"[...{MAP}.markers.keys()]")) == want
        text = pg.inner_text("#main")
        for word in ("corrupt", "no_gps", "GPS position", "truncated", "done", "failed", "flight "):
            assert word not in text, f"untranslated {word!r} on the flight page"
        shot(pg, name)
        _done(pg)


def test_flight_with_nothing_usable_is_failed_in_red(browser: Any, server: Server) -> None:
    fid = server.flights["bad"]  # type: ignore[attr-defined]
    pg = _page(browser, server, DESKTOP)
    login(pg, server, "operator")
    pg.goto(server.url + "/#/flights")
    row = pg.locator(f'#flight-list tr[data-flight="{fid}"]')
    row.wait_for()
    assert row.locator("[data-state=failed]").count() == 1
    assert "失败" in row.inner_text() and "没有一张照片可以使用" in row.inner_text()
    assert row.inner_text().split("\t")[0].startswith("航拍任务 20")  # the default name: Chinese, Beijing time
    row.locator("a").click()
    pg.wait_for_selector("#flight-failed")
    banner = pg.inner_text("#flight-failed")
    assert "处理失败" in banner and "没有一张照片可以使用" in banner and "2 张照片" in banner
    r, g, b = (int(v) for v in pg.eval_on_selector("#flight-failed", "e => getComputedStyle(e).color").strip("rgb()").split(","))
    assert r > 120 and g < 60 and b < 60, "the failure is said in red"
    assert pg.locator("#flight-rejected tr[data-code]").count() == 2
    _done(pg)
