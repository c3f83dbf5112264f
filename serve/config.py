"""Server configuration: one typed model whose defaults are the server's defaults. The CLI
fills it from ``HEYAN_SERVE_*``/``heyan.yaml`` (``heyan.settings``) and its options, tests
build it directly; nothing under ``serve/`` reads the environment itself."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from heyan.models.settings import DetectorSettings

MB = 1024 * 1024
# The installed distribution's version: what /api/health reports and what a flight's
# checkpoints are valid for.
HEYAN_VERSION = version("heyan")


NotifyEvent = Literal["dispatched", "sent_back", "near_deadline", "overdue"]


class NotifyChannel(BaseModel):
    """One place notifications go (serve.notify.channels)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="This channel's name in the delivery records.")
    kind: Literal["wecom", "dingtalk", "email", "sms"] = Field(description="WeCom / DingTalk group robot, SMTP e-mail, HTTP SMS gateway.")
    url: str | None = Field(None, description="Robot webhook or SMS gateway URL.")
    events: tuple[NotifyEvent, ...] = Field(("dispatched", "sent_back", "near_deadline", "overdue"),
                                            description="Which events this channel gets.")
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str | None = None
    mail_to: tuple[str, ...] = ()
    sms_sign: str | None = Field(None, description="SMS signature (短信签名) the gateway puts before the text.")
    timeout_s: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> NotifyChannel:
        if self.kind in ("wecom", "dingtalk", "sms") and not self.url:
            raise ValueError(f"notify channel {self.name!r} ({self.kind}) needs a url")
        if self.kind == "email" and not (self.smtp_host and self.mail_from and self.mail_to):
            raise ValueError(f"notify channel {self.name!r} (email) needs smtp_host, mail_from and mail_to")
        return self


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
    workers: int = Field(1, ge=0, description="Flight-processing worker threads started by the server (0: none, jobs wait). "
                         "The word `external` (settings serve_workers, `heyan serve --workers external`) sets processing=external.")
    processing: Literal["threads", "external"] = Field(
        "threads", description="threads: the server processes flights itself (one box, no Redis). external: the server only "
        "hands flights to the task queue (one task per photo, then one reduce task) and `heyan worker` processes run them.")
    broker_url: str | None = Field(None, description="Task queue broker of processing=external and `heyan worker`, e.g. "
                                   "redis://queue.intranet:6379/0 (`heyan worker --broker`).")
    result_backend: str | None = Field(None, description="Where task results are kept (Celery result backend); default: the broker.")
    queue_visibility_timeout_s: float = Field(
        900.0, gt=0, description="A task taken by a worker that neither finished nor acknowledged it (worker killed, machine "
        "lost) goes back to the queue after this many seconds; longer than the slowest photo and the longest retry wait.")
    queue_retries: int = Field(4, ge=0, description="Retries of a photo task after a transient error (shared folder, database, "
                               "broker) before the photo is recorded as failed and the flight goes on without it.")
    queue_retry_backoff_s: float = Field(5.0, gt=0, description="First retry wait of a photo task, seconds; doubled each retry "
                                         "(with jitter), at most a quarter of queue_visibility_timeout_s.")
    queue_urgent_photos: int = Field(20, ge=0, description="Flights of at most this many photos (a re-shot site, a few "
                                     "rectification views) go to the urgent queue that workers empty first.")
    queue_stall_s: float = Field(300.0, gt=0, description="The server sends a flight's missing photo tasks (or its reduce task) "
                                 "again when the flight made no progress for this long (broker restarted empty, lost message).")
    worker_concurrency: int = Field(1, ge=1, description="Processes of one `heyan worker` (each runs one photo at a time with "
                                    "the detector's threads); 1 runs the tasks in the worker process itself.")
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
    tile_url: str | None = Field(None, description="Intranet XYZ tile URL template for the viewer's maps (天地图-style), e.g. http://tiles.intranet/{z}/{x}/{y}.png (default: none).")
    tile_datum: Literal["wgs84", "gcj02"] = Field("wgs84", description="Datum of the tile_url basemap: wgs84 (天地图, CGCS2000) or gcj02 (AMap/Tencent-style offset tiles); on gcj02 the viewer shifts the WGS-84 features onto the tiles.")
    basemap_mbtiles: Path | None = Field(None, description="An MBTiles file of raster tiles (PNG/JPEG/WebP, Web Mercator, WGS-84) the office supplies; served at /api/basemap/{z}/{x}/{y} and used as the viewer's basemap before tile_url. A missing or unreadable file stops the start.")
    thumb_max_side: int = Field(1024, ge=64, le=4096, description="Longest side, pixels, of the downscaled photos the viewer lays on their footprints.")
    edge_heartbeat_interval_s: float = Field(30.0, gt=0, description="Heartbeat interval the edge boxes are configured with (their server.heartbeat_interval_s), seconds.")
    training_workers: int = Field(1, ge=0, le=1, description="Adaptation-job thread (0: jobs wait; at most one: a fine-tune takes every core).")
    training_minutes: float = Field(20.0, gt=0, description="Default time budget of an adaptation job's fine-tune, minutes.")
    training_max_minutes: float = Field(120.0, gt=0, description="Longest fine-tune a job may ask for, minutes.")
    training_epochs: int = Field(15, ge=1, description="Default epochs of an adaptation job (the time budget stops it sooner).")
    edge_silent_after: float = Field(3.0, gt=0, description="A device is flagged silent when no heartbeat came for this many heartbeat intervals.")
    rectify_max_distance_m: float = Field(300.0, gt=0, description="A rectification photo must have been taken (EXIF GPS) within this many metres of the ticket, else the chief has to write a reason the reviewer sees.")
    patrol_near_river_m: float = Field(100.0, gt=0, description="A patrol track point this close to its segment counts as on the river; a track never this close is flagged, and the segment's coverage counts the stretches passed this close.")
    patrol_max_speed_kmh: float = Field(60.0, gt=0, description="A patrol track faster than this between two points (no walker or boat) is flagged implausible.")
    patrol_max_jump_m: float = Field(1000.0, gt=0, description="Two consecutive patrol track points farther apart than this are a jump and flag the track.")
    public_reports_per_day: int = Field(5, ge=0, description="公众举报 (no login): reports accepted from one client address per 24 hours (0: the public page is closed).")
    public_report_max_bytes: int = Field(15 * MB, ge=1, description="Largest photo of a public report, bytes.")
    notify_channels: tuple[NotifyChannel, ...] = Field((), description="Where workflow notifications go (交办, near deadline, 督办, 退回整改); empty: none.")
    notify_near_deadline_h: float = Field(24.0, gt=0, description="A dispatched ticket this many hours from its deadline gets a reminder.")
    notify_interval_s: float = Field(30.0, ge=0, description="How often queued notifications are looked for and sent (0: only via POST /api/notifications/run).")
    notify_retry_s: float = Field(60.0, gt=0, description="Pause before retrying a failed delivery; doubles with each failure.")
    notify_max_attempts: int = Field(6, ge=1, description="A delivery that failed this many times is given up (state failed).")

    @model_validator(mode="before")
    @classmethod
    def _external_workers(cls, data: Any) -> Any:
        # `--workers external` / serve_workers: external is the processing mode, not a count.
        if isinstance(data, dict) and str(data.get("workers", "")).strip().lower() == "external":
            data = {**data, "workers": 0, "processing": "external"}
        return data

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
    def results_url(self) -> str | None:
        return self.result_backend or self.broker_url

    @property
    def edge_silent_after_s(self) -> float:
        return self.edge_heartbeat_interval_s * self.edge_silent_after

    def with_overrides(self, db: str | None = None, data: Path | None = None) -> ServeConfig:
        """This config with the command line's --db/--data applied and the data folder absolute."""
        return self.model_copy(update={"data_dir": Path(data or self.data_dir).resolve(), "db_url": db or self.db_url})


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / 'heyan.db'}"
