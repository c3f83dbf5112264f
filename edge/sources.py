"""Frame sources: one reader thread per camera that opens the source, reads frames, and
reconnects with exponential backoff when it drops.

Source kinds, from the config's ``source``:

- ``rtsp://``/``rtmp://``/``http(s)://`` URL: a live stream (FFmpeg, RTSP over TCP);
- an integer (or digits): a local capture device;
- a folder: its images in name order (cheap cameras that FTP a still every few seconds);
  as a service, new images are picked up as they arrive;
- anything else: a video file.

Live frames go to the analysis through a one-slot mailbox: when analysis is slower than the
stream, the oldest frame is dropped (and counted) so latency never grows. File frames are
never dropped: the reader waits for the analysis.

Timestamps: live frames carry the wall clock at reading; file and folder frames carry the
time the file started playing plus their offset in the video, so every time rule (debounce,
outfall durations, periodic detection) behaves the same whether a file is played in real
time or as fast as the CPU allows (``--once``).
"""

from __future__ import annotations

import logging
import os
import queue
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from heyan.edge.config import CameraConfig
from heyan.edge.health import CameraHealth

log = logging.getLogger("heyan.edge.sources")

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
LIVE_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")

# RTSP over UDP loses packets on busy links and shows as smeared frames; TCP is the safer
# default for unattended boxes. Respect an operator's own setting.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


@dataclass
class Frame:
    image: np.ndarray
    ts: float  # seconds since the epoch (see the module docstring)
    index: int  # frames delivered by this source since the runner started
    read_mono: float  # time.monotonic() when read: for latency measurements


class SourceError(RuntimeError):
    """The source cannot be opened or read; the message says which and why."""


def source_kind(source: str | int) -> str:
    if isinstance(source, int):
        return "device"
    if source.lower().startswith(LIVE_SCHEMES):
        return "stream"
    if Path(source).is_dir():
        return "folder"
    return "file"


def redact(source: str | int) -> str:
    """Camera URLs carry passwords: never log them."""
    s = str(source)
    if "://" in s and "@" in s.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = s.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return s


class Backoff:
    """1 s, 2 s, 4 s ... up to ``cap``, each with ±50 % jitter."""

    def __init__(self, base: float = 1.0, cap: float = 60.0) -> None:
        self.base, self.cap, self.n = base, cap, 0

    def next(self) -> float:
        d = min(self.cap, self.base * 2**self.n)
        self.n += 1
        return d * random.uniform(0.5, 1.5)

    def reset(self) -> None:
        self.n = 0


# --------------------------------------------------------------------------- backends


class VideoBackend:
    """Video file, live stream or device through cv2.VideoCapture."""

    def __init__(self, source: str | int, kind: str, timeout_s: float) -> None:
        self.source, self.kind, self.timeout_s = source, kind, timeout_s
        self.cap: cv2.VideoCapture | None = None
        self.fps = 25.0

    def open(self) -> None:
        if self.kind == "file" and not Path(str(self.source)).is_file():
            raise SourceError(f"video file not found: {self.source}")
        ms = int(self.timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        if self.kind == "device":
            cap = cv2.VideoCapture(int(self.source))
        else:
            cap = cv2.VideoCapture(str(self.source), cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot open {redact(self.source)} ({self.kind})")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 240.0 else 25.0
        self.cap = cap

    def grab(self) -> bool:
        assert self.cap is not None
        return bool(self.cap.grab())

    def retrieve(self) -> np.ndarray | None:
        assert self.cap is not None
        ok, img = self.cap.retrieve()
        return img if ok and img is not None and img.size else None

    def close(self) -> None:
        if self.cap is not None:
            self.cap.release()
            self.cap = None


class FolderBackend:
    """Images of a folder in name order; ``follow`` keeps watching for new ones."""

    def __init__(self, folder: Path, fps: float, follow: bool) -> None:
        self.folder, self.fps, self.follow = folder, fps, follow
        self.seen: set[str] = set()
        self._pending: list[Path] = []
        self._current: Path | None = None

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"image folder not found: {self.folder}")

    def _scan(self) -> None:
        new = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and p.name not in self.seen)
        self._pending.extend(new)
        self.seen.update(p.name for p in new)

    def grab(self) -> bool:
        if not self._pending:
            self._scan()
        if not self._pending:
            return False
        self._current = self._pending.pop(0)
        return True

    def retrieve(self) -> np.ndarray | None:
        if self._current is None:
            return None
        img = cv2.imread(str(self._current), cv2.IMREAD_COLOR)
        if img is None:
            log.warning("skipping unreadable image %s", self._current)
        return img

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- reader thread


