"""The edge box's one YAML config: a pydantic model that documents itself.

Every field but ``server`` and each camera's ``id``/``source`` has a default, so a three-line
config runs. Unknown keys are errors (a typo such as ``detct_fps`` would otherwise be
silently ignored on a box nobody looks at). Relative paths are resolved against the
config file's folder, so the box behaves the same whatever directory systemd starts it in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from heyan.models.settings import ModelChoice
from heyan.vision.classes import class_names
from heyan.vision.common import InputError

# A polygon in relative image coordinates: [[x, y], ...], 0 = left/top, 1 = right/bottom.
Polygon = list[tuple[float, float]]


class ConfigError(InputError):
    """A config that cannot be used; the message names the file and the field path."""


def _check_polygon(poly: Polygon, what: str) -> Polygon:
    if len(poly) < 3:
        raise ValueError(f"{what} needs at least 3 points [x, y], got {len(poly)}")
    for x, y in poly:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"{what} point [{x}, {y}] is outside 0..1 (coordinates are relative to the image size)")
    area = 0.0
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1]):
        area += x1 * y2 - x2 * y1
    if abs(area) / 2 < 1e-6:
        raise ValueError(f"{what} has no area (points are collinear or repeated)")
    return poly


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ServerConfig(_Strict):
    url: str = Field(description="Base URL of the Heyan server, e.g. http://10.0.0.5:8000 (no trailing /api).")
    token: str | None = Field(None, description="Device token issued by the server for this box (sent as 'Authorization: Bearer').")
    token_file: Path | None = Field(None, description="Read the device token from this file instead (e.g. a systemd credential); wins over token.")
    timeout_s: float = Field(10.0, gt=0, description="HTTP timeout for one request, seconds.")
    heartbeat_interval_s: float = Field(30.0, gt=0, description="How often the box posts its health to the server, seconds.")
    retry_base_s: float = Field(1.0, gt=0, description="First retry delay after a failed upload; doubles per failure (with jitter).")
    retry_max_s: float = Field(300.0, gt=0, description="Longest delay between upload retries, seconds.")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {v!r}")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _token(self) -> ServerConfig:
        if not self.token and self.token_file is None:
            raise ValueError("give token (the device token from the server) or token_file")
        return self

    def resolved_token(self) -> str:
        if self.token_file is not None:
            try:
                return self.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"server.token_file: cannot read {self.token_file}: {exc.strerror or exc}") from exc
        return self.token or ""


class StorageConfig(_Strict):
    dir: Path = Field(Path("./edge-data"), description="Folder for the outbox database, snapshots and health.json.")
    max_mb: float = Field(2048.0, gt=0, description="Most disk the snapshots may use, MiB; over it the oldest snapshots are deleted (event records never are).")
    min_free_mb: float = Field(200.0, ge=0, description="Keep at least this much free on the disk, MiB; snapshots are deleted oldest first to keep it.")
    jpeg_quality: int = Field(85, ge=30, le=100, description="JPEG quality of snapshots and crops.")
    flush_timeout_s: float = Field(10.0, ge=0, description="On shutdown, try this long to deliver what is queued before exiting.")


class DetectorConfig(ModelChoice):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    threads: int = Field(1, ge=0, description="onnxruntime threads; 1 leaves the other core for decoding video (0: all cores).")


class GateConfig(_Strict):
    enabled: bool = Field(True, description="Run the detector only where something changed (off: at every detection slot, on the whole ROI).")
    width: int = Field(320, ge=64, le=1280, description="Width of the small grey frame the gate works on, pixels.")
    background_tau_s: float = Field(4.0, gt=0, description="Time constant of the running-average background, seconds.")
    smooth_px: float = Field(1.0, ge=0, description="Gaussian blur (sigma, small-frame pixels) of the signed change: ripple crests and troughs cancel, objects do not.")
    k_sigma: float = Field(4.0, gt=0, description="A pixel changed when it differs from the background by more than this many of its own standard deviations (rippling water has a large one).")
    min_diff: float = Field(14.0, gt=0, description="... and by at least this many grey levels (0-255).")
    persistence: int = Field(3, ge=1, description="A changed pixel counts only after being changed in this many of the last frames (glint flickers, debris stays).")
    persistence_window: int = Field(5, ge=1, description="The window for persistence, analysed frames.")
    min_blob_px: int = Field(10, ge=1, description="Smallest changed blob that fires the gate, pixels of the small frame.")
    glint_level: int = Field(235, ge=1, le=255, description="Grey level at and above which pixels are treated as specular glint and ignored.")
    clutter_tau_s: float = Field(30.0, gt=0, description="Memory of the clutter map (how often each pixel changed), seconds.")
    clutter_max: float = Field(0.1, gt=0, le=1, description="Pixels that changed more than this fraction of the recent time (glint, crests) cannot fire.")
    glint_zone_level: float = Field(0.003, gt=0, le=1, description="Where saturated glint appears this often (blurred wide), the gate is blind and the periodic full detection looks instead.")
    global_change_frac: float = Field(0.35, gt=0, le=1, description="If more than this fraction of the ROI changes at once (light, exposure), relearn instead of firing.")
    warmup_s: float = Field(5.0, ge=0, description="Background learning time after start or reconnect, during which the gate does not fire.")


class TrackerConfig(_Strict):
    iou_match: float = Field(0.2, gt=0, le=1, description="Same object if boxes overlap at least this much (IoU) ...")
    max_center_dist: float = Field(1.5, gt=0, description="... or if centres are closer than this many box diagonals.")
    max_speed: float = Field(1.0, ge=0, description="... plus this many box diagonals per second since it was last seen (sparse detector runs on a drifting object).")
    min_hits: int = Field(3, ge=1, description="An object becomes an event after being seen in min_hits ...")
    window: int = Field(5, ge=1, description="... of the last `window` detector runs that looked at it (Frigate's N of M).")
    end_after_s: float = Field(30.0, gt=0, description="An event ends when its object has not been seen for this long, seconds.")
    update_interval_s: float = Field(30.0, gt=0, description="At most one 'update' (better snapshot) per event per this many seconds.")
    follow_up_s: float = Field(1.0, gt=0, description="Re-check known objects this often (unconfirmed) / 2x this (confirmed), seconds: slow debris does not move the gate.")

    @model_validator(mode="after")
    def _n_of_m(self) -> TrackerConfig:
        if self.min_hits > self.window:
            raise ValueError(f"min_hits ({self.min_hits}) cannot exceed window ({self.window})")
        return self


class FlowConfig(_Strict):
    pixel_diff: float = Field(10.0, gt=0, description="A pixel of the mouth ROI changed between frames when its grey level moved by more than this.")
    window_s: float = Field(2.0, gt=0, description="Flow activity is the mean changed fraction over this window, seconds.")
    # (Not named on/off: YAML 1.1 reads those keys as booleans.)
    on_fraction: float = Field(0.12, gt=0, le=1, description="Flow starts when activity stays above this ...")
    off_fraction: float = Field(0.06, ge=0, le=1, description="... and stops when it stays below this (hysteresis).")
    min_on_s: float = Field(10.0, ge=0, description="Activity must stay above on_fraction this long before flow is declared, seconds.")
    min_off_s: float = Field(20.0, ge=0, description="Activity must stay below off_fraction this long before flow is declared stopped, seconds.")

    @model_validator(mode="after")
    def _hyst(self) -> FlowConfig:
        if self.off_fraction > self.on_fraction:
            raise ValueError(f"off_fraction ({self.off_fraction}) must not exceed on_fraction ({self.on_fraction})")
        return self


class ColourConfig(_Strict):
    enabled: bool = Field(True, description="Watch the colour of the water at the mouth.")
    learn_s: float = Field(60.0, ge=0, description="Learn the normal colour this long before judging it, seconds.")
    baseline_tau_s: float = Field(1800.0, gt=0, description="Time constant of the normal-colour baseline (learnt only while normal), seconds.")
    window_s: float = Field(2.0, gt=0, description="The ROI colour is averaged over this window before judging it (turbulent water flickers), seconds.")
    relative_to_frame: bool = Field(True, description="Compare the ROI's colour relative to the whole frame's, so a change of light or white balance is not an anomaly.")
    on_delta_e: float = Field(10.0, gt=0, description="Abnormal when the ROI's mean colour is this far (CIE76 ΔE in Lab) from its baseline ...")
    off_delta_e: float = Field(6.0, gt=0, description="... and normal again below this.")
    min_on_s: float = Field(10.0, ge=0, description="ΔE must stay above on_delta_e this long, seconds.")
    min_off_s: float = Field(20.0, ge=0, description="ΔE must stay below off_delta_e this long, seconds.")

    @model_validator(mode="after")
    def _hyst(self) -> ColourConfig:
        if self.off_delta_e > self.on_delta_e:
            raise ValueError(f"off_delta_e ({self.off_delta_e}) must not exceed on_delta_e ({self.on_delta_e})")
        return self


class OutfallConfig(_Strict):
    id: str = Field(min_length=1, description="Outfall id, as in its registered record (一口一档).")
    roi: Polygon = Field(description="Polygon at the outfall's mouth where discharge is visible, relative 0-1 coordinates.")
    type: Literal["rain", "sewage", "mixed"] = Field("rain", description="rain (雨水口), sewage (污水口) or mixed (合流口).")
    expect_flow: bool | None = Field(None, description="Whether flow is normal now; default: false for rain outfalls (dry weather), true otherwise. Flow while false -> dry_weather_discharge.")
    flow: FlowConfig = Field(default_factory=FlowConfig, description="Flow presence from temporal change in the ROI.")
    colour: ColourConfig = Field(default_factory=ColourConfig, description="Colour anomaly against a learnt baseline.")

    @field_validator("roi")
    @classmethod
    def _roi(cls, v: Polygon) -> Polygon:
        return _check_polygon(v, "roi")

    @property
    def flow_expected(self) -> bool:
        return self.expect_flow if self.expect_flow is not None else self.type != "rain"


class CameraConfig(_Strict):
    id: str = Field(min_length=1, description="Camera id, unique on this box; events carry it.")
    source: str | int = Field(description="rtsp://... URL, video file, folder of images, or a device index (0).")
    enabled: bool = Field(True, description="Set false to keep a camera in the file but not run it.")
    rois: list[Polygon] = Field(default_factory=list, description="Where to look: polygons in relative 0-1 coordinates; empty = the whole frame.")
    calibration: Path | None = Field(None, description="Calibration JSON from `heyan calibrate`; gives events a ground lat/lon.")
    thresholds: dict[str, float] = Field(default_factory=dict, description="Per class: the median score an object needs to become an event; default: the model card's.")
    min_score: float = Field(0.2, ge=0, le=1, description="Detections below this score are not tracked at all.")
    classes: list[str] | None = Field(None, description="Classes that raise events; default: all.")
    detect_fps: float = Field(2.0, gt=0, description="At most this many detector runs per second for this camera.")
    analyse_fps: float | None = Field(None, gt=0, description="Analyse at most this many frames per second (others are skipped); default: every frame.")
    full_detect_interval_s: float = Field(10.0, gt=0, description="Run a full detection of the ROI this often even without motion (slow debris does not fire the gate), seconds.")
    full_detect: Literal["tiles", "whole"] = Field("tiles", description="Full detection by tiles at full resolution (finds small debris) or one downscaled pass (cheap).")
    max_crops: int = Field(4, ge=1, description="Most motion windows sent to the detector in one run; more -> a full detection.")
    frozen_after_s: float = Field(20.0, gt=0, description="The same picture for this long means a frozen stream (health + stream_frozen event), seconds.")
    reconnect_max_s: float = Field(60.0, gt=0, description="Longest wait between reconnect attempts (exponential backoff from 1 s).")
    open_timeout_s: float = Field(10.0, gt=0, description="Give up opening / reading a stream after this long, seconds.")
    fps: float = Field(1.0, gt=0, description="Image folders only: frame rate assumed for their images.")
    realtime: bool = Field(True, description="Video files: play at their own frame rate when running as a service (--once always runs as fast as it can).")
    loop: bool = Field(False, description="Video files: start again at the end (service mode only).")
    gate: GateConfig = Field(default_factory=GateConfig, description="Motion gate.")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, description="Tracking and debounce of detections into events.")
    outfalls: list[OutfallConfig] = Field(default_factory=list, description="Outfalls this camera watches.")

    @field_validator("rois")
    @classmethod
    def _rois(cls, v: list[Polygon]) -> list[Polygon]:
        return [_check_polygon(p, f"roi {i}") for i, p in enumerate(v)]

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: dict[str, float]) -> dict[str, float]:
        known = class_names()
        for name, thr in v.items():
            if name not in known:
                raise ValueError(f"unknown class {name!r}; known: {', '.join(known)}")
            if not 0.0 <= thr <= 1.0:
                raise ValueError(f"threshold of {name} must be in 0..1, got {thr}")
        return v

    @field_validator("classes")
    @classmethod
    def _classes(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        known = class_names()
        bad = [c for c in v if c not in known]
        if bad:
            raise ValueError(f"unknown class {bad[0]!r}; known: {', '.join(known)}")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str | int) -> str | int:
        if isinstance(v, str) and not v.strip():
            raise ValueError("must not be empty")
        if isinstance(v, int) and v < 0:
            raise ValueError("a device index is 0 or more")
        return v

    @model_validator(mode="after")
    def _unique_outfalls(self) -> CameraConfig:
        ids = [o.id for o in self.outfalls]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"outfall ids must be unique on a camera; repeated: {', '.join(sorted(dup))}")
        return self


class EdgeConfig(_Strict):
    device_id: str | None = Field(None, description="Name of this box in logs and health; default: the host name.")
    server: ServerConfig = Field(description="Where events go.")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="On-disk outbox and its limits.")
    detector: DetectorConfig = Field(default_factory=DetectorConfig, description="The detector shared by all cameras.")
    cameras: list[CameraConfig] = Field(min_length=1, description="The cameras this box watches.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Logging level.")

    @model_validator(mode="after")
    def _unique_cameras(self) -> EdgeConfig:
        ids = [c.id for c in self.cameras]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"camera ids must be unique; repeated: {', '.join(sorted(dup))}")
        return self


# --------------------------------------------------------------------------- loading


def _loc_text(loc: tuple[Any, ...], data: Any) -> str:
    """('cameras', 0, 'outfalls', 1, 'type') -> 'cameras[0](bridge-1).outfalls[1].type'."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            try:
                node = node[part]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    out += f"({node['id']})"
            except (IndexError, KeyError, TypeError):
                node = None
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def format_validation_error(exc: ValidationError, data: Any, source: str) -> str:
    lines = [f"{source}: invalid edge config ({exc.error_count()} problem{'s' if exc.error_count() != 1 else ''}):"]
    for err in exc.errors():
        # pydantic appends union/validator branch names (e.g. 'str', 'int') to the location;
        # they mean nothing to the person editing the YAML.
        loc = tuple(p for p in err["loc"] if p not in ("str", "int", "function-after[_check_polygon()]"))
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {_loc_text(loc, data)}: {msg}")
    return "\n".join(lines)


