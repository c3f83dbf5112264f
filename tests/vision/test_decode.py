"""``vision.detector``: YOLO output decoding, un-letterboxing, and ``OnnxDetector`` running a
tiny ONNX graph built here (so decoding goes through a real onnxruntime session) — plus
``vision.inference.detect_image``'s choice between whole-image and sliced detection."""

from __future__ import annotations

import numpy as np
import pytest

from heyan.vision.detections import Detections
from heyan.vision.detector import DetectorSpec, OnnxDetector, decode_yolo, unletterbox
from heyan.vision.inference import detect_image
from heyan.vision.preprocess import letterbox
from heyan.vision.slicing import SliceParams, SliceReport


def yolo_output(anchors: list[tuple[float, float, float, float, dict[int, float]]], nc: int) -> np.ndarray:
    """One image's [4 + nc, N] raw output from (cx, cy, w, h, {class: score})."""
    out = np.zeros((4 + nc, len(anchors)), np.float32)
    for j, (cx, cy, w, h, scores) in enumerate(anchors):
        out[:4, j] = (cx, cy, w, h)
        for c, s in scores.items():
            out[4 + c, j] = s
    return out


def as_set(d: Detections, decimals: int = 3) -> set[tuple]:
    return {(int(c), round(float(s), decimals), *(round(float(v), decimals) for v in b))
            for b, s, c in zip(d.xyxy, d.scores, d.class_ids)}


# --------------------------------------------------------------------------- decode_yolo


def test_decode_converts_xywh_to_xyxy_and_picks_best_class():
    pred = yolo_output([(50, 40, 20, 10, {0: 0.1, 2: 0.8, 1: 0.3}), (10, 10, 4, 6, {1: 0.6})], nc=3)
    (d,) = decode_yolo(pred[None], conf=0.25, iou=0.7)
    assert as_set(d) == {(2, 0.8, 40, 35, 60, 45), (1, 0.6, 8, 7, 12, 13)}
    assert list(d.scores) == sorted(d.scores, reverse=True)


def test_decode_conf_filter_is_strict():
    pred = yolo_output([(10, 10, 4, 4, {0: 0.25}), (30, 30, 4, 4, {0: 0.2501}), (60, 60, 4, 4, {0: 0.1})], nc=1)
    (d,) = decode_yolo(pred[None], conf=0.25, iou=0.7)
    assert len(d) == 1 and d.scores[0] == pytest.approx(0.2501)
    (none,) = decode_yolo(pred[None], conf=0.9, iou=0.7)
    assert len(none) == 0 and none.xyxy.shape == (0, 4)


def test_decode_nms_is_class_aware():
    pred = yolo_output(
        [
            (50, 50, 40, 40, {0: 0.9}),
            (52, 50, 40, 40, {0: 0.8}),  # same class, IoU ~0.9: suppressed
            (51, 51, 40, 40, {1: 0.7}),  # other class on the same spot: kept
            (150, 150, 40, 40, {0: 0.6}),  # same class elsewhere: kept
        ],
        nc=2,
    )
    (d,) = decode_yolo(pred[None], conf=0.25, iou=0.7)
    assert sorted((c, round(s, 2)) for c, s in zip(d.class_ids.tolist(), d.scores.tolist())) == [(0, 0.6), (0, 0.9), (1, 0.7)]
    # A looser IoU threshold keeps the near-duplicate.
    (loose,) = decode_yolo(pred[None], conf=0.25, iou=0.95)
    assert len(loose) == 4


def test_decode_multi_label_keeps_every_class_over_conf():
    pred = yolo_output([(50, 50, 20, 20, {0: 0.7, 1: 0.5, 2: 0.1})], nc=3)
    (single,) = decode_yolo(pred[None], conf=0.25, iou=0.7)
    (multi,) = decode_yolo(pred[None], conf=0.25, iou=0.7, multi_label=True)
    assert single.class_ids.tolist() == [0]
    assert sorted(multi.class_ids.tolist()) == [0, 1]
    np.testing.assert_allclose(multi.xyxy, [[40, 40, 60, 60]] * 2)
    (none,) = decode_yolo(pred[None], conf=0.8, iou=0.7, multi_label=True)
    assert len(none) == 0


