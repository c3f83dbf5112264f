"""``OnnxDetector``: Ultralytics YOLOv8/YOLO11 ONNX models run by onnxruntime with our own
pre- and post-processing (no torch at run time).

The detector is a callable ``image -> Detections`` so every tool (sliced inference, the
edge runner, the pipeline) takes "a model" as a plain function, as supervision does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heyan.vision.common import InputError
from heyan.vision.detections import Detections
from heyan.vision.nms import nms
from heyan.vision.preprocess import LetterboxInfo, letterbox, to_input


@dataclass(frozen=True)
class DetectorSpec:
    """What the runtime needs to know about a model (the model card carries it)."""

    class_names: tuple[str, ...]
    imgsz: int
    thresholds: tuple[float, ...] | None = None  # per class; None: ``conf`` for all
    conf: float = 0.25  # floor applied in decoding
    iou: float = 0.7  # NMS IoU (Ultralytics' predict default)
    max_det: int = 300


@dataclass
class RunStats:
    """Time spent inside ``session.run`` and how many images went through it; lets callers
    report their overhead against the raw onnxruntime ceiling."""

    run_seconds: float = 0.0
    images: int = 0
    runs: int = 0
    batch_sizes: list[int] = field(default_factory=list)


def decode_yolo(output: np.ndarray, conf: float, iou: float, max_det: int = 300, max_nms: int = 30000,
                multi_label: bool = False) -> list[Detections]:
    """Decode a ``[B, 4 + nc, N]`` output (cx, cy, w, h, class scores) into per-image
    ``Detections`` in model-input pixels, with class-aware NMS.

    ``multi_label`` keeps every class above ``conf`` for an anchor, as Ultralytics' val does
    (used by ``heyan eval`` so mAP is computed the same way); predict uses the best class.
    """
    if output.ndim != 3:
        raise ValueError(f"expected a [batch, 4+nc, anchors] output, got shape {output.shape}")
    results: list[Detections] = []
    for pred in output:
        scores_all = pred[4:]
        if multi_label:
            cls, anchor = np.nonzero(scores_all > conf)
            if len(cls) == 0:
                results.append(Detections.empty())
                continue
            xywh = pred[:4, anchor].T
            score = scores_all[cls, anchor]
        else:
            cls = scores_all.argmax(0)
            score = scores_all[cls, np.arange(scores_all.shape[1])]
            keep = score > conf
            if not keep.any():
                results.append(Detections.empty())
                continue
            xywh = pred[:4, keep].T
            score, cls = score[keep], cls[keep]
        if len(score) > max_nms:
            top = np.argsort(-score, kind="stable")[:max_nms]
            xywh, score, cls = xywh[top], score[top], cls[top]
        xyxy = np.empty_like(xywh)
        xyxy[:, :2] = xywh[:, :2] - xywh[:, 2:] / 2
        xyxy[:, 2:] = xywh[:, :2] + xywh[:, 2:] / 2
        idx = nms(xyxy, score, iou, class_ids=cls, max_det=max_det)
        results.append(Detections(xyxy[idx], score[idx], cls[idx]))
    return results


def unletterbox(det: Detections, info: LetterboxInfo) -> Detections:
    if len(det) == 0:
        return det
    out = det.shifted(-info.pad_x, -info.pad_y).scaled(1.0 / info.gain)
    return out.clipped(info.src_w, info.src_h)


CPU_PROVIDER = "CPUExecutionProvider"


class ProviderUnavailable(InputError):
    """The settings ask for an onnxruntime execution provider this installation lacks."""


def execution_providers(provider: str) -> list[str]:
    """The providers to open a session with: the chosen one, then the CPU for the operators
    it does not run. Refuses a provider this onnxruntime build does not have, instead of
    onnxruntime's quiet fall-back to the CPU (a GPU box would crawl and nobody would know)."""
    import onnxruntime as ort

    available = list(ort.get_available_providers())
    if provider not in available:
        hint = {"CUDAExecutionProvider": "install onnxruntime-gpu (and CUDA/cuDNN) in place of onnxruntime",
                "OpenVINOExecutionProvider": "install onnxruntime-openvino in place of onnxruntime"}.get(
                    provider, "check the name (e.g. CPUExecutionProvider)")
        raise ProviderUnavailable(f"ort_provider: onnxruntime execution provider {provider!r} is not available in this "
                                  f"installation (available: {', '.join(available)}); {hint}")
    return [provider] if provider == CPU_PROVIDER else [provider, CPU_PROVIDER]


