"""Pure parts of ``models.evaluate``: matching predictions to ground truth at the ten COCO
IoU thresholds, AP by 101-point interpolation, per-class AP/P/R and the confusion counts."""

from __future__ import annotations

import numpy as np
import pytest

from heyan.models.evaluate import IOU_THRESHOLDS, ap_per_class, compute_ap, confusion_summary, match_predictions
from heyan.vision.detections import Detections

NAMES = ["floating_debris", "sand_dredger", "boat"]


def det(boxes, scores, cls) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), scores, cls)


def shifted_iou(dx: float, side: float = 100.0) -> float:
    return (side - dx) / (side + dx)


# --------------------------------------------------------------------------- match_predictions


def test_thresholds_are_coco():
    np.testing.assert_allclose(IOU_THRESHOLDS, [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])


def test_perfect_prediction_is_tp_at_every_threshold():
    gt = np.array([[10, 10, 110, 110]], np.float32)
    correct = match_predictions(det(gt, [0.9], [1]), gt, np.array([1]))
    assert correct.shape == (1, 10) and correct.dtype == bool
    assert correct.all()


@pytest.mark.parametrize("dx", [5, 16, 30, 40])
def test_shifted_prediction_is_tp_only_up_to_its_iou(dx):
    gt = np.array([[0, 0, 100, 100]], np.float64)
    pred = det([[dx, 0, 100 + dx, 100]], [0.9], [0])
    correct = match_predictions(pred, gt, np.array([0]))[0]
    expected = IOU_THRESHOLDS <= shifted_iou(dx)
    np.testing.assert_array_equal(correct, expected)
    assert 0 < expected.sum() < 10 or dx == 40  # the cases span partial credit and none


def test_wrong_class_is_never_tp():
    gt = np.array([[0, 0, 100, 100]], np.float32)
    correct = match_predictions(det(gt, [0.99], [2]), gt, np.array([0]))
    assert not correct.any()


def test_one_ground_truth_is_matched_once():
    """Predictions arrive sorted by score (NMS output); as in Ultralytics' val and COCO, the
    most confident prediction over each IoU threshold takes the object, the rest are FPs."""
    gt = np.array([[0, 0, 100, 100]], np.float32)
    pred = det([[10, 0, 110, 100], [2, 0, 102, 100], [0, 0, 100, 100]], [0.9, 0.8, 0.5], [0, 0, 0])
    ious = [shifted_iou(10), shifted_iou(2), 1.0]  # 0.82, 0.96, 1.0
    correct = match_predictions(pred, gt, np.array([0]))
    assert (correct.sum(0) == 1).all()  # exactly one TP per threshold
    np.testing.assert_array_equal(correct[0], IOU_THRESHOLDS <= ious[0])
    np.testing.assert_array_equal(correct[1], IOU_THRESHOLDS > ious[0])
    assert not correct[2].any()


def test_matching_does_not_depend_on_prediction_order():
    gt = np.array([[0, 0, 100, 100]], np.float32)
    boxes = [[10, 0, 110, 100], [2, 0, 102, 100], [0, 0, 100, 100]]
    scores = [0.9, 0.8, 0.5]
    ref = match_predictions(det(boxes, scores, [0, 0, 0]), gt, np.array([0]))
    perm = [2, 0, 1]
    got = match_predictions(det([boxes[i] for i in perm], [scores[i] for i in perm], [0, 0, 0]), gt, np.array([0]))
    np.testing.assert_array_equal(got, ref[perm])


def test_two_objects_two_predictions_each_matched():
    gt = np.array([[0, 0, 50, 50], [40, 0, 90, 50]], np.float32)  # overlapping objects
    pred = det([[0, 0, 50, 50], [41, 0, 91, 50]], [0.7, 0.6], [0, 0])
    correct = match_predictions(pred, gt, np.array([0, 0]))
    assert correct[:, 0].all()  # both TP at IoU 0.5: the second is not taken by the first object
    assert correct[0].all()
    np.testing.assert_array_equal(correct[1], IOU_THRESHOLDS <= 49 / 51)


