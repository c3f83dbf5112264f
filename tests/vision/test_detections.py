"""``vision.detections.Detections``: the value type every detector, merger and drawer shares."""

from __future__ import annotations

import json

import numpy as np
import pytest

from heyan.vision.classes import class_names
from heyan.vision.detections import Detection, Detections


def make(n: int = 5, seed: int = 0) -> Detections:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 500, (n, 2))
    wh = rng.uniform(5, 80, (n, 2))
    return Detections(np.hstack([xy, xy + wh]), rng.uniform(0.05, 1, n), rng.integers(0, 5, n),
                      data={"tile": np.arange(n, dtype=np.int32) * 10})


# --------------------------------------------------------------------------- construction


def test_default_is_empty_with_canonical_shapes_and_dtypes():
    d = Detections()
    assert len(d) == 0
    assert d.xyxy.shape == (0, 4) and d.xyxy.dtype == np.float32
    assert d.scores.shape == (0,) and d.scores.dtype == np.float32
    assert d.class_ids.shape == (0,) and d.class_ids.dtype == np.int64
    assert Detections.empty() == d


def test_inputs_are_converted_to_canonical_dtypes():
    d = Detections([[1, 2, 3, 4]], [0.5], [2.0])
    assert d.xyxy.dtype == np.float32 and d.scores.dtype == np.float32 and d.class_ids.dtype == np.int64
    assert d.xyxy.tolist() == [[1, 2, 3, 4]] and d.class_ids.tolist() == [2]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(xyxy=[[0, 0, 1, 1], [0, 0, 2, 2]], scores=[0.5], class_ids=[0, 0]), "disagree"),
        (dict(xyxy=[[0, 0, 1, 1]], scores=[0.5], class_ids=[0, 1]), "disagree"),
        (dict(xyxy=[[0, 0, 1]], scores=[0.5], class_ids=[0]), "(N, 4)"),
        (dict(xyxy=[0, 0, 1, 1], scores=[0.5], class_ids=[0]), "(N, 4)"),
        (dict(xyxy=[[0, 0, 1, 1]], scores=[0.5], class_ids=[0], data={"tile": np.array([1, 2])}), "tile"),
    ],
)
def test_inconsistent_rows_raise_value_error(kwargs, words):
    with pytest.raises(ValueError) as exc:
        Detections(**kwargs)
    assert words in str(exc.value)


def test_area_and_centers():
    d = Detections([[0, 0, 10, 20], [5, 5, 7, 6], [10, 10, 5, 5]], [1, 1, 1], [0, 0, 0])
    np.testing.assert_allclose(d.area, [200, 2, 0])  # inverted box has no area, not a positive one
    np.testing.assert_allclose(d.centers, [[5, 10], [6, 5.5], [7.5, 7.5]])


def test_iteration_yields_plain_python_rows():
    d = make(3)
    rows = list(d)
    assert len(rows) == 3 and all(isinstance(r, Detection) for r in rows)
    for r, box, s, c in zip(rows, d.xyxy, d.scores, d.class_ids):
        assert r.box == pytest.approx(tuple(box.tolist()))
        assert r.score == pytest.approx(float(s)) and r.class_id == int(c)
        assert type(r.class_id) is int and type(r.score) is float


# --------------------------------------------------------------------------- indexing


@pytest.mark.parametrize("index", [2, np.int64(2), [4, 0], np.array([1, 3]), slice(1, 4), slice(None, None, -1)])
def test_getitem_selects_the_same_rows_of_every_array(index):
    d = make(5)
    want = np.arange(5)[index]
    want = np.atleast_1d(want)
    sub = d[index]
    assert len(sub) == len(want)
    np.testing.assert_array_equal(sub.xyxy, d.xyxy[want])
    np.testing.assert_array_equal(sub.scores, d.scores[want])
    np.testing.assert_array_equal(sub.class_ids, d.class_ids[want])
    np.testing.assert_array_equal(sub.data["tile"], want * 10)


def test_getitem_int_keeps_two_dimensional_boxes():
    d = make(3)
    assert d[1].xyxy.shape == (1, 4)
    assert d[-1] == d[[2]]


