"""Edge devices as the office manages them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from heyan.serve.schemas.common import In


class DeviceCreateIn(In):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = Field(None, max_length=2000)


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str | None
    token_prefix: str | None
    token_issued_at: datetime | None
    revoked_at: datetime | None
    last_seen_at: datetime | None
    created_by: str
    created_at: datetime
    last_heartbeat_at: datetime | None = None
    health: dict[str, Any] | None = Field(None, description="The box's latest heartbeat (edge/README.md, \"Heartbeat\").")
    silent: bool = Field(False, description="No heartbeat for serve_edge_silent_after x serve_edge_heartbeat_interval_s (or never).")
    silent_after_s: float | None = Field(None, description="How long without a heartbeat makes a device silent (the server's setting).")


class DeviceTokenOut(BaseModel):
    device: DeviceOut
    token: str = Field(description="Shown once; only its hash is stored.")
