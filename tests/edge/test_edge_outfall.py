"""Outfall watch on generated sequences: flow on/off at a rain outfall in dry weather, colour
shift against the learnt baseline, hysteresis, and no events when nothing changes."""

from __future__ import annotations

import cv2

from heyan.datasets.synthetic.camera_video import OutfallSpec, SceneRenderer, SceneSpec
from heyan.edge.config import OutfallConfig
from heyan.edge.outfall import Hysteresis, OutfallWatch, mean_lab

BLACK_SEWAGE = (30, 35, 40)  # 黑臭: dark grey-black discharge


def _watch(spec: SceneSpec, cfgs: list[OutfallConfig]) -> list[tuple[float, object]]:
    r = SceneRenderer(spec)
    watches = [OutfallWatch(c, spec.width, spec.height) for c in cfgs]
    out = []
    for i in range(spec.n_frames):
        img, _ = r.frame(i)
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1], cv2.IMREAD_COLOR)
        ts = i / spec.fps
        frame_lab = mean_lab(cv2.resize(img, (64, 36), interpolation=cv2.INTER_AREA))
        for w in watches:
            out += [(ts, ch) for ch in w.update(img, ts, frame_lab)]
    return out


def _cfg(spec: SceneSpec, **kw) -> OutfallConfig:
    base = {"id": "of-1", "roi": spec.outfall_roi(), "type": "rain",
            "flow": {"window_s": 1.0, "min_on_s": 2.0, "min_off_s": 3.0},
            "colour": {"learn_s": 3.0, "window_s": 1.0, "min_on_s": 2.0, "min_off_s": 2.0}}
    base.update(kw)
    return OutfallConfig.model_validate(base)


def test_dry_weather_discharge_starts_and_ends_on_time():
    spec = SceneSpec(seconds=19, fps=10, seed=7, outfall=OutfallSpec(x=0.45, flow=[(4.0, 11.0)]))
    changes = _watch(spec, [_cfg(spec), _cfg(spec, id="of-sewage", type="sewage")])
    got = [(round(ts, 1), ch.outfall_id, ch.kind, ch.phase, round(ch.since, 1)) for ts, ch in changes]
    print("\n", got)
    assert [(c[1], c[2], c[3]) for c in got] == [("of-1", "dry_weather_discharge", "start"), ("of-1", "dry_weather_discharge", "end")]
    (t_start, *_, since_start), (t_end, *_, since_end) = got
    assert 4.0 <= since_start <= 5.0  # flow began at 4 s (plus the activity window)
    assert since_start + 2.0 <= t_start <= since_start + 2.2  # reported after min_on_s
    assert 11.0 <= since_end <= 12.5  # flow stopped at 11 s (plus the 1 s activity window)
    assert since_end + 3.0 <= t_end <= since_end + 3.2  # after min_off_s
    assert changes[0][1].details["outfall_type"] == "rain"


def test_abnormal_colour_against_learnt_baseline():
    spec = SceneSpec(seconds=18, fps=10, seed=8,
                     outfall=OutfallSpec(x=0.5, flow=[(0.0, 18.0)], colour=[(8.0, 13.0, BLACK_SEWAGE)]))
    changes = _watch(spec, [_cfg(spec, type="sewage")])  # sewage: flowing is normal, colour is not
    got = [(round(ts, 1), ch.kind, ch.phase, round(ch.since, 1)) for ts, ch in changes]
    print("\n", got)
    assert [(k, p) for _, k, p, _ in got] == [("abnormal_colour", "start"), ("abnormal_colour", "end")]
    # the colour changed at 8 s and back at 13 s; judged on a 1 s moving average
    assert 8.0 <= got[0][3] <= 9.0 and got[0][0] <= got[0][3] + 2.2
    assert 13.0 <= got[1][3] <= 14.0 and got[1][0] <= got[1][3] + 2.2
    assert changes[0][1].details["delta_e"] >= 10


def test_no_events_when_nothing_changes_at_the_mouth():
    spec = SceneSpec(seconds=14, fps=10, seed=9, glint=1.5, outfall=OutfallSpec(x=0.5))
    assert _watch(spec, [_cfg(spec)]) == []


def test_hysteresis_needs_duration_and_separate_levels():
    h = Hysteresis(on=10, off=5, min_on_s=2, min_off_s=2)
    seq = [(0, 12), (1, 12), (1.5, 3), (2, 12), (3, 12), (4, 12), (5, 7), (6, 7), (7, 4), (8, 4), (9, 4)]
    edges = [(t, h.update(v, t)) for t, v in seq]
    assert [e for e in edges if e[1]] == [(4, "start"), (9, "end")]
    assert h.changed_at == 7  # the end is dated from when the value fell, not when it was confirmed