def test_decode_batch_keeps_images_apart_and_respects_max_det():
    a = yolo_output([(20 * i + 10, 10, 8, 8, {0: 0.3 + 0.05 * i}) for i in range(8)], nc=2)
    b = np.zeros_like(a)  # nothing above conf
    dets = decode_yolo(np.stack([a, b, a]), conf=0.25, iou=0.7, max_det=3)
    assert [len(d) for d in dets] == [3, 0, 3]
    np.testing.assert_allclose(dets[0].scores, [0.65, 0.6, 0.55], rtol=1e-6)
    assert dets[0] == dets[2]


def test_decode_max_nms_keeps_the_best_candidates():
    a = yolo_output([(30 * i + 10, 10, 8, 8, {0: 0.3 + 0.01 * i}) for i in range(10)], nc=1)
    (d,) = decode_yolo(a[None], conf=0.25, iou=0.7, max_nms=4)
    np.testing.assert_allclose(sorted(d.scores), [0.36, 0.37, 0.38, 0.39], rtol=1e-6)


def test_decode_rejects_wrong_rank():
    with pytest.raises(ValueError, match="shape"):
        decode_yolo(np.zeros((5, 10), np.float32), 0.25, 0.7)


# --------------------------------------------------------------------------- unletterbox


@pytest.mark.parametrize("w, h", [(640, 480), (300, 900), (100, 100), (1000, 333)])
def test_unletterbox_inverts_the_letterbox_mapping(w, h):
    size = 320
    _, info = letterbox(np.zeros((h, w, 3), np.uint8), size)
    src = np.array([[0.1 * w, 0.2 * h, 0.5 * w, 0.6 * h], [0.7 * w, 0.1 * h, 0.9 * w, 0.95 * h]], np.float32)
    model = src * info.gain + np.array([info.pad_x, info.pad_y] * 2, np.float32)
    back = unletterbox(Detections(model, [0.9, 0.8], [0, 1]), info)
    np.testing.assert_allclose(back.xyxy, src, atol=0.05 * max(w, h) / size + 1e-3)
    np.testing.assert_array_equal(back.class_ids, [0, 1])


def test_unletterbox_clips_to_the_source_image():
    _, info = letterbox(np.zeros((200, 400, 3), np.uint8), 100)  # gain 0.25, pad_y 25
    d = Detections([[-10, 10, 120, 90]], [0.9], [0])
    out = unletterbox(d, info)
    np.testing.assert_allclose(out.xyxy, [[0, 0, 400, 200]])
    assert len(unletterbox(Detections.empty(), info)) == 0


# --------------------------------------------------------------------------- ONNX model

SIZE = 64
NAMES = ("debris", "boat", "pile")
# (cx, cy, w, h, {class: score}) in model pixels; anchor 1's class-0 score is replaced by
# the image's mean red value (RGB channel 0), so it tests the channel order end to end.
ANCHORS = [
    (32, 32, 20, 10, {2: 0.9}),
    (16, 16, 8, 8, {}),
    (33, 32, 20, 10, {2: 0.6}),  # near-duplicate of anchor 0: removed by NMS
    (50, 50, 6, 6, {1: 0.3}),
]
RED_ANCHOR = 1


