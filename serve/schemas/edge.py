"""Edge boxes' events and heartbeats (the box's side: edge/uploader.py, edge/heartbeat.py)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from heyan.pipeline.tickets.rules import EDGE_EVENT_KINDS

# The box's side of this contract is edge/uploader.py and edge/heartbeat.py (edge/README.md,
# "HTTP contract"). A 4xx other than 401/403 makes the box drop the record for good, so
# what can be repaired is repaired here rather than refused.

EventKind = Literal[EDGE_EVENT_KINDS]  # type: ignore[valid-type]  # the tuple's values, one place for them
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_JSON_DEPTH = 32


def clean_json(v: Any, depth: int = 0) -> Any:
    """Make a box's JSON storable: PostgreSQL's json cannot hold NaN/Infinity and its text
    cannot hold NUL, so non-finite numbers become null and NULs are dropped (an event is
    never refused for a stray value in its details)."""
    if depth > _JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {_JSON_DEPTH} levels")
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, str):
        return v.replace("\x00", "")
    if isinstance(v, list):
        return [clean_json(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {str(k).replace("\x00", ""): clean_json(x, depth + 1) for k, x in v.items()}
    return v


# Stored sizes: an event's details and a heartbeat are kept as sent, within these bounds.
EDGE_DETAILS_MAX = 16 * 1024
EDGE_HEALTH_MAX = 64 * 1024
EDGE_TEXT_MAX = 2000


def json_size(v: Any) -> int:
    return len(json.dumps(v, ensure_ascii=False, default=str).encode("utf-8"))


def _cap_text(v: Any) -> Any:
    return v[:EDGE_TEXT_MAX] if isinstance(v, str) else v


class EdgeIn(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        return clean_json(data)


def _utc(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    if v.tzinfo is None:  # the contract says UTC; a box that forgot the Z means it too
        v = v.replace(tzinfo=UTC)
    if not 1900 <= v.year <= 9000:  # a box whose clock was never set says 1970, which is kept
        raise ValueError("time out of range (years 1900-9000)")
    return v


class EdgeEventIn(EdgeIn):
    """One event's newest state, as the box sends it."""

    event_id: str = Field(min_length=1, max_length=64, description="UUID made on the box; with seq, the idempotency key.")
    seq: int = Field(ge=1, le=2**31 - 1, description="Grows with each change of this event.")
    device_id: str | None = Field(None, max_length=256, description="The box's own name (informative; the token says which device).")
    camera_id: str = Field(min_length=1, max_length=256)
    kind: EventKind
    phase: Literal["start", "update", "end"]
    class_name: str | None = Field(None, alias="class", max_length=64, description="Detector class (object events).")
    score: float | None = Field(None, ge=0, le=1)
    box: list[float] | None = Field(None, min_length=4, max_length=4, description="x1, y1, x2, y2 in frame pixels.")
    lat: float | None = Field(None, description="Ground position from the camera's calibration (WGS-84).")
    lon: float | None = None
    error_m: float | None = Field(None, ge=0)
    started_at: datetime
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    snapshot_sha256: Sha256 | None = None
    crop_sha256: Sha256 | None = None
    outfall_id: str | None = Field(None, max_length=256)
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("started_at", "updated_at", "ended_at")
    @classmethod
    def _times(cls, v: datetime | None) -> datetime | None:
        return _utc(v)

    @field_validator("details", mode="before")
    @classmethod
    def _details(cls, v: Any) -> Any:
        return {} if v is None else v

    @field_validator("details")
    @classmethod
    def _details_size(cls, v: dict[str, Any]) -> dict[str, Any]:
        # Kept, not refused (a box drops a refused event for good): too big, only its size is.
        n = json_size(v)
        return v if n <= EDGE_DETAILS_MAX else {"truncated": True, "bytes": n, "limit": EDGE_DETAILS_MAX}

    @model_validator(mode="after")
    def _position(self) -> EdgeEventIn:
        # An impossible position is no position: the event is kept (as "no_position").
        ok = (self.lat is not None and self.lon is not None and -90 <= self.lat <= 90 and -180 <= self.lon <= 180)
        if not ok:
            self.lat = self.lon = self.error_m = None
        return self


class EdgeEventStored(BaseModel):
    stored: bool = Field(description="true: new, or newer than what the server had (kept); false: it had this seq or a newer one. Both mean delivered.")
    event_id: str
    seq: int = Field(description="The seq the server holds for this event now.")
    outcome: str | None = Field(description="ticket | seen_again | no_ticket | no_position | no_network | health")
    ticket_id: str | None


class EdgeMediaStored(BaseModel):
    stored: bool = Field(description="true: new to the server; false: it had this file already. Both mean delivered.")
    sha256: str
    size: int


class EdgeHeartbeatIn(EdgeIn):
    """The box's health (edge/heartbeat.py); stored as sent, these fields are checked."""

    model_config = ConfigDict(extra="allow")
    device_id: str | None = Field(None, max_length=256)
    version: str | None = Field(None, max_length=64)
    time: float | None = None
    uptime_s: float | None = None
    outbox_depth: int | None = None
    last_error: str | None = None
    auth_error: str | None = None
    uploader_error: str | None = None
    cameras: dict[str, dict[str, Any]] | None = None

    @field_validator("last_error", "auth_error", "uploader_error", mode="before")
    @classmethod
    def _texts(cls, v: Any) -> Any:
        return _cap_text(v)

    @model_validator(mode="after")
    def _health_size(self) -> EdgeHeartbeatIn:
        # Stored as sent and shown in GET /api/devices: past the cap, only the checked
        # scalar fields are kept, with a note of the size.
        n = json_size(self.model_dump(mode="json"))
        if n > EDGE_HEALTH_MAX:
            if self.__pydantic_extra__:
                self.__pydantic_extra__.clear()
            self.cameras = None
            self.__pydantic_extra__ = {"truncated": True, "bytes": n, "limit": EDGE_HEALTH_MAX}
        return self


class EdgeModelOut(BaseModel):
    """The model this box should run (a site model switched on for it): fetch both files,
    check the ONNX file's sha256 against ``sha256`` before using it."""

    name: str
    sha256: str
    onnx_url: str
    card_url: str


class EdgeHeartbeatOut(BaseModel):
    ok: bool = True
    device: str
    received_at: datetime
    silent_after_s: float = Field(description="The server flags this device silent after this long without a heartbeat.")
    model: EdgeModelOut | None = Field(None, description="The site model switched on for this box; None: run the model of its own configuration.")


class EdgeEventOut(BaseModel):
    id: int
    device_id: int
    device: str = Field(description="The registered device's name.")
    reported_device: str | None
    event_id: str
    seq: int
    camera_id: str
    kind: str
    phase: str
    class_name: str | None
    score: float | None
    box: list[float] | None
    lat: float | None
    lon: float | None
    error_m: float | None
    outfall_id: str | None
    started_at: datetime
    updated_at: datetime | None
    ended_at: datetime | None
    snapshot_url: str | None
    crop_url: str | None
    details: dict[str, Any]
    received_at: datetime
    stored_at: datetime
    posts: int = Field(description="POSTs of this event received, repeats included.")
    outcome: str | None
    reason: str | None
    rule: str | None
    category: str | None
    segment_id: str | None
    ticket_id: str | None


class EdgeEventPage(BaseModel):
    items: list[EdgeEventOut]
    total: int
    limit: int
    offset: int