def test_getitem_with_empty_index_gives_empty():
    d = make(4)
    assert len(d[[]]) == 0
    assert len(d[np.array([], np.int64)]) == 0
    assert d[[]].data["tile"].shape == (0,)


def test_filter_by_mask_and_bad_mask_shape():
    d = make(6)
    mask = d.scores > 0.5
    f = d.filter(mask)
    assert len(f) == int(mask.sum())
    np.testing.assert_array_equal(f.scores, d.scores[mask])
    np.testing.assert_array_equal(f.data["tile"], d.data["tile"][mask])
    with pytest.raises(ValueError):
        d.filter(np.ones(5, bool))
    assert len(d.filter(np.zeros(6, bool))) == 0


def test_operations_do_not_mutate_the_original():
    d = make(4)
    before = (d.xyxy.copy(), d.scores.copy(), d.class_ids.copy())
    d.shifted(10, 10), d.scaled(2), d.clipped(50, 50), d.filter(d.scores > 0.3), d.sorted_by_score()
    np.testing.assert_array_equal(d.xyxy, before[0])
    np.testing.assert_array_equal(d.scores, before[1])
    np.testing.assert_array_equal(d.class_ids, before[2])


# --------------------------------------------------------------------------- concat


def test_concat_keeps_order_and_common_data_keys():
    a = make(3, seed=1)
    b = make(2, seed=2).with_data(extra=np.ones(2))
    c = Detections.concat([a, b])
    assert len(c) == 5
    np.testing.assert_array_equal(c.xyxy, np.vstack([a.xyxy, b.xyxy]))
    np.testing.assert_array_equal(c.scores, np.concatenate([a.scores, b.scores]))
    np.testing.assert_array_equal(c.class_ids, np.concatenate([a.class_ids, b.class_ids]))
    np.testing.assert_array_equal(c.data["tile"], [0, 10, 20, 0, 10])
    assert "extra" not in c.data  # only keys every part has can follow the rows


def test_concat_of_nothing_and_of_empties():
    assert len(Detections.concat([])) == 0
    assert len(Detections.concat([Detections.empty(), Detections.empty()])) == 0
    d = make(3)
    assert Detections.concat([Detections.empty(), d]) == d
    assert Detections.concat(iter([d, d])) == d[[0, 1, 2, 0, 1, 2]]


# --------------------------------------------------------------------------- thresholds


def test_with_min_score_scalar_is_inclusive():
    d = Detections(np.zeros((4, 4)) + [0, 0, 1, 1], [0.1, 0.25, 0.3, 0.9], [0, 1, 2, 3])
    assert d.with_min_score(0.25).scores.tolist() == pytest.approx([0.25, 0.3, 0.9])
    assert len(d.with_min_score(0.95)) == 0


def test_with_min_score_per_class_thresholds():
    rng = np.random.default_rng(3)
    n = 200
    cls = rng.integers(0, 3, n)
    scores = rng.uniform(0, 1, n).astype(np.float32)
    d = Detections(np.tile([0, 0, 4, 4], (n, 1)), scores, cls)
    thr = [0.2, 0.5, 0.9]
    kept = d.with_min_score(thr)
    expected = [i for i in range(n) if scores[i] >= np.float32(thr[cls[i]])]
    assert len(kept) == len(expected)
    np.testing.assert_array_equal(kept.scores, scores[expected])
    np.testing.assert_array_equal(kept.class_ids, cls[expected])
    # A class with a high threshold keeps fewer rows than it would with the lowest one.
    assert (kept.class_ids == 2).sum() < (d.with_min_score(0.2).class_ids == 2).sum()


def test_with_min_score_missing_class_threshold_raises():
    d = Detections([[0, 0, 1, 1]], [0.9], [4])
    with pytest.raises(ValueError, match="class id 4"):
        d.with_min_score([0.1, 0.2])
    assert len(Detections.empty().with_min_score([0.1])) == 0


# --------------------------------------------------------------------------- geometry


