"""Server configuration: plain values taken once from ``heyan.settings`` (and CLI overrides),
so nothing under ``serve/`` reads the environment itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from heyan.settings import Settings
from models import DEFAULT_MODEL

MB = 1024 * 1024


@dataclass
class ServeConfig:
    data_dir: Path
    db_url: str
    admin_password: str | None = None
    max_upload_bytes: int = 8192 * MB
    max_photo_bytes: int = 200 * MB
    max_files: int = 20000
    max_json_bytes: int = 64 * MB
    workers: int = 1
    job_lease_s: float = 120.0
    job_max_attempts: int = 3
    session_hours: float = 12.0
    cookie_secure: bool = False
    login_max_failures: int = 5
    login_window_s: float = 60.0
    login_max_address_failures: int = 20
    trusted_proxies: tuple[str, ...] = ()  # addresses or CIDR networks whose X-Forwarded-For is believed
    db_busy_timeout_s: float = 30.0
    escalation_interval_s: float = 300.0
    rules_path: Path | None = None
    model: str = DEFAULT_MODEL
    tile_url: str | None = None
    edge_heartbeat_interval_s: float = 30.0
    edge_silent_after: float = 3.0  # heartbeat intervals without a heartbeat -> the device is "silent"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def edge_silent_after_s(self) -> float:
        return self.edge_heartbeat_interval_s * self.edge_silent_after

    @classmethod
    def from_settings(cls, s: Settings, db: str | None = None, data: Path | None = None) -> ServeConfig:
        data_dir = Path(data or s.serve_data_dir).resolve()
        return cls(
            data_dir=data_dir,
            db_url=db or s.serve_db_url or default_db_url(data_dir),
            admin_password=s.admin_password,
            max_upload_bytes=s.serve_max_upload_mb * MB,
            max_photo_bytes=s.serve_max_photo_mb * MB,
            max_files=s.serve_max_files,
            max_json_bytes=s.serve_max_json_mb * MB,
            workers=s.serve_workers,
            job_lease_s=s.serve_job_lease_s,
            job_max_attempts=s.serve_job_max_attempts,
            session_hours=s.serve_session_hours,
            cookie_secure=s.serve_cookie_secure,
            login_max_failures=s.serve_login_max_failures,
            login_window_s=s.serve_login_window_s,
            login_max_address_failures=s.serve_login_max_address_failures,
            trusted_proxies=tuple(x.strip() for x in s.serve_trusted_proxies.split(",") if x.strip()),
            db_busy_timeout_s=s.serve_db_busy_timeout_s,
            escalation_interval_s=s.serve_escalation_interval_s,
            rules_path=s.serve_rules,
            model=s.serve_model or s.default_model,
            tile_url=s.serve_tile_url,
            edge_heartbeat_interval_s=s.serve_edge_heartbeat_interval_s,
            edge_silent_after=s.serve_edge_silent_after,
        )


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / 'heyan.db'}"
