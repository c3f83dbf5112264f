"""Server configuration: one typed model whose defaults are the server's defaults. The CLI
fills it from ``HEYAN_SERVE_*``/``heyan.yaml`` (``heyan.settings``) and its options, tests
build it directly; nothing under ``serve/`` reads the environment itself."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from heyan.models.settings import DetectorSettings

MB = 1024 * 1024
# The installed distribution's version: what /api/health reports and what a flight's
# checkpoints are valid for.
HEYAN_VERSION = version("heyan")


class ServeConfig(BaseModel):
    # Mutable on purpose: tests lower the upload limits of a running server.
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Field(Path("heyan-data"), description="Server data folder: database file, content-addressed photos and evidence, work folders.")
    db_url: str | None = Field(None, description="SQLAlchemy URL of the server database; default: SQLite file heyan.db in data_dir.")
    host: str = Field("127.0.0.1", description="Address `heyan serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `heyan serve` listens on.")
    admin_password: str | None = Field(None, description="Password of the `admin` account created on first start; unset: a one-time password is printed.")
    max_upload_bytes: int = Field(8192 * MB, ge=1, description="Largest flight upload (one request), bytes (settings: serve_max_upload_mb, MiB).")
    max_photo_bytes: int = Field(200 * MB, ge=1, description="Largest single photo in an upload, bytes (settings: serve_max_photo_mb, MiB).")
    max_files: int = Field(20000, ge=1, description="Most photos in one flight upload.")
    max_json_bytes: int = Field(64 * MB, ge=1, description="Largest JSON body (river network upload), bytes (settings: serve_max_json_mb, MiB).")
    workers: int = Field(1, ge=0, description="Flight-processing worker threads started by the server (0: none, jobs wait).")
    job_lease_s: float = Field(120.0, gt=0, description="A running job whose worker has not renewed its lease for this long is requeued.")
    job_max_attempts: int = Field(3, ge=1, description="A job that failed (or whose worker died) this many times stays failed.")
    session_hours: float = Field(12.0, gt=0, description="Browser session lifetime, hours.")
    cookie_secure: bool = Field(False, description="The server is reached over HTTPS (behind a TLS proxy): cookies are marked Secure and browsers are told to keep to HTTPS (Strict-Transport-Security).")
    login_max_failures: int = Field(5, ge=1, description="Failed logins for one account within login_window_s before that account gets 429.")
    login_window_s: float = Field(60.0, gt=0, description="Login rate-limit window, seconds.")
    login_max_address_failures: int = Field(20, ge=1, description="Failed logins from one client address (any account) within login_window_s before that address gets 429.")
    trusted_proxies: tuple[str, ...] = Field((), description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For is believed for the client address (settings: serve_trusted_proxies, comma-separated); empty: the peer address is the client.")
    db_busy_timeout_s: float = Field(30.0, gt=0, description="How long a request waits for a busy database (SQLite write lock, PostgreSQL lock) before answering 503 with Retry-After.")
    escalation_interval_s: float = Field(300.0, ge=0, description="How often the server checks for overdue tickets to escalate (0: only via the API).")
    rules_path: Path | None = Field(None, description="Rules YAML used by the server's flight processing (default: the shipped table).")
    detector: DetectorSettings = Field(default_factory=DetectorSettings,
                                       description="Detector and slicing of the server's flight processing (settings: serve_model, else the global detector settings).")
    tile_url: str | None = Field(None, description="Intranet XYZ tile URL template for the viewer's maps, e.g. http://tiles.intranet/{z}/{x}/{y}.png (default: none; the river network is the map).")
    edge_heartbeat_interval_s: float = Field(30.0, gt=0, description="Heartbeat interval the edge boxes are configured with (their server.heartbeat_interval_s), seconds.")
    training_workers: int = Field(1, ge=0, le=1, description="Adaptation-job thread (0: jobs wait; at most one: a fine-tune takes every core).")
    training_minutes: float = Field(20.0, gt=0, description="Default time budget of an adaptation job's fine-tune, minutes.")
    training_max_minutes: float = Field(120.0, gt=0, description="Longest fine-tune a job may ask for, minutes.")
    training_epochs: int = Field(15, ge=1, description="Default epochs of an adaptation job (the time budget stops it sooner).")
    edge_silent_after: float = Field(3.0, gt=0, description="A device is flagged silent when no heartbeat came for this many heartbeat intervals.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        # The environment and the flat settings give one comma-separated text.
        if isinstance(value, str):
            return tuple(x.strip() for x in value.split(",") if x.strip())
        return value

    @property
    def model(self) -> str:
        return self.detector.model

    @property
    def database_url(self) -> str:
        return self.db_url or default_db_url(self.data_dir)

    @property
    def edge_silent_after_s(self) -> float:
        return self.edge_heartbeat_interval_s * self.edge_silent_after

    def with_overrides(self, db: str | None = None, data: Path | None = None) -> ServeConfig:
        """This config with the command line's --db/--data applied and the data folder absolute."""
        return self.model_copy(update={"data_dir": Path(data or self.data_dir).resolve(), "db_url": db or self.db_url})


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / 'heyan.db'}"
