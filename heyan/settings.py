"""One settings object for the whole program: environment (``HEYAN_*``) and an optional
YAML file (``HEYAN_CONFIG`` or ``./heyan.yaml``). Library code never reads the environment
itself; the CLI builds ``Settings`` once and passes plain values down."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models import DEFAULT_MODEL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEYAN_", extra="ignore")

    default_model: str = Field(DEFAULT_MODEL, description="Model zoo name used when --model is not given.")
    zoo_dir: Path | None = Field(None, description="Extra model zoo folder searched before the built-in one.")
    ort_threads: int = Field(0, description="onnxruntime intra-op threads; 0 lets onnxruntime decide (all cores).")
    tile_size: int | None = Field(None, description="Tile size in pixels for sliced inference; default: the model's input size.")
    tile_overlap: float = Field(0.2, ge=0.0, lt=0.9, description="Fraction of a tile shared with its neighbour.")
    tile_batch: int = Field(4, ge=1, description="Tiles sent to onnxruntime in one run.")
    full_frame_pass: bool = Field(True, description="Also run one downscaled pass over the whole photo for large objects.")
    merge: str = Field("nmm", pattern="^(nms|nmm)$", description="How boxes from overlapping tiles are merged.")
    merge_iou: float = Field(0.5, description="Overlap (IoU or IoS) above which boxes from different tiles merge.")
    min_tile_photo_side: int = Field(1400, description="Photos whose longer side is at most this are run whole, untiled.")

    # -- heyan serve (tickets server) ------------------------------------------------------
    serve_db_url: str | None = Field(None, description="SQLAlchemy URL of the server database; default: SQLite file heyan.db in serve_data_dir.")
    serve_data_dir: Path = Field(Path("heyan-data"), description="Server data folder: database file, content-addressed photos and evidence, work folders.")
    serve_host: str = Field("127.0.0.1", description="Address `heyan serve` listens on.")
    serve_port: int = Field(8000, ge=1, le=65535, description="Port `heyan serve` listens on.")
    admin_password: str | None = Field(None, description="HEYAN_ADMIN_PASSWORD: password of the `admin` account created on first start; unset: a one-time password is printed.")
    serve_max_upload_mb: int = Field(8192, ge=1, description="Largest flight upload (one request), MiB.")
    serve_max_photo_mb: int = Field(200, ge=1, description="Largest single photo in an upload, MiB.")
    serve_max_files: int = Field(20000, ge=1, description="Most photos in one flight upload.")
    serve_max_json_mb: int = Field(64, ge=1, description="Largest JSON body (river network upload), MiB.")
    serve_workers: int = Field(1, ge=0, description="Flight-processing worker threads started by the server (0: none, jobs wait).")
    serve_job_lease_s: float = Field(120.0, gt=0, description="A running job whose worker has not renewed its lease for this long is requeued.")
    serve_job_max_attempts: int = Field(3, ge=1, description="A job that failed (or whose worker died) this many times stays failed.")
    serve_session_hours: float = Field(12.0, gt=0, description="Browser session lifetime, hours.")
    serve_cookie_secure: bool = Field(False, description="The server is reached over HTTPS (behind a TLS proxy): cookies are marked Secure and browsers are told to keep to HTTPS (Strict-Transport-Security).")
    serve_login_max_failures: int = Field(5, ge=1, description="Failed logins for one account within serve_login_window_s before that account gets 429.")
    serve_login_window_s: float = Field(60.0, gt=0, description="Login rate-limit window, seconds.")
    serve_login_max_address_failures: int = Field(20, ge=1, description="Failed logins from one client address (any account) within serve_login_window_s before that address gets 429.")
    serve_trusted_proxies: str = Field("", description="Comma-separated addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For is believed for the client address; empty: the peer address is the client.")
    serve_db_busy_timeout_s: float = Field(30.0, gt=0, description="How long a request waits for a busy database (SQLite write lock) before answering 503 with Retry-After.")
    serve_escalation_interval_s: float = Field(300.0, ge=0, description="How often the server checks for overdue tickets to escalate (0: only via the API).")
    serve_rules: Path | None = Field(None, description="Rules YAML used by the server's flight processing (default: the shipped table).")
    serve_model: str | None = Field(None, description="Detector used by the server's flight processing (default: default_model).")
    serve_tile_url: str | None = Field(None, description="Intranet XYZ tile URL template for the viewer's maps, e.g. http://tiles.intranet/{z}/{x}/{y}.png (default: none; the river network is the map).")
    serve_edge_heartbeat_interval_s: float = Field(30.0, gt=0, description="Heartbeat interval the edge boxes are configured with (their server.heartbeat_interval_s), seconds.")
    serve_edge_silent_after: float = Field(3.0, gt=0, description="A device is flagged silent when no heartbeat came for this many heartbeat intervals.")


def _file_values() -> dict[str, Any]:
    path = os.environ.get("HEYAN_CONFIG") or ("heyan.yaml" if Path("heyan.yaml").is_file() else None)
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: settings file must be a mapping of names to values")
    return data


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    # Environment wins over the file: pass file values as defaults only.
    file_values = {k: v for k, v in _file_values().items() if f"HEYAN_{k.upper()}" not in os.environ}
    return Settings(**file_values)