def test_shifted_scaled_clipped():
    d = Detections([[10, 20, 30, 60], [-5, -5, 200, 90]], [0.9, 0.8], [0, 1], data={"k": np.array([7, 8])})
    s = d.shifted(5, -10)
    np.testing.assert_allclose(s.xyxy, [[15, 10, 35, 50], [0, -15, 205, 80]])
    np.testing.assert_array_equal(s.data["k"], [7, 8])
    np.testing.assert_allclose(d.scaled(2).xyxy, [[20, 40, 60, 120], [-10, -10, 400, 180]])
    np.testing.assert_allclose(d.scaled(2, 0.5).xyxy, [[20, 10, 60, 30], [-10, -2.5, 400, 45]])
    c = d.clipped(100, 50)
    np.testing.assert_allclose(c.xyxy, [[10, 20, 30, 50], [0, 0, 100, 50]])
    np.testing.assert_array_equal(c.scores, d.scores)
    np.testing.assert_array_equal(c.class_ids, d.class_ids)


def test_sorted_by_score_is_descending_and_stable():
    d = Detections(np.tile([0, 0, 1, 1], (4, 1)), [0.5, 0.9, 0.5, 0.7], [0, 1, 2, 3])
    assert d.sorted_by_score().class_ids.tolist() == [1, 3, 0, 2]


def test_equality_compares_values():
    a = make(3)
    b = Detections(a.xyxy.copy(), a.scores.copy(), a.class_ids.copy())
    assert a == b
    assert a != b.shifted(0.5, 0)
    assert a != Detections(a.xyxy, a.scores, (a.class_ids + 1) % 5)
    assert a != a[[0, 1]]


# --------------------------------------------------------------------------- records


def test_records_round_trip_through_json_with_class_names():
    names = class_names()
    d = Detections([[10.5, 20.0, 30.25, 40.0], [0, 0, 5, 5.5]], [0.5, 0.875], [1, 4])
    recs = d.to_records(names, decimals=2)
    assert recs[0] == {"class": names[1], "score": 0.5, "box": [10.5, 20.0, 30.25, 40.0]}
    assert recs[1]["class"] == names[4]
    back = Detections.from_records(json.loads(json.dumps(recs)), names)
    assert back == d


def test_records_without_names_use_ids_and_round_to_decimals():
    d = Detections([[1.26, 2.0, 3.0, 4.0]], [0.123456], [3])
    (rec,) = d.to_records()
    assert rec["class"] == 3 and type(rec["class"]) is int
    assert rec["box"] == [1.3, 2.0, 3.0, 4.0]
    assert rec["score"] == 0.1235
    back = Detections.from_records([rec])
    assert back.class_ids.tolist() == [3]
    np.testing.assert_allclose(back.xyxy, [[1.3, 2, 3, 4]], atol=1e-6)


def test_from_records_empty():
    d = Detections.from_records([])
    assert len(d) == 0 and d.xyxy.shape == (0, 4)


@pytest.mark.parametrize(
    "record, names, words",
    [
        ({"class": 0, "score": 0.5}, None, "record 0"),  # no box
        ({"class": 0, "box": [0, 0, 1, 1]}, None, "record 0"),  # no score
        ({"class": 0, "score": 0.5, "box": [0, 0, 1]}, None, "4 numbers"),
        ({"class": 0, "score": 0.5, "box": [0, "a", 1, 1]}, None, "record 0"),
        ({"class": "boat", "score": 0.5, "box": [0, 0, 1, 1]}, None, "no class names"),
        ({"class": "whale", "score": 0.5, "box": [0, 0, 1, 1]}, class_names(), "whale"),
        ({"class": None, "score": 0.5, "box": [0, 0, 1, 1]}, None, "record 0"),
    ],
)
def test_from_records_invalid_raise_value_error_naming_the_record(record, names, words):
    with pytest.raises(ValueError) as exc:
        Detections.from_records([record], names)
    assert words in str(exc.value)


def test_from_records_reports_the_index_of_the_bad_record():
    good = {"class": 1, "score": 0.5, "box": [0, 0, 1, 1]}
    with pytest.raises(ValueError, match="record 2"):
        Detections.from_records([good, good, {"class": 1, "score": 0.5}])