def _resolve(base: Path, p: Path | None) -> Path | None:
    if p is None:
        return None
    p = Path(os.path.expanduser(str(p)))
    return p if p.is_absolute() else (base / p)


def resolve_paths(cfg: EdgeConfig, base: Path) -> EdgeConfig:
    """Relative paths in the config mean relative to the config file's folder."""
    cfg.storage.dir = _resolve(base, cfg.storage.dir)  # type: ignore[assignment]
    cfg.detector.zoo_dir = _resolve(base, cfg.detector.zoo_dir)
    cfg.server.token_file = _resolve(base, cfg.server.token_file)
    for cam in cfg.cameras:
        cam.calibration = _resolve(base, cam.calibration)
        if isinstance(cam.source, str) and "://" not in cam.source:
            if cam.source.isdigit():
                cam.source = int(cam.source)
            else:
                cam.source = str(_resolve(base, Path(cam.source)))
    return cfg


def parse_config(data: Any, source: str = "<config>", base: Path | None = None) -> EdgeConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the config must be a YAML mapping (server:, storage:, cameras:), got {type(data).__name__}")
    try:
        cfg = EdgeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, data, source)) from None
    return resolve_paths(cfg, base or Path.cwd())


def load_config(path: str | Path) -> EdgeConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_config(data, str(path), path.resolve().parent)


