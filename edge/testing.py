"""Test and demo helpers for the edge runner: synthetic fixed-camera video, a colour-blob
"detector" that needs no ONNX file, and a fake server speaking the edge HTTP contract.

The video generator makes what a camera over a river sees all day: water whose ripples move
and oscillate, sun glint that sparkles, an object drifting across, and an outfall mouth
whose discharge (flow) and colour change on a schedule. Ground truth comes back with it, so
tests can assert when the gate fires and when outfall events start. Written with
``cv2.VideoWriter`` as MJPG in .avi, which every OpenCV build can write and read back.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from datasets.synthetic.textures import directional_ripples, fractal_noise, land_texture
from pipeline.rules import EDGE_EVENT_KINDS
from vision.classes import class_names
from vision.detections import Detections

BGR = tuple[int, int, int]


# --------------------------------------------------------------------------- scene spec


@dataclass
class MovingObject:
    """A floating object visible from ``t0`` to ``t1`` seconds, its centre moving linearly
    from ``start`` to ``end`` (relative 0-1 image coordinates)."""

    t0: float
    t1: float
    start: tuple[float, float]
    end: tuple[float, float]
    size: float = 0.05  # diameter, fraction of the image width
    colour_bgr: BGR = (0, 140, 255)  # orange plastic: bright in grey, saturated in colour
    seed: int = 0
    # "blob": the orange clump above (what testing:blobs finds); "debris": a floating-debris
    # sprite of datasets.synthetic, what heyan-det-v1 was trained on (colour_bgr unused).
    sprite: str = "blob"


@dataclass
class OutfallSpec:
    """A pipe mouth in the bank at relative x ``x``; discharge during ``flow`` intervals;
    the water at the mouth takes colour ``c`` during ``colour`` intervals (t0, t1, c)."""

    x: float = 0.5
    flow: list[tuple[float, float]] = field(default_factory=list)
    colour: list[tuple[float, float, BGR]] = field(default_factory=list)
    foam_bgr: BGR = (185, 190, 190)


@dataclass
class SceneSpec:
    width: int = 640
    height: int = 360
    fps: float = 10.0
    seconds: float = 10.0
    seed: int = 0
    bank_frac: float = 0.22  # top part of the image is the opposite bank
    ripple_amp: float = 9.0  # grey levels
    ripple_speed: float = 0.03  # image widths per second
    glint: float = 1.0  # 0: none, 1: a sun column with moving highlights and sparkles
    noise: float = 2.0  # sensor noise, grey levels
    objects: list[MovingObject] = field(default_factory=list)
    outfall: OutfallSpec | None = None
    freeze_after_s: float | None = None  # from then on every frame repeats (a frozen stream)
    render_scale: float = 1.0  # draw at this scale and resize (keeps 1080p generation fast)

    @property
    def n_frames(self) -> int:
        return int(round(self.seconds * self.fps))

    def outfall_roi(self) -> list[list[float]] | None:
        """The mouth ROI (relative polygon) a config for this scene should use."""
        if self.outfall is None:
            return None
        x, b = self.outfall.x, self.bank_frac
        return [[x - 0.035, b - 0.03], [x + 0.035, b - 0.03], [x + 0.07, b + 0.12], [x - 0.07, b + 0.12]]

    def water_roi(self) -> list[list[float]]:
        b = self.bank_frac + 0.01
        return [[0.0, b], [1.0, b], [1.0, 1.0], [0.0, 1.0]]


@dataclass
class SceneTruth:
    fps: float
    n_frames: int
    width: int
    height: int
    # per frame: list of (x1, y1, x2, y2) of the visible objects, full-size pixels
    boxes: list[list[tuple[float, float, float, float]]]

    def to_json(self) -> dict[str, Any]:
        return {"fps": self.fps, "n_frames": self.n_frames, "width": self.width, "height": self.height, "boxes": self.boxes}


def _in(t: float, intervals: Sequence[tuple[float, float]]) -> bool:
    return any(a <= t < b for a, b in intervals)


def _blob_sprite(rng: np.random.Generator, d: int, colour: BGR) -> tuple[np.ndarray, np.ndarray]:
    """A rough plastic/foam clump: irregular polygon, shaded, soft edge."""
    d = max(4, d)
    n = 12
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = d / 2 * (0.75 + 0.25 * rng.uniform(-1, 1, n))
    pts = np.stack([d / 2 + r * np.cos(ang), d / 2 + r * 0.7 * np.sin(ang)], 1).astype(np.int32)
    alpha = np.zeros((d, d), np.float32)
    cv2.fillPoly(alpha, [pts], 1.0, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.6, d / 40))
    yy, xx = np.mgrid[0:d, 0:d].astype(np.float32)
    shade = 1.0 + 0.25 * ((xx - d / 2) - (yy - d / 2)) / d
    bgr = np.clip(np.array(colour, np.float32)[None, None, :] * shade[..., None], 0, 255)
    return bgr, alpha


class SceneRenderer:
    """Frames of a ``SceneSpec``; ``frame(i)`` -> (BGR uint8 full size, boxes)."""

    def __init__(self, spec: SceneSpec) -> None:
        self.spec = spec
        s = spec.render_scale
        self.w, self.h = max(16, int(round(spec.width * s))), max(16, int(round(spec.height * s)))
        w, h = self.w, self.h
        rng = np.random.default_rng(spec.seed)
        self.rng = rng
        self.bank_y = int(spec.bank_frac * h)
        # Static parts: the far bank with a concrete edge, and the water's slow patterns.
        self.bank = land_texture(rng, max(1, self.bank_y), w, 0.05)
        edge = max(2, h // 60)
        self.bank[-edge:] = (150, 152, 150)
        base = np.array([95, 108, 92], np.float32) + rng.normal(0, 4, 3)
        self.water_base = np.empty((h - self.bank_y, w, 3), np.float32)
        self.water_base[:] = base
        self.water_base += fractal_noise(rng, h - self.bank_y, w, max(8.0, w / 8), 3)[..., None] * 6
        # Moving ripples: two fields wide enough to slide across for the whole video without
        # wrapping (a wrap seam would be a moving edge the gate rightly fires on).
        wh = h - self.bank_y
        travel = int(spec.ripple_speed * w * spec.seconds * 1.6) + 8
        wl = max(3.0, w / 90)
        self.r1 = directional_ripples(rng, wh, w + travel, wl, 0.3)
        self.r2 = directional_ripples(rng, wh, w + travel, wl * 1.7, 1.2)
        self.travel = travel
        # Ripples are smaller far away (top of the water) than near the camera.
        self.depth_amp = np.linspace(0.45, 1.0, wh, dtype=np.float32)[:, None]
        sun_x = rng.uniform(0.3, 0.7) * w
        xs = np.arange(w, dtype=np.float32)
        self.sun = np.exp(-0.5 * ((xs - sun_x) / (0.12 * w)) ** 2)[None, :] * spec.glint
        self.sun_x = sun_x
        self.noise_frames = [rng.normal(0, spec.noise, (h, w, 1)).astype(np.float32) for _ in range(5)] if spec.noise > 0 else []
        self.sprites = []
        for obj in spec.objects:
            orng = np.random.default_rng([spec.seed, obj.seed, 7])
            if obj.sprite == "debris":
                from datasets.synthetic.sprites import floating_debris

                sprite = floating_debris(orng, obj.size * w)
                self.sprites.append((sprite.bgr, sprite.alpha))
            elif obj.sprite == "blob":
                self.sprites.append(_blob_sprite(orng, int(obj.size * w), obj.colour_bgr))
            else:
                raise ValueError(f"MovingObject.sprite: {obj.sprite!r} is not 'blob' or 'debris'")
        if spec.outfall is not None:
            self._init_outfall(spec.outfall)
        self._frozen: tuple[np.ndarray, list] | None = None

    def _init_outfall(self, of: OutfallSpec) -> None:
        w, h = self.w, self.h
        self.mouth = (int(of.x * w), self.bank_y - max(2, h // 60))
        self.mouth_r = max(3, int(0.025 * w))
        plume = np.zeros((h, w), np.float32)
        cx, y0 = self.mouth[0], self.bank_y
        pts = np.array([[cx - self.mouth_r, y0], [cx + self.mouth_r, y0], [cx + int(0.07 * w), y0 + int(0.13 * h)],
                        [cx - int(0.07 * w), y0 + int(0.13 * h)]], np.int32)
        cv2.fillConvexPoly(plume, pts, 1.0, cv2.LINE_AA)
        self.plume = cv2.GaussianBlur(plume, (0, 0), max(1.0, w / 200))[..., None]
        self.foam_noise = fractal_noise(self.rng, h * 2, w, max(2.0, w / 120), 3)

    def frame(self, i: int) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
        spec = self.spec
        t = i / spec.fps
        if spec.freeze_after_s is not None and t >= spec.freeze_after_s and self._frozen is not None:
            return self._frozen
        w, h = self.w, self.h
        img = np.empty((h, w, 3), np.float32)
        img[: self.bank_y] = self.bank
        o1 = int(spec.ripple_speed * w * t) % self.travel
        o2 = int(spec.ripple_speed * w * t * 0.6) % self.travel
        # Moving crests plus a standing oscillation: the hardest case for frame differencing.
        rip = self.r1[:, o1 : o1 + w] * np.cos(2 * np.pi * t / 1.7) + self.r2[:, o2 : o2 + w] * 0.8
        rip *= self.depth_amp
        water = self.water_base + (rip * spec.ripple_amp)[..., None]
        if spec.glint > 0:
            # Specular: each highlight is an image of the sun, far brighter than the water, so
            # it saturates; away from the sun's column highlights get rarer, not dimmer
            # (fewer wave facets are tilted right), as in the Cox-Munk glitter model.
            hi = np.clip((rip - (1.6 + 2.0 * (1.0 - self.sun))) * 4.0, 0, 1) * 220.0
            water += hi[..., None]
        img[self.bank_y :] = water
        if spec.glint > 0:  # short-lived sparkles in the sun column
            n = int(30 * spec.glint * (w / 640) ** 2) + 1
            rng = np.random.default_rng([spec.seed, i, 3])
            xs = rng.normal(self.sun_x, 0.1 * w, n).astype(int)
            ys = rng.integers(self.bank_y, h, n)
            for x, y in zip(xs, ys):
                if 0 <= x < w:
                    cv2.circle(img, (int(x), int(y)), max(1, w // 640), (255, 255, 255), -1)
        if spec.outfall is not None:
            self._draw_outfall(img, t, i)
        boxes: list[tuple[float, float, float, float]] = []
        sx, sy = spec.width / w, spec.height / h
        for obj, (sbgr, salpha) in zip(spec.objects, self.sprites):
            if not obj.t0 <= t < obj.t1:
                continue
            f = (t - obj.t0) / max(obj.t1 - obj.t0, 1e-6)
            cx = (obj.start[0] + f * (obj.end[0] - obj.start[0])) * w
            cy = (obj.start[1] + f * (obj.end[1] - obj.start[1])) * h + 0.003 * h * np.sin(2 * np.pi * t / 2.3)
            b = _composite(img, sbgr, salpha, int(round(cx - sbgr.shape[1] / 2)), int(round(cy - sbgr.shape[0] / 2)))
            if b is not None:
                boxes.append((b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy))
        if self.noise_frames:
            img += self.noise_frames[i % len(self.noise_frames)]
        out = np.clip(img, 0, 255).astype(np.uint8)
        if (w, h) != (spec.width, spec.height):
            out = cv2.resize(out, (spec.width, spec.height), interpolation=cv2.INTER_LINEAR)
        if spec.freeze_after_s is not None and t >= spec.freeze_after_s:
            self._frozen = (out, boxes)
        return out, boxes

    def _draw_outfall(self, img: np.ndarray, t: float, i: int) -> None:
        of = self.spec.outfall
        assert of is not None
        cv2.ellipse(img, self.mouth, (self.mouth_r, max(2, self.mouth_r * 2 // 3)), 0, 0, 360, (35, 38, 40), -1, cv2.LINE_AA)
        colour = next((np.array(c, np.float32) for a, b, c in of.colour if a <= t < b), None)
        if colour is not None:
            a = self.plume * 0.85
            img[:] = img * (1 - a) + colour[None, None, :] * a
        if _in(t, of.flow):
            h, w = self.h, self.w
            off = int((t * 0.8 * h) % h)  # foam streams away from the mouth
            nz = self.foam_noise[h - off : 2 * h - off, :w]
            jitter = np.random.default_rng([self.spec.seed, i, 5]).normal(0, 0.35, (h // 4 + 1, w // 4 + 1)).astype(np.float32)
            jitter = cv2.resize(jitter, (w, h), interpolation=cv2.INTER_LINEAR)
            foam = np.clip(0.55 + 0.35 * nz + jitter, 0, 1)[..., None]
            base = colour if colour is not None else np.array(of.foam_bgr, np.float32)
            a = self.plume * foam
            # Turbulence shows as light and shade whatever the water's colour, and even a
            # dark discharge carries white foam and bubbles where it falls.
            img[:] = img * (1 - a) + base[None, None, :] * (0.5 + foam) * a
            fleck = self.plume * np.clip((foam - 0.7) * 3.0, 0, 1)
            img[:] = img * (1 - fleck) + 215.0 * fleck
            # the jet leaving the pipe
            cv2.ellipse(img, (self.mouth[0], self.mouth[1] + self.mouth_r // 2), (self.mouth_r, self.mouth_r),
                        0, 0, 180, (base * (0.8 + 0.2 * np.sin(i))).tolist(), -1)


def _composite(dst: np.ndarray, bgr: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> tuple[int, int, int, int] | None:
    h, w = alpha.shape
    H, W = dst.shape[:2]
    x1, y1, x2, y2 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if x2 <= x1 or y2 <= y1:
        return None
    a = alpha[y1 - y0 : y2 - y0, x1 - x0 : x2 - x0, None]
    dst[y1:y2, x1:x2] = dst[y1:y2, x1:x2] * (1 - a) + bgr[y1 - y0 : y2 - y0, x1 - x0 : x2 - x0] * a
    ys, xs = np.nonzero(a[..., 0] > 0.3)
    if len(xs) == 0:
        return None
    return (x1 + int(xs.min()), y1 + int(ys.min()), x1 + int(xs.max()) + 1, y1 + int(ys.max()) + 1)


def iter_frames(spec: SceneSpec) -> Iterator[tuple[np.ndarray, list[tuple[float, float, float, float]]]]:
    r = SceneRenderer(spec)
    for i in range(spec.n_frames):
        yield r.frame(i)


def write_video(path: str | Path, spec: SceneSpec) -> SceneTruth:
    """Render ``spec`` to an MJPG .avi and return the per-frame ground truth."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), spec.fps, (spec.width, spec.height))
    if not writer.isOpened():
        raise RuntimeError(f"{path}: OpenCV cannot write MJPG video here")
    boxes: list[list[tuple[float, float, float, float]]] = []
    try:
        for frame, b in iter_frames(spec):
            writer.write(frame)
            boxes.append(b)
    finally:
        writer.release()
    return SceneTruth(spec.fps, len(boxes), spec.width, spec.height, boxes)


