"""``vision.nms``: overlap metrics, class-aware NMS (checked against a brute-force reference
written here) and SAHI-style greedy non-maximum merging."""

from __future__ import annotations

import numpy as np
import pytest

from heyan.vision.nms import greedy_nmm, nms, pairwise_overlap

# --------------------------------------------------------------------------- references


def ref_overlap(a, b, metric: str) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    denom = area_a + area_b - inter if metric == "iou" else min(area_a, area_b)
    return inter / denom if denom > 0 else 0.0


def ref_nms(boxes, scores, thr, class_ids=None, metric="iou", max_det=None) -> list[int]:
    """Textbook greedy NMS, one class at a time, written without numpy tricks."""
    boxes = [tuple(float(v) for v in b) for b in boxes]
    order = sorted(range(len(boxes)), key=lambda i: (-float(scores[i]), i))
    keep: list[int] = []
    for i in order:
        ok = True
        for k in keep:
            if class_ids is not None and class_ids[i] != class_ids[k]:
                continue
            if ref_overlap(boxes[i], boxes[k], metric) > thr:
                ok = False
                break
        if ok:
            keep.append(i)
            if max_det is not None and len(keep) == max_det:
                break
    return keep


def random_boxes(rng, n, lo=0.0, hi=200.0, max_wh=60.0):
    xy = rng.uniform(lo, hi, (n, 2))
    wh = rng.uniform(1, max_wh, (n, 2))
    return np.hstack([xy, xy + wh]).astype(np.float32)


# --------------------------------------------------------------------------- overlap


def test_pairwise_overlap_known_values():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [2, 2, 4, 4], [10, 0, 20, 10]], np.float32)
    np.testing.assert_allclose(pairwise_overlap(a, b, "iou")[0], [1, 50 / 150, 0, 4 / 100, 0], rtol=1e-6)
    np.testing.assert_allclose(pairwise_overlap(a, b, "ios")[0], [1, 0.5, 0, 1, 0], rtol=1e-6)


@pytest.mark.parametrize("metric", ["iou", "ios"])
def test_pairwise_overlap_matches_reference_on_random_boxes(metric):
    rng = np.random.default_rng(11)
    a, b = random_boxes(rng, 17), random_boxes(rng, 23)
    got = pairwise_overlap(a, b, metric)
    assert got.shape == (17, 23)
    want = np.array([[ref_overlap(x, y, metric) for y in b] for x in a])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert ((got >= 0) & (got <= 1 + 1e-6)).all()
    if metric == "iou":  # symmetric
        np.testing.assert_allclose(pairwise_overlap(b, a, metric), got.T, rtol=1e-6)


def test_pairwise_overlap_degenerate_boxes_do_not_divide_by_zero():
    a = np.array([[5, 5, 5, 5]], np.float32)  # zero area
    got = pairwise_overlap(a, a, "iou")
    assert np.isfinite(got).all() and got[0, 0] == 0
    assert np.isfinite(pairwise_overlap(a, a, "ios")).all()


def test_pairwise_overlap_unknown_metric():
    a = np.zeros((1, 4), np.float32)
    with pytest.raises(ValueError, match="metric"):
        pairwise_overlap(a, a, "giou")


# --------------------------------------------------------------------------- nms


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_nms_matches_brute_force_class_agnostic(seed, thr):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 60)
    scores = rng.permutation(60).astype(np.float32) / 60 + 0.01  # distinct scores: order is unambiguous
    got = nms(boxes, scores, thr)
    assert got.dtype == np.int64
    assert got.tolist() == ref_nms(boxes, scores, thr)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("metric", ["iou", "ios"])
def test_nms_matches_brute_force_class_aware(seed, metric):
    rng = np.random.default_rng(100 + seed)
    boxes = random_boxes(rng, 80, hi=150)
    scores = rng.permutation(80).astype(np.float32) / 80 + 0.01
    cls = rng.integers(0, 4, 80)
    got = nms(boxes, scores, 0.45, class_ids=cls, metric=metric)
    assert got.tolist() == ref_nms(boxes, scores, 0.45, cls, metric)
    # Class-aware must keep at least as many boxes as class-agnostic on the same input.
    assert len(got) >= len(nms(boxes, scores, 0.45, metric=metric))


def test_nms_class_aware_with_negative_coordinates():
    """Boxes left of / above the origin (an object cut by the frame before clipping) must
    not be suppressed by a box of another class."""
    boxes = np.array([[-20, -20, 5, 5], [-20, -20, 5, 5], [-18, -19, 4, 6]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    cls = np.array([0, 1, 0])
    assert sorted(nms(boxes, scores, 0.3, class_ids=cls).tolist()) == [0, 1]
    rng = np.random.default_rng(5)
    boxes = random_boxes(rng, 50, lo=-300, hi=20)
    scores = rng.permutation(50).astype(np.float32) / 50 + 0.01
    cls = rng.integers(0, 3, 50)
    assert nms(boxes, scores, 0.4, class_ids=cls).tolist() == ref_nms(boxes, scores, 0.4, cls)


def test_nms_max_det_returns_the_top_kept_boxes():
    rng = np.random.default_rng(7)
    boxes = random_boxes(rng, 50, hi=400)
    scores = rng.permutation(50).astype(np.float32) / 50 + 0.01
    full = nms(boxes, scores, 0.5)
    assert len(full) > 5
    assert nms(boxes, scores, 0.5, max_det=5).tolist() == full[:5].tolist()


def test_nms_simple_cases():
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5).shape == (0,)
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.5, 0.9, 0.7], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]  # highest score first, the overlapped 0 dropped
    # IoU exactly at the threshold is not suppressed (suppress only when overlap > iou).
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5]], np.float32)
    assert nms(boxes, np.array([0.9, 0.8], np.float32), 0.5).tolist() == [0, 1]
    assert nms(boxes, np.array([0.9, 0.8], np.float32), 0.49).tolist() == [0]


