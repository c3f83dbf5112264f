"""Frame sources: reconnect with backoff when a live stream drops, image folders, source
kinds, and no password in logs."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from heyan.edge.config import CameraConfig
from heyan.edge.health import CameraHealth
from heyan.edge.sources import (
    Backoff,
    FrameReader,
    SourceError,
    iter_frames,
    redact,
    source_kind,
)


class FlakyStream:
    """A live stream that refuses the first open, then drops after 5 frames, then works."""

    opens = 0

    def __init__(self) -> None:
        self.fps = 25.0
        self.n = 0

    def open(self) -> None:
        FlakyStream.opens += 1
        if FlakyStream.opens == 1:
            raise SourceError("cannot open rtsp://***@cam/1 (stream)")

    def grab(self) -> bool:
        self.n += 1
        if FlakyStream.opens == 2 and self.n > 5:
            return False  # the stream dropped
        time.sleep(0.002)
        return True

    def retrieve(self):
        return np.full((36, 64, 3), self.n % 255, np.uint8)

    def close(self) -> None:
        pass


def test_live_stream_reconnects_with_backoff_and_keeps_delivering(monkeypatch):
    cam = CameraConfig(id="c", source="rtsp://user:pw@192.0.2.1/stream", reconnect_max_s=0.2)
    health = CameraHealth("c")
    stop = threading.Event()
    reader = FrameReader(cam, health, stop, once=False)
    reader.backoff = Backoff(0.05, 0.2)
    monkeypatch.setattr(reader, "_backend", lambda: FlakyStream())
    reader.start()
    got = []
    for f in iter_frames(reader, stop):
        got.append(f)
        if len(got) >= 20:
            stop.set()
    reader.join(5)
    assert FlakyStream.opens >= 3 and health.reconnects >= 2  # refused once, dropped once
    assert len(got) >= 20 and all(b.ts >= a.ts for a, b in zip(got, got[1:]))
    assert health.state == "stopped"


def test_image_folder_source_in_name_order(tmp_path):
    for i in (3, 1, 2):
        cv2.imwrite(str(tmp_path / f"img{i}.jpg"), np.full((40, 60, 3), i * 40, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    cam = CameraConfig(id="f", source=str(tmp_path), fps=2.0)
    stop = threading.Event()
    reader = FrameReader(cam, CameraHealth("f"), stop, once=True)
    reader.start()
    frames = list(iter_frames(reader, stop))
    assert [int(f.image.mean() // 40) for f in frames] == [1, 2, 3]
    assert abs((frames[1].ts - frames[0].ts) - 0.5) < 1e-6  # 2 fps
    assert reader.end_state == "finished"


def test_source_kinds_and_redaction(tmp_path):
    assert source_kind(0) == "device"
    assert source_kind("rtsp://a/b") == "stream" and source_kind("HTTP://a/b.mjpg") == "stream"
    assert source_kind(str(tmp_path)) == "folder" and source_kind(str(tmp_path / "x.mp4")) == "file"
    assert redact("rtsp://admin:secret@10.1.2.3:554/h264") == "rtsp://***@10.1.2.3:554/h264"
    assert redact("rtsp://10.1.2.3/h264") == "rtsp://10.1.2.3/h264"
    b = Backoff(1.0, 8.0)
    delays = [b.next() for _ in range(6)]
    assert 0.5 <= delays[0] <= 1.5 and all(d <= 12.0 for d in delays) and delays[4] >= 4.0