# --------------------------------------------------------------------------- blob detector


class BlobDetector:
    """Finds strongly saturated blobs (the generator's plastic) as ``floating_debris``.

    Selected in a config with ``detector.model: "testing:blobs"``: the runner's tests and
    demos run end to end, deterministically, without an ONNX model. Not for production.
    """

    imgsz = 320

    def __init__(self, min_saturation: int = 150, min_area_px: int = 12, score: float = 0.9) -> None:
        self.min_saturation = min_saturation
        self.min_area_px = min_area_px
        self.score = score
        self.class_names = tuple(class_names())

    def predict_batch(self, images: Sequence[np.ndarray], **_: Any) -> list[Detections]:
        return [self(im) for im in images]

    def __call__(self, image: np.ndarray) -> Detections:
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        mask = ((hsv[..., 1] >= self.min_saturation) & (hsv[..., 2] >= 80)).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        boxes, scores = [], []
        for k in range(1, n):
            x, y, w, h, area = stats[k]
            if area >= self.min_area_px:
                boxes.append((x, y, x + w, y + h))
                scores.append(self.score)
        if not boxes:
            return Detections.empty()
        return Detections(np.array(boxes, np.float32), np.array(scores, np.float32), np.zeros(len(boxes), np.int64))


# --------------------------------------------------------------------------- fake server


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
                    import time

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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- a demo site