class FrameReader(threading.Thread):
    """Reads one camera into ``self.frames`` (a queue); ``None`` in the queue means the
    source has ended for good (a file in --once mode, or stop)."""

    def __init__(self, cam: CameraConfig, health: CameraHealth, stop: threading.Event, once: bool) -> None:
        super().__init__(name=f"read-{cam.id}", daemon=True)
        self.cam, self.health, self.stop_event, self.once = cam, health, stop, once
        self.kind = source_kind(cam.source)
        self.live = self.kind in ("stream", "device")
        self.frames: queue.Queue[Frame | None] = queue.Queue(maxsize=1 if self.live else 4)
        self.backoff = Backoff(1.0, cam.reconnect_max_s)
        self.ended = threading.Event()
        self.end_state: str | None = None
        self._reconnect = threading.Event()
        self._index = 0
        self.paced = not once and cam.realtime and self.kind == "file"
        self.min_interval = 1.0 / cam.analyse_fps if cam.analyse_fps else 0.0

    def request_reconnect(self) -> None:
        """Asked by the analysis when the stream looks frozen."""
        self._reconnect.set()

    def _backend(self) -> VideoBackend | FolderBackend:
        if self.kind == "folder":
            return FolderBackend(Path(str(self.cam.source)), self.cam.fps, follow=not self.once)
        return VideoBackend(self.cam.source, self.kind, self.cam.open_timeout_s)

    def _put(self, frame: Frame | None) -> None:
        if self.live and frame is not None:
            try:
                self.frames.put_nowait(frame)
            except queue.Full:
                try:  # drop the oldest: analysis is behind, keep latency bounded
                    self.frames.get_nowait()
                    self.health.frames_dropped += 1
                except queue.Empty:
                    pass
                self.frames.put_nowait(frame)
            return
        while not self.stop_event.is_set():
            try:
                self.frames.put(frame, timeout=0.2)
                return
            except queue.Full:
                continue

    def _end(self, state: str) -> None:
        self.health.state = state
        self.end_state = state
        self.ended.set()
        # The end marker must get through even if the queue is full.
        while True:
            try:
                self.frames.put(None, timeout=0.2)
                return
            except queue.Full:
                if self.stop_event.is_set():
                    try:
                        self.frames.get_nowait()
                    except queue.Empty:
                        pass

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a reader bug must not take the box down
            log.exception("camera %s: reader crashed", self.cam.id)
            self.health.last_error = f"reader crashed: {exc!r}"
            self._end("error")

    def _run(self) -> None:
        cam = self.cam
        anchor = time.time()  # wall time at which the file's first frame "happened"
        while not self.stop_event.is_set():
            backend = self._backend()
            try:
                backend.open()
            except SourceError as exc:
                self.health.last_error = str(exc)
                if self.once and not self.live:
                    log.error("camera %s: %s", cam.id, exc)
                    self._end("error")
                    return
                delay = self.backoff.next()
                self.health.state = "error" if self.health.reconnects == 0 and self.health.frames_read == 0 else "reconnecting"
                log.error("camera %s: %s; retrying in %.0f s", cam.id, exc, delay)
                self.health.reconnects += 1
                self.stop_event.wait(delay)
                continue
            log.info("camera %s: opened %s (%s, %.1f fps)", cam.id, redact(cam.source), self.kind, backend.fps)
            self.health.state = "running"
            self.health.last_error = None
            outcome = self._read_loop(backend, anchor)
            backend.close()
            if outcome == "stop":
                break
            if outcome == "eof":
                if self.once or not cam.loop:
                    log.info("camera %s: end of %s", cam.id, redact(cam.source))
                    self._end("finished")
                    return
                anchor = self._last_ts + 1.0 / backend.fps  # loop: time goes on
                continue
            # "dropped": the stream failed (or froze): reconnect after a backoff
            delay = self.backoff.next()
            self.health.state = "reconnecting"
            self.health.reconnects += 1
            log.warning("camera %s: %s; reconnecting in %.1f s", cam.id, self.health.last_error, delay)
            self.stop_event.wait(delay)
        self._end("stopped")

    _last_ts = 0.0

    def _read_loop(self, backend: VideoBackend | FolderBackend, anchor: float) -> str:
        i = 0  # frame number within this open
        next_analyse = -1e18
        t0_mono = time.monotonic()
        while not self.stop_event.is_set():
            if self._reconnect.is_set():
                self._reconnect.clear()
                if self.live:
                    self.health.last_error = "stream frozen"
                    return "dropped"
            if not backend.grab():
                if self.kind == "folder" and not self.once:
                    self.stop_event.wait(1.0)  # wait for the next uploaded still
                    continue
                if self.live:
                    self.health.last_error = f"stream {redact(self.cam.source)} stopped delivering frames"
                    return "dropped"
                return "eof"
            self.backoff.reset()
            if self.live or (self.kind == "folder" and not self.once):
                ts = time.time()
            else:
                ts = anchor + i / backend.fps
            i += 1
            if self.paced:  # play a file at its own speed when running as a service
                lag = (t0_mono + (i - 1) / backend.fps) - time.monotonic()
                if lag > 0:
                    self.stop_event.wait(lag)
            if ts < next_analyse:
                continue  # analyse_fps: skip without decoding colour
            next_analyse = ts + self.min_interval - 1e-6
            img = backend.retrieve()
            if img is None:
                continue
            self.health.frames_read += 1
            self._last_ts = ts
            self._put(Frame(img, ts, self._index, time.monotonic()))
            self._index += 1
        return "stop"


def iter_frames(reader: FrameReader, stop: threading.Event) -> Iterator[Frame]:
    """Frames of a reader until its end marker (or stop)."""
    while True:
        try:
            f = reader.frames.get(timeout=0.2)
        except queue.Empty:
            if stop.is_set():
                return
            continue
        if f is None:
            return
        yield f