def build_model(nc: int = len(NAMES), batch: int | str = "batch") -> bytes:
    onnx = pytest.importorskip("onnx")  # only the ONNX tests need it (the "train" extra)
    from onnx import TensorProto, helper

    base = yolo_output(ANCHORS, nc)[None]
    mask = np.zeros_like(base)
    mask[0, 4 + 0, RED_ANCHOR] = 1.0
    n = base.shape[2]
    init = [
        helper.make_tensor("base", TensorProto.FLOAT, base.shape, base.ravel().tolist()),
        helper.make_tensor("mask", TensorProto.FLOAT, mask.shape, mask.ravel().tolist()),
        helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
        helper.make_tensor("ends", TensorProto.INT64, [1], [1]),
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("shape3", TensorProto.INT64, [3], [-1, 1, 1]),
    ]
    nodes = [
        helper.make_node("Slice", ["images", "starts", "ends", "axes"], ["red"]),
        helper.make_node("ReduceMean", ["red"], ["red_mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["red_mean", "shape3"], ["red3"]),
        helper.make_node("Mul", ["red3", "mask"], ["red_scores"]),
        helper.make_node("Add", ["red_scores", "base"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [batch, 4 + nc, n])],
        initializer=init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return build_model()


@pytest.fixture
def detector(model_bytes) -> OnnxDetector:
    return OnnxDetector(model_bytes, DetectorSpec(NAMES, SIZE), threads=1)


def bgr(h: int, w: int, colour=(0, 0, 0)) -> np.ndarray:
    im = np.zeros((h, w, 3), np.uint8)
    im[:] = colour
    return im


def test_detector_on_model_sized_image_returns_model_boxes(detector):
    d = detector(bgr(SIZE, SIZE, (0, 0, 255)))  # pure red
    assert detector.dynamic_batch
    assert as_set(d) == {(2, 0.9, 22, 27, 42, 37), (0, 1.0, 12, 12, 20, 20), (1, 0.3, 47, 47, 53, 53)}


def test_detector_channel_order_reaches_the_model_as_rgb(detector):
    red, blue, half = bgr(SIZE, SIZE, (0, 0, 255)), bgr(SIZE, SIZE, (255, 0, 0)), bgr(SIZE, SIZE, (0, 0, 0))
    half[:, : SIZE // 2] = (0, 0, 255)
    dr, db, dh = detector.predict_batch([red, blue, half])
    score = {name: dict(zip(d.class_ids.tolist(), d.scores.tolist())) for name, d in (("r", dr), ("b", db), ("h", dh))}
    assert score["r"][0] == pytest.approx(1.0, abs=1e-4)
    assert 0 not in score["b"]
    assert score["h"][0] == pytest.approx(0.5, abs=1e-3)
    assert detector.stats.batch_sizes == [3] and detector.stats.images == 3 and detector.stats.runs == 1


def test_detector_maps_boxes_back_through_the_letterbox(detector):
    w, h = 2 * SIZE, SIZE  # gain 0.5, 16 px bars top and bottom
    d = detector(bgr(h, w))
    box = d.xyxy[d.class_ids == 2]
    assert box.shape == (1, 4)
    np.testing.assert_allclose(box[0], [22 / 0.5, (27 - 16) / 0.5, 42 / 0.5, (37 - 16) / 0.5], atol=1e-3)
    # Every box lies inside the source image.
    assert (d.xyxy[:, [0, 2]] <= w).all() and (d.xyxy[:, [1, 3]] <= h).all() and (d.xyxy >= 0).all()


def test_detector_batches_images_of_different_sizes(detector):
    ims = [bgr(SIZE, SIZE), bgr(3 * SIZE, SIZE), bgr(SIZE, 4 * SIZE)]
    batch = detector.predict_batch(ims)
    singles = [detector(im) for im in ims]
    assert len(batch) == 3
    for b, s in zip(batch, singles):
        assert as_set(b) == as_set(s)
    # Portrait 64x192: gain 1/3, resized to 21 px wide, round((64 - 21.33) / 2 - 0.1) = 21 px bar.
    port = batch[1].xyxy[batch[1].class_ids == 2][0]
    np.testing.assert_allclose(port, [(22 - 21) * 3, 27 * 3, (42 - 21) * 3, 37 * 3], atol=1e-3)
    # Wide 256x64: gain 1/4, 24 px bars; anchor 0's top edge (27 - 24) * 4, its x from 22 * 4.
    wide = batch[2].xyxy[batch[2].class_ids == 2][0]
    np.testing.assert_allclose(wide, [22 * 4, (27 - 24) * 4, 42 * 4, (37 - 24) * 4], atol=1e-3)
    assert detector.predict_batch([]) == []


def test_detector_per_class_thresholds_and_conf_override(model_bytes):
    spec = DetectorSpec(NAMES, SIZE, thresholds=(0.2, 0.5, 0.95))
    det = OnnxDetector(model_bytes, spec)
    im = bgr(SIZE, SIZE, (0, 0, 255))
    # class 0 (1.0 >= 0.2) stays; class 1 (0.3 < 0.5) and class 2 (0.9 < 0.95) are dropped.
    assert det(im).class_ids.tolist() == [0]
    # An explicit conf replaces the card's thresholds.
    assert sorted(det.predict_batch([im], conf=0.25)[0].class_ids.tolist()) == [0, 1, 2]
    assert sorted(det.predict_batch([im], apply_thresholds=False)[0].class_ids.tolist()) == [0, 1, 2]
    # Thresholds below the spec's conf floor still let those detections through.
    low = OnnxDetector(model_bytes, DetectorSpec(NAMES, SIZE, thresholds=(0.5, 0.1, 0.5), conf=0.5))
    assert 1 in low(im).class_ids.tolist()


def test_detector_with_fixed_batch_splits_the_run(tmp_path, detector):
    path = tmp_path / "fixed.onnx"
    path.write_bytes(build_model(batch=1))
    fixed = OnnxDetector(path, DetectorSpec(NAMES, SIZE))
    assert not fixed.dynamic_batch
    ims = [bgr(SIZE, SIZE, (0, 0, 255)), bgr(SIZE, SIZE, (255, 0, 0))]
    got = fixed.predict_batch(ims)
    want = detector.predict_batch(ims)
    assert [as_set(d) for d in got] == [as_set(d) for d in want]
    raw = fixed.run(np.zeros((3, 3, SIZE, SIZE), np.float32))
    assert raw.shape == (3, 4 + len(NAMES), len(ANCHORS))


def test_detector_class_count_mismatch_with_the_card(model_bytes):
    with pytest.raises(ValueError, match="classes"):
        OnnxDetector(model_bytes, DetectorSpec(("a", "b"), SIZE))
    with pytest.raises(ValueError, match="classes"):
        OnnxDetector(model_bytes, DetectorSpec(NAMES + ("extra",), SIZE))


def test_detector_unloadable_model_names_the_file(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not an onnx model")
    with pytest.raises(ValueError, match="broken.onnx"):
        OnnxDetector(bad, DetectorSpec(NAMES, SIZE))
    with pytest.raises(ValueError, match="cannot load"):
        OnnxDetector(b"\x00\x01garbage", DetectorSpec(NAMES, SIZE))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((SIZE, SIZE, 3), np.float32),  # wrong dtype
        np.zeros((SIZE, SIZE), np.uint8),  # greyscale
        np.zeros((SIZE, SIZE, 4), np.uint8),  # BGRA
        np.zeros((2, SIZE, SIZE, 3), np.uint8),  # a batch, not an image
        [[0, 0, 0]],  # not an array
    ],
)
def test_detector_rejects_bad_images(detector, image):
    with pytest.raises(ValueError, match="uint8"):
        detector(image)
    with pytest.raises(ValueError, match="uint8"):
        detector.predict_batch([bgr(SIZE, SIZE), image])


# --------------------------------------------------------------------------- detect_image


class FakeDetector:
    """Records how ``detect_image`` used it; finds one box at the middle of what it sees."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[int, ...]]]] = []

    def _one(self, im: np.ndarray) -> Detections:
        h, w = im.shape[:2]
        return Detections([[w / 2 - 2, h / 2 - 2, w / 2 + 2, h / 2 + 2]], [0.9], [0])

    def __call__(self, im: np.ndarray) -> Detections:
        self.calls.append(("call", [im.shape]))
        return self._one(im)

    def predict_batch(self, ims) -> list[Detections]:
        self.calls.append(("batch", [im.shape for im in ims]))
        return [self._one(im) for im in ims]


def test_detect_image_runs_small_images_whole():
    fake = FakeDetector()
    im = np.zeros((480, 640, 3), np.uint8)
    d = detect_image(im, fake, SliceParams(tile=160))
    assert fake.calls == [("call", [im.shape])]
    np.testing.assert_allclose(d.xyxy, [[318, 238, 322, 242]])


def test_detect_image_tiles_large_images_and_honours_the_switches():
    im = np.zeros((1000, 1500, 3), np.uint8)
    fake = FakeDetector()
    report: list[SliceReport] = []
    detect_image(im, fake, SliceParams(tile=500, overlap=0.2, batch=4, full_frame=False), report=report)
    assert fake.calls and all(kind == "batch" for kind, _ in fake.calls)
    shapes = [s for _, batch in fake.calls for s in batch]
    assert all(s == (500, 500, 3) for s in shapes)
    assert len(shapes) == report[0].tiles_run == report[0].tiles_total > 1
    # tile=False or a larger untiled limit: one whole-image call.
    for kwargs in (dict(tile=False), dict(untiled_max_side=1500)):
        fake = FakeDetector()
        detect_image(im, fake, SliceParams(tile=500), **kwargs)
        assert fake.calls == [("call", [im.shape])]