@dataclass
class DemoSite:
    """A river and a calibrated camera that agree with ``SceneSpec``'s picture: the camera
    stands on the south bank of a river flowing east and looks north across it, so the
    generated water is the river's water and the far bank is its north bank. For tests,
    benchmarks and demos that need events on a real river network (server side)."""

    lon0: float = 120.0
    lat0: float = 30.5
    width_m: float = 40.0  # water from n = -20 to +20 m
    outfall_id: str = "YS-001"  # a registered outfall (一口一档) on the far bank

    def ll(self, east: float, north: float) -> list[float]:
        """[lon, lat] of a point ``east``/``north`` metres from the site's origin."""
        from pipeline.utm import LocalFrame

        lon, lat = LocalFrame(self.lon0, self.lat0).enu_to_lonlat(np.array(east, float), np.array(north, float))
        return [float(lon), float(lat)]

    def network(self) -> dict[str, Any]:
        """River network GeoJSON (docs/rivers.md): one segment with its chiefs, the outfall."""
        chiefs = {"county": {"name": "县长丙"}, "township": {"name": "镇长乙"}, "village": {"name": "村长甲"}}
        return {"type": "FeatureCollection", "name": "demo site", "features": [
            {"type": "Feature", "properties": {"kind": "segment", "id": "seg-1", "name": "双桥港示范段", "river": "双桥港",
                                               "chiefs": chiefs, "width_m": self.width_m, "buffer_m": 50},
             "geometry": {"type": "LineString", "coordinates": [self.ll(-1000, 0), self.ll(1000, 0)]}},
            {"type": "Feature", "properties": {"kind": "outfall", "id": self.outfall_id, "name": "示范雨水口",
                                               "outfall_type": "rain", "segment_id": "seg-1"},
             "geometry": {"type": "Point", "coordinates": self.ll(0, self.width_m / 2 + 1)}},
        ]}

    def calibration(self, spec: SceneSpec, path: str | Path, noise_m: float = 0.7) -> Path:
        """A homography calibration of ``spec``'s camera (``heyan calibrate``'s file): the
        bottom of the picture is the near edge of the water (24 m wide), the bank line at
        ``spec.bank_frac`` the far edge (80 m wide). ``noise_m`` perturbs the 9 control points
        as a survey would, which gives events a realistic error_m."""
        from pipeline.calibration import ControlPoint, calibrate, save_calibration

        w, h = spec.width, spec.height
        top = spec.bank_frac * h
        edge = self.width_m / 2 - 1.0
        src = np.array([[0, h], [w, h], [w, top], [0, top]], np.float32)
        dst = np.array([[-12, -edge], [12, -edge], [40, edge], [-40, edge]], np.float32)
        hom = cv2.getPerspectiveTransform(src, dst)
        rng = np.random.default_rng(7)
        pts = []
        for fy in (0.0, 0.5, 1.0):
            for fx in (0.05, 0.5, 0.95):
                px = np.array([[[fx * w, top + fy * (h - top)]]], np.float32)
                e, n = cv2.perspectiveTransform(px, hom)[0, 0] + rng.normal(0, noise_m, 2)
                lon, lat = self.ll(float(e), float(n))
                pts.append(ControlPoint(pixel=(float(px[0, 0, 0]), float(px[0, 0, 1])), lat=lat, lon=lon))
        calib = calibrate(pts, image_size=(w, h), method="homography")
        save_calibration(calib, path)
        return Path(path)
