"""Static int8 quantisation of a zoo model with onnxruntime's own tools (QDQ, per-channel
weights), calibrated on images the caller provides. On CPUs with VNNI the int8 model runs
several times cheaper than fp32; whether it keeps recall must be measured (``heyan eval``).

The box-decoding tail of the YOLO head (the DFL convolution and what follows) stays in
float: quantising it shifts every box edge by a quantisation step."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from heyan.vision.preprocess import letterbox, to_input

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def calibration_tiles(folders: Iterable[Path], imgsz: int, count: int = 256, seed: int = 0) -> list[np.ndarray]:
    """``count`` model inputs cut the way production cuts them: tiles of ``imgsz`` at the
    photo's own resolution from random places, and one whole frame letterboxed (the
    full-frame pass) per image. Activation ranges are set by these, so they must be real
    pictures of the kind the model will see, never the validation sets it is judged on."""
    import cv2

    paths = sorted(p for f in folders for p in Path(f).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f"no images (.jpg, .png) under {', '.join(str(f) for f in folders)}")
    rng = np.random.default_rng(seed)
    rng.shuffle(paths)
    # Up to ``count`` pictures, each giving its whole frame first, then tiles round by round
    # until there are enough (small pictures give only their frame).
    frames: list[np.ndarray] = []
    for p in paths[:count]:
        im = cv2.imread(str(p))
        if im is not None:  # an unreadable file in a calibration folder costs one picture, not the run
            frames.append(im)
    if not frames:
        raise ValueError(f"none of the {len(paths)} calibration images could be read")
    tiles = [letterbox(im, imgsz)[0] for im in frames]
    croppable = [im for im in frames if im.shape[0] > imgsz and im.shape[1] > imgsz]
    while croppable and len(tiles) < count:
        for im in croppable:
            h, w = im.shape[:2]
            y, x = int(rng.integers(0, h - imgsz + 1)), int(rng.integers(0, w - imgsz + 1))
            tiles.append(np.ascontiguousarray(im[y : y + imgsz, x : x + imgsz]))
            if len(tiles) >= count:
                break
    return tiles[:count]


class _Reader:
    def __init__(self, input_name: str, images: Iterable[np.ndarray], imgsz: int) -> None:
        self.input_name = input_name
        self._it: Iterator[np.ndarray] = iter(images)
        self.imgsz = imgsz

    def get_next(self) -> dict[str, np.ndarray] | None:
        im = next(self._it, None)
        if im is None:
            return None
        if im.shape[:2] != (self.imgsz, self.imgsz):
            im, _ = letterbox(im, self.imgsz)
        return {self.input_name: to_input([im])}

    def rewind(self) -> None:  # pragma: no cover - onnxruntime may call it
        pass


# Node names (regular expressions) kept in float. The DFL box decoding always; "outputs" also
# the last 1x1 convolutions that write box and class maps (cv2.i.2, cv3.i.2 in YOLOv8/11
# exports); "head" the whole detection head (/model.22/ or /model.23/): accuracy for speed.
KEEP_FLOAT = {
    "dfl": (r"dfl",),
    "outputs": (r"dfl", r"/cv[23]\.\d\.2/"),
    "head": (r"dfl", r"/model\.2[23]/"),
}


def quantize_int8(src: Path, dst: Path, calib_images: list[np.ndarray], imgsz: int, keep_float: str = "dfl") -> Path:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        model = onnx.load(str(pre))
        input_name = model.graph.input[0].name
        keep = [re.compile(p) for p in KEEP_FLOAT[keep_float]]
        head_tail = [n.name for n in model.graph.node if any(k.search(n.name.lower()) for k in keep)]
        quantize_static(
            str(pre), str(dst), _Reader(input_name, calib_images, imgsz),
            quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"], nodes_to_exclude=head_tail,
            calibrate_method=CalibrationMethod.MinMax,
        )
    return Path(dst)


def quantize_zoo_model(base: str, name: str, folders: list[Path], zoo: Path, count: int = 256, seed: int = 0,
                       extra: Path | None = None, keep_float: str = "dfl") -> Path:
    """Write ``zoo/name/`` (model.onnx + model.json): ``base`` quantised to int8, calibrated on
    tiles from ``folders``. The card keeps the base's classes and thresholds and records
    what it was made from; its metrics stay empty until ``heyan eval --update-card``."""
    from datetime import UTC, datetime

    from heyan.models.card import sha256_file
    from heyan.models.registry import resolve_model

    onnx_path, card = resolve_model(base, extra)
    tiles = calibration_tiles(folders, card.imgsz, count, seed)
    dest = Path(zoo) / name
    dest.mkdir(parents=True, exist_ok=True)
    out = quantize_int8(onnx_path, dest / "model.onnx", tiles, card.imgsz, keep_float)
    new = card.model_copy(update={
        "name": name,
        "sha256": sha256_file(out),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": {},
        "training": {
            "quantized_from": {"model": card.name, "sha256": card.sha256},
            "method": "onnxruntime static quantisation, QDQ, int8 per-channel weights, uint8 activations, MinMax "
                      "calibration",
            "kept_float": {"mode": keep_float, "patterns": list(KEEP_FLOAT[keep_float])},
            "calibration": {"folders": [str(f) for f in folders], "tiles": len(tiles), "seed": seed},
            "base_training": card.training,
        },
        "notes": f"int8 copy of {card.name}; judge it with heyan eval on the same sources as its base.",
    })
    new.save(dest / "model.json")
    return dest