# --------------------------------------------------------------------------- default config

# Values for required fields in the printed example (everything else prints its default).
_EXAMPLES: dict[str, Any] = {
    "server.url": "http://127.0.0.1:8000",
    "server.token": "PASTE-THE-DEVICE-TOKEN-HERE",
    "cameras.id": "bridge-1",
    "cameras.source": "rtsp://user:password@192.0.2.10:554/stream1",
    "cameras.rois": [[[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]]],
    "cameras.outfalls.id": "outfall-001",
    "cameras.outfalls.roi": [[0.40, 0.25], [0.55, 0.25], [0.58, 0.45], [0.37, 0.45]],
}


def _yaml_scalar(v: Any) -> str:
    if isinstance(v, Path):
        v = str(v)
    return yaml.safe_dump(v, default_flow_style=True, allow_unicode=True, width=1000).strip().removesuffix("...").strip()


def _emit_model(model: type[BaseModel], prefix: str, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        if field.description:
            lines.append(f"{pad}# {field.description}")
        ann = field.annotation
        sub = _model_of(ann)
        list_sub = _list_model_of(ann)
        if sub is not None:
            lines.append(f"{pad}{name}:")
            _emit_model(sub, key + ".", indent + 2, lines)
        elif list_sub is not None:
            lines.append(f"{pad}{name}:")
            item: list[str] = []
            _emit_model(list_sub, key + ".", indent + 4, item)
            # First key line of the item gets the "- " marker.
            for i, ln in enumerate(item):
                if not ln.strip().startswith("#"):
                    item[i] = ln[: indent + 2] + "- " + ln[indent + 4 :]
                    break
            lines.extend(item)
        else:
            if key in _EXAMPLES:
                value = _EXAMPLES[key]
            elif field.is_required():
                value = None
            else:
                value = field.get_default(call_default_factory=True)
            lines.append(f"{pad}{name}: {_yaml_scalar(value)}")


def _model_of(ann: Any) -> type[BaseModel] | None:
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _list_model_of(ann: Any) -> type[BaseModel] | None:
    args = getattr(ann, "__args__", None)
    if getattr(ann, "__origin__", None) is list and args and _model_of(args[0]) is not None:
        return args[0]
    return None


def default_config_yaml() -> str:
    """A full config with every field, its default and its description as a comment."""
    lines = [
        "# heyan edge: one file per box. Only server.url/token and each camera's id/source are required;",
        "# everything else below shows its default. Relative paths are relative to this file's folder.",
    ]
    _emit_model(EdgeConfig, "", 0, lines)
    return "\n".join(lines) + "\n"