def test_no_predictions_or_no_ground_truth():
    gt = np.array([[0, 0, 10, 10]], np.float32)
    assert match_predictions(Detections.empty(), gt, np.array([0])).shape == (0, 10)
    c = match_predictions(det(gt, [0.9], [0]), np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    assert c.shape == (1, 10) and not c.any()


# --------------------------------------------------------------------------- compute_ap


def coco_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Reference: COCO's 101-point AP, precision interpolated as max precision at recall >= r
    and 0 beyond the highest recall reached."""
    total = 0.0
    for r in np.linspace(0, 1, 101):
        ok = recall >= r - 1e-12
        total += precision[ok].max() if ok.any() else 0.0
    return total / 101


def test_compute_ap_perfect_is_one():
    assert compute_ap(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == pytest.approx(1.0, abs=0.01)


def test_compute_ap_half_recall_is_half():
    assert compute_ap(np.array([0.25, 0.5]), np.array([1.0, 1.0])) == pytest.approx(0.5, abs=0.01)


def test_compute_ap_nothing_found_is_zero():
    assert compute_ap(np.array([0.0, 0.0]), np.array([0.0, 0.0])) == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("seed", range(5))
def test_compute_ap_matches_coco_reference_on_random_rankings(seed):
    rng = np.random.default_rng(seed)
    n_gt = 20
    hits = rng.random(30) < 0.6  # ranked predictions, TP or FP
    hits[np.cumsum(hits) > n_gt] = False
    tpc = np.cumsum(hits)
    recall = tpc / n_gt
    precision = tpc / np.arange(1, 31)
    assert compute_ap(recall, precision) == pytest.approx(coco_ap(recall, precision), abs=0.015)


def test_compute_ap_envelope_uses_later_higher_precision():
    # TP, FP, TP with 2 objects: precision 1, 0.5, 0.67 -> area 0.5 * 1 + 0.5 * 0.67.
    ap = compute_ap(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3]))
    assert ap == pytest.approx(0.5 + 0.5 * 2 / 3, abs=0.01)


# --------------------------------------------------------------------------- ap_per_class


def test_ap_per_class_on_a_hand_made_case():
    # class 0: 2 objects, 2 TPs -> AP 1. class 1: 2 objects, 1 TP -> AP ~0.5.
    # class 2: only a false positive, no object -> not present, AP 0.
    tp = np.zeros((4, 10))
    tp[[0, 1, 2]] = 1
    conf = np.array([0.9, 0.8, 0.7, 0.6])
    pred_cls = np.array([0, 0, 1, 2])
    target_cls = np.array([0, 0, 1, 1])
    p, r, ap, present = ap_per_class(tp, conf, pred_cls, target_cls, nc=3)
    assert ap.shape == (3, 10) and p.shape == r.shape == (3,)
    np.testing.assert_array_equal(present, [True, True, False])
    np.testing.assert_allclose(ap[0], 1.0, atol=0.01)
    np.testing.assert_allclose(ap[1], 0.5, atol=0.01)
    np.testing.assert_allclose(ap[2], 0.0)
    assert r[0] == pytest.approx(1.0, abs=0.01) and p[0] == pytest.approx(1.0, abs=0.01)
    assert r[1] == pytest.approx(0.5, abs=0.01) and p[1] == pytest.approx(1.0, abs=0.01)


def test_ap_per_class_is_independent_of_input_order():
    rng = np.random.default_rng(0)
    n = 40
    tp = (rng.random((n, 10)) < np.linspace(0.8, 0.2, 10)).astype(float)
    conf = rng.random(n)
    pred_cls = rng.integers(0, 2, n)
    target_cls = np.array([0] * 25 + [1] * 25)
    a = ap_per_class(tp, conf, pred_cls, target_cls, 2)
    perm = rng.permutation(n)
    b = ap_per_class(tp[perm], conf[perm], pred_cls[perm], target_cls, 2)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y)
    # A stricter IoU threshold never has more TPs here, so AP does not grow along it much.
    assert a[2][:, 0].mean() > a[2][:, -1].mean()


def test_ap_per_class_low_confidence_false_positives_do_not_lower_ap():
    tp = np.array([[1] * 10, [1] * 10, [0] * 10, [0] * 10], float)
    target = np.array([0, 0])
    cls = np.zeros(4, np.int64)
    high_fp = ap_per_class(tp, np.array([0.5, 0.4, 0.9, 0.8]), cls, target, 1)[2]
    low_fp = ap_per_class(tp, np.array([0.9, 0.8, 0.2, 0.1]), cls, target, 1)[2]
    assert low_fp[0, 0] == pytest.approx(1.0, abs=0.01)
    assert high_fp[0, 0] < 0.6


# --------------------------------------------------------------------------- confusion_summary


def test_confusion_summary_counts_hits_confusions_misses_and_false_alarms():
    gt = np.array([[0, 0, 50, 50], [100, 100, 150, 150], [300, 300, 340, 340]], np.float32)
    gt_cls = np.array([0, 1, 2])
    pred = det(
        [
            [1, 1, 50, 50],  # debris on debris: correct
            [100, 100, 151, 149],  # boat on the dredger: confusion
            [500, 500, 520, 520],  # nothing there: false alarm
            [300, 300, 340, 340],  # right place, but below conf: ignored -> boat missed
        ],
        [0.9, 0.8, 0.7, 0.1],
        [0, 2, 1, 2],
    )
    out = confusion_summary(pred, gt, gt_cls, NAMES, conf=0.25)
    assert out == {
        ("floating_debris", "floating_debris"): 1,
        ("sand_dredger", "boat"): 1,
        ("boat", "background"): 1,
        ("background", "sand_dredger"): 1,
    }
    # Every object and every confident prediction is counted exactly once.
    assert sum(v for (t, _), v in out.items() if t != "background") == len(gt)


def test_confusion_summary_each_prediction_used_once():
    gt = np.array([[0, 0, 50, 50], [2, 0, 52, 50]], np.float32)
    pred = det([[1, 0, 51, 50]], [0.9], [0])
    out = confusion_summary(pred, gt, np.array([0, 0]), NAMES, conf=0.25)
    assert out == {("floating_debris", "floating_debris"): 1, ("floating_debris", "background"): 1}


def test_confusion_summary_empty_inputs():
    assert confusion_summary(Detections.empty(), np.zeros((0, 4), np.float32), np.zeros(0, np.int64), NAMES, 0.25) == {}
    out = confusion_summary(Detections.empty(), np.array([[0, 0, 5, 5]], np.float32), np.array([2]), NAMES, 0.25)
    assert out == {("boat", "background"): 1}
    out = confusion_summary(det([[0, 0, 5, 5]], [0.3], [1]), np.zeros((0, 4), np.float32), np.zeros(0, np.int64), NAMES, 0.25)
    assert out == {("background", "sand_dredger"): 1}
