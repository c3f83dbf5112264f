"""Which detector to run and how to slice large photos for it: the one typed model of these
settings, with its defaults written once. The CLI fills it from ``HEYAN_*``/``heyan.yaml``,
the server from its config, the edge box from its YAML; nothing here reads the
environment or the working directory."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from heyan.models import DEFAULT_MODEL
from heyan.vision.detector import CPU_PROVIDER, OnnxDetector
from heyan.vision.inference import UNTILED_MAX_SIDE
from heyan.vision.slicing import SliceParams

# The slicing defaults are vision's own: one place decides them.
_SLICE = SliceParams()


class ModelChoice(BaseModel):
    """A zoo model by name (or an .onnx path) and how onnxruntime runs it."""

    model: str = Field(DEFAULT_MODEL, description="Model zoo name or path to an .onnx file with model.json beside it.")
    zoo_dir: Path | None = Field(None, description="Extra model zoo folder searched before the built-in one.")
    threads: int = Field(0, ge=0, description="onnxruntime intra-op threads; 0 lets onnxruntime decide (all cores).")
    provider: str = Field(CPU_PROVIDER, min_length=1, description="onnxruntime execution provider (settings: ort_provider): "
                          "CPUExecutionProvider, or CUDAExecutionProvider / OpenVINOExecutionProvider where that onnxruntime "
                          "build is installed (a missing one is a clear error at load).")

    def load(self, conf: float | None = None) -> OnnxDetector:
        from heyan.models.registry import load_detector

        return load_detector(self.model, extra=self.zoo_dir, threads=self.threads, conf=conf, provider=self.provider)


class DetectorSettings(ModelChoice):
    """A model choice plus sliced inference on large photos."""

    tile_size: int | None = Field(None, ge=1, description="Tile size in pixels for sliced inference; default: the model's input size.")
    tile_overlap: float = Field(_SLICE.overlap, ge=0.0, lt=0.9, description="Fraction of a tile shared with its neighbour.")
    tile_batch: int = Field(_SLICE.batch, ge=1, description="Tiles sent to onnxruntime in one run.")
    full_frame_pass: bool = Field(_SLICE.full_frame, description="Also run one downscaled pass over the whole photo for large objects.")
    merge: str = Field(_SLICE.merge, pattern="^(nms|nmm)$", description="How boxes from overlapping tiles are merged.")
    merge_iou: float = Field(_SLICE.match_threshold, description="Overlap (IoU or IoS) above which boxes from different tiles merge.")
    min_tile_photo_side: int = Field(UNTILED_MAX_SIDE, ge=0, description="Photos whose longer side is at most this are run whole, untiled.")

    def slice_params(self, imgsz: int) -> SliceParams:
        """Slicing for a model of input size ``imgsz`` (the tile size unless one is set)."""
        return SliceParams(tile=self.tile_size or imgsz, overlap=self.tile_overlap, batch=self.tile_batch,
                           full_frame=self.full_frame_pass, merge=self.merge, match_threshold=self.merge_iou)
