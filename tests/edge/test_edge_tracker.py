"""Tracker and debounce: N of M with a median score (Frigate's rule), per class matching,
drifting objects across sparse detector runs, and the event lifecycle on top."""

from __future__ import annotations

import numpy as np

from heyan.edge.config import TrackerConfig
from heyan.edge.events import EventSink, ObjectEvents
from heyan.edge.outbox import Outbox
from heyan.edge.tracker import Tracker
from heyan.vision.detections import Detections
from heyan.vision.nms import pairwise_overlap


def det(*rows: tuple[float, float, float, float, float, int]) -> Detections:
    if not rows:
        return Detections.empty()
    a = np.array(rows, np.float32)
    return Detections(a[:, :4], a[:, 4], a[:, 5].astype(np.int64))


CFG = TrackerConfig(min_hits=3, window=5, end_after_s=10.0, iou_match=0.2, max_center_dist=1.5, max_speed=1.0)


def test_tracker_overlap_is_iou():
    m = pairwise_overlap(np.array([[0, 0, 10, 10]], np.float32), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32))
    assert np.allclose(m, [[1.0, 1 / 3, 0.0]], atol=1e-6)


def test_confirmed_after_n_of_m_with_median_over_threshold():
    tr = Tracker(CFG, {0: 0.5})
    box = (100, 100, 120, 115)
    assert not tr.update(det((*box, 0.9, 0)), 0.0, None).confirmed
    assert not tr.update(det(), 0.5, None).confirmed  # a miss
    assert not tr.update(det((*box, 0.8, 0)), 1.0, None).confirmed  # 2 of 3
    step = tr.update(det((101, 100, 121, 115, 0.7, 0)), 1.5, None)  # 3 of 4, median 0.8
    assert [t.track_id for t in step.confirmed] == [1]
    assert abs(tr.tracks[0].best_score - 0.9) < 1e-6


def test_low_median_never_confirms_and_hopeless_tracks_are_dropped():
    tr = Tracker(CFG, {0: 0.5})
    for i in range(5):
        assert not tr.update(det((10, 10, 30, 30, 0.35, 0)), float(i), None).confirmed  # seen 5/5, median 0.35
    tr2 = Tracker(CFG, {0: 0.5})
    tr2.update(det((10, 10, 30, 30, 0.9, 0)), 0.0, None)
    for i in range(1, 4):
        tr2.update(det(), float(i), None)  # 3 misses in a window of 5: can no longer reach 3 hits
    assert tr2.tracks == []


def test_runs_that_did_not_look_are_not_misses():
    tr = Tracker(CFG, {0: 0.5})
    box = (100, 100, 120, 115)
    tr.update(det((*box, 0.9, 0)), 0.0, None)
    for i in range(1, 6):  # crops elsewhere: the track keeps its chance
        tr.update(det(), float(i), covered=[(400, 400, 720, 720)])
    assert len(tr.tracks) == 1 and list(tr.tracks[0].hits) == [True]
    tr.update(det(), 6.0, covered=[(0, 0, 320, 320)])  # this one looked and missed
    assert list(tr.tracks[0].hits) == [True, False]


def test_classes_do_not_match_each_other():
    tr = Tracker(CFG, {0: 0.5, 2: 0.5})
    tr.update(det((10, 10, 30, 30, 0.9, 0)), 0.0, None)
    tr.update(det((10, 10, 30, 30, 0.9, 2)), 0.5, None)
    assert sorted(t.class_id for t in tr.tracks) == [0, 2]


def test_slow_drift_between_sparse_runs_keeps_one_track():
    """No overlap between runs 10 s apart: centre distance grows with the gap."""
    tr = Tracker(TrackerConfig(min_hits=2, window=3, end_after_s=30.0), {0: 0.5})
    x = 100.0
    confirmed = 0
    for k in range(6):
        step = tr.update(det((x, 200, x + 20, 215, 0.8, 0)), 10.0 * k, None)
        confirmed += len(step.confirmed)
        x += 60  # 3 box widths per run: IoU 0
    assert confirmed == 1 and len(tr.tracks) == 1


def test_two_objects_side_by_side_stay_apart():
    tr = Tracker(CFG, {0: 0.5})
    for i in range(4):
        tr.update(det((100 + i, 100, 130 + i, 120, 0.9, 0), (160 + i, 100, 190 + i, 120, 0.9, 0)), i * 0.5, None)
    assert len(tr.tracks) == 2 and all(t.confirmed for t in tr.tracks)


def test_event_lifecycle_start_update_end(tmp_path):
    ob = Outbox(tmp_path)
    sink = EventSink(ob, "box", "cam", jpeg_quality=80)
    events = ObjectEvents(sink, ("floating_debris",), update_interval_s=2.0)
    tr = Tracker(TrackerConfig(min_hits=2, window=3, end_after_s=3.0), {0: 0.5})
    frame = np.full((120, 160, 3), 90, np.uint8)
    scores = [0.6, 0.6, 0.62, 0.9, 0.9]
    for i, s in enumerate(scores):
        events.handle(tr.update(det((40 + i, 40, 60 + i, 55, s, 0)), 1.0 * i, None, frame), 1.0 * i)
    for ts in (5.0, 6.0, 8.0):
        events.handle(tr.tick(ts), ts)
    rows = ob.events()
    assert len(rows) == 1
    body = rows[0]["body"]
    assert rows[0]["seq"] == 3  # start, one update (better snapshot), end
    assert body["phase"] == "end" and body["kind"] == "object" and body["class"] == "floating_debris"
    assert body["started_at"] < body["ended_at"] and body["snapshot_sha256"] and body["crop_sha256"]
    assert body["ended_at"].endswith("Z") and body["details"]["best_score"] == 0.9
    assert ob.media_path(body["snapshot_sha256"]).read_bytes()[:2] == b"\xff\xd8"  # a JPEG


def test_a_track_does_not_jump_to_a_small_false_detection_nearby():
    tr = Tracker(TrackerConfig(min_hits=2, window=3, end_after_s=30.0), {0: 0.3})
    tr.update(det((500, 680, 560, 730, 0.6, 0)), 0.0, None)
    tr.update(det((530, 687, 586, 733, 0.6, 0)), 0.5, None)
    # 2 s later the object moved on (no overlap) and a tiny false box sits a bit closer
    tr.update(det((628, 698, 686, 745, 0.57, 0), (613, 651, 626, 661, 0.32, 0)), 2.5, None)
    big = [t for t in tr.tracks if t.confirmed]
    assert len(big) == 1 and big[0].box[0] == 628 and list(big[0].hits) == [True, True, True]