class OnnxDetector:
    """Run an exported YOLO ONNX model on BGR uint8 images."""

    def __init__(self, model: str | os.PathLike[str] | bytes, spec: DetectorSpec, threads: int = 0,
                 providers: Sequence[str] = ("CPUExecutionProvider",)) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads > 0:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        source = model if isinstance(model, bytes) else str(Path(model))
        try:
            self.session = ort.InferenceSession(source, sess_options=opts, providers=list(providers))
        except Exception as exc:  # onnxruntime raises its own exception types
            name = "<bytes>" if isinstance(model, bytes) else str(model)
            raise ValueError(f"{name}: cannot load ONNX model: {exc}") from exc
        self.spec = spec
        self.model_path: str | None = None if isinstance(model, bytes) else source
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        batch_dim = inp.shape[0]
        self.dynamic_batch = not isinstance(batch_dim, int)
        out_shape = self.session.get_outputs()[0].shape
        n_out = out_shape[1] if len(out_shape) == 3 else None
        if isinstance(n_out, int) and n_out != 4 + len(spec.class_names):
            raise ValueError(f"model outputs {n_out - 4} classes but its card lists {len(spec.class_names)}")
        self.stats = RunStats()
        self._thr = np.array(spec.thresholds, np.float32) if spec.thresholds else None

    # -- raw ---------------------------------------------------------------------------
    def run(self, batch: np.ndarray) -> np.ndarray:
        """``session.run`` on an NCHW float32 batch; splits it if the model has a fixed batch."""
        import time

        t0 = time.perf_counter()
        if self.dynamic_batch or len(batch) == 1:
            out = self.session.run(None, {self.input_name: batch})[0]
        else:
            out = np.concatenate([self.session.run(None, {self.input_name: batch[i : i + 1]})[0] for i in range(len(batch))])
        self.stats.run_seconds += time.perf_counter() - t0
        self.stats.images += len(batch)
        self.stats.runs += 1
        self.stats.batch_sizes.append(len(batch))
        return out

    # -- images ------------------------------------------------------------------------
    @property
    def class_names(self) -> tuple[str, ...]:
        return self.spec.class_names

    @property
    def imgsz(self) -> int:
        return self.spec.imgsz

    def predict_batch(self, images: Sequence[np.ndarray], conf: float | None = None, apply_thresholds: bool = True,
                      multi_label: bool = False) -> list[Detections]:
        """Detect on several images in one ``run``. Images may differ in size."""
        if not images:
            return []
        size = self.spec.imgsz
        boxed: list[np.ndarray] = []
        infos: list[LetterboxInfo] = []
        for im in images:
            _check_image(im)
            if im.shape[0] == size and im.shape[1] == size:
                boxed.append(im)  # tiles of the model's size need no resize or padding
                infos.append(LetterboxInfo(1.0, 0, 0, size, size))
            else:
                lb, info = letterbox(im, size)
                boxed.append(lb)
                infos.append(info)
        out = self.run(to_input(boxed))
        floor = self.spec.conf if conf is None else conf
        if self._thr is not None and apply_thresholds and conf is None:
            floor = min(floor, float(self._thr.min()))
        dets = decode_yolo(out, floor, self.spec.iou, self.spec.max_det, multi_label=multi_label)
        results = [unletterbox(d, info) for d, info in zip(dets, infos)]
        if apply_thresholds and self._thr is not None and conf is None:
            results = [d.with_min_score(self._thr) for d in results]
        return results

    def __call__(self, image: np.ndarray) -> Detections:
        return self.predict_batch([image])[0]


def _check_image(im: np.ndarray) -> None:
    if not isinstance(im, np.ndarray) or im.ndim != 3 or im.shape[2] != 3 or im.dtype != np.uint8:
        shape = getattr(im, "shape", None)
        dtype = getattr(im, "dtype", type(im).__name__)
        raise ValueError(f"expected a BGR uint8 image of shape (H, W, 3), got shape {shape} dtype {dtype}")