# --------------------------------------------------------------------------- greedy nmm


def test_greedy_nmm_groups_same_class_overlaps_keeping_best_first():
    boxes = np.array(
        [
            [0, 0, 100, 40],  # 0: left part of an object cut by a tile border
            [60, 0, 120, 40],  # 1: right part, IoS with 0 = 40*40 / (60*40) = 0.67
            [300, 300, 310, 310],  # 2: alone
            [62, 2, 118, 38],  # 3: other class on top of 1
        ],
        np.float32,
    )
    scores = np.array([0.8, 0.9, 0.5, 0.95], np.float32)
    cls = np.array([0, 0, 0, 1])
    groups = greedy_nmm(boxes, scores, cls, 0.5)
    assert groups == [[3], [1, 0], [2]]
    # Every index appears exactly once.
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3]


def test_greedy_nmm_threshold_and_metric():
    boxes = np.array([[0, 0, 100, 40], [60, 0, 120, 40]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    cls = np.zeros(2, np.int64)
    assert greedy_nmm(boxes, scores, cls, 0.7) == [[0], [1]]  # IoS 0.67 < 0.7
    assert greedy_nmm(boxes, scores, cls, 0.6) == [[0, 1]]
    assert greedy_nmm(boxes, scores, cls, 0.4, metric="iou") == [[0], [1]]  # IoU 1600/4800 = 0.33
    assert greedy_nmm(boxes, scores, cls, 0.3, metric="iou") == [[0, 1]]
    assert greedy_nmm(boxes, scores, cls, 0.3, metric="ios") == [[0, 1]]
    assert greedy_nmm(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), 0.5) == []


def test_greedy_nmm_only_absorbs_into_the_kept_box_not_transitively():
    # 0 overlaps 1, 1 overlaps 2, but 0 and 2 do not overlap: 2 stays its own group.
    boxes = np.array([[0, 0, 10, 10], [6, 0, 16, 10], [13, 0, 23, 10]], np.float32)
    groups = greedy_nmm(boxes, np.array([0.9, 0.8, 0.7]), np.zeros(3, np.int64), 0.3)
    assert groups == [[0, 1], [2]]


@pytest.mark.parametrize("seed", range(4))
def test_greedy_nmm_partition_and_membership_on_random_boxes(seed):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 40, hi=150)
    scores = rng.permutation(40).astype(np.float32) / 40 + 0.01
    cls = rng.integers(0, 3, 40)
    groups = greedy_nmm(boxes, scores, cls, 0.5)
    flat = [i for g in groups for i in g]
    assert sorted(flat) == list(range(40))
    heads = [g[0] for g in groups]
    # Heads come in descending score order and each head beats its members.
    assert all(scores[a] > scores[b] for a, b in zip(heads, heads[1:]))
    for g in groups:
        for m in g[1:]:
            assert cls[m] == cls[g[0]]
            assert scores[m] < scores[g[0]]
            assert ref_overlap(boxes[g[0]], boxes[m], "ios") > 0.5
    # The heads are exactly what NMS with the same metric/threshold keeps.
    assert heads == nms(boxes, scores, 0.5, class_ids=cls, metric="ios").tolist()


def test_greedy_nmm_does_not_merge_classes_with_negative_coordinates():
    boxes = np.array([[-20, -20, 5, 5], [-20, -20, 5, 5]], np.float32)
    assert greedy_nmm(boxes, np.array([0.9, 0.8]), np.array([0, 1]), 0.5) == [[0], [1]]


def test_greedy_nmm_large_input_matches_the_matrix_path_without_the_matrix(monkeypatch) -> None:
    import heyan.vision.nms as nms_mod

    rng = np.random.default_rng(5)
    n = 1500
    xy = rng.uniform(0, 2000, (n, 2))
    wh = rng.uniform(5, 80, (n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    scores = rng.uniform(0, 1, n).astype(np.float32)
    cls = rng.integers(0, 3, n)
    full = nms_mod.greedy_nmm(boxes, scores, cls, 0.5, "ios")
    monkeypatch.setattr(nms_mod, "FULL_MATRIX_MAX", 10)  # force the row-by-row path
    rows = nms_mod.greedy_nmm(boxes, scores, cls, 0.5, "ios")
    assert [sorted(g[1:]) for g in rows] == [sorted(g[1:]) for g in full] and [g[0] for g in rows] == [g[0] for g in full]


def test_greedy_nmm_handles_tens_of_thousands_of_boxes() -> None:
    from heyan.vision.nms import greedy_nmm

    rng = np.random.default_rng(6)
    n = 30000  # the full matrix would be 7 GB
    xy = rng.uniform(0, 4000, (n, 2))
    boxes = np.concatenate([xy, xy + 20], 1).astype(np.float32)
    groups = greedy_nmm(boxes, rng.uniform(0, 1, n).astype(np.float32), np.zeros(n, int), 0.5, "ios")
    assert sum(len(g) for g in groups) == n
