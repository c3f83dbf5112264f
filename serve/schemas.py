"""Request and response shapes of the JSON API (pydantic). Field names here are the API's
contract with the web viewer and API clients: change them only with docs/serve.md."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from heyan.pipeline.tickets.rules import EDGE_EVENT_KINDS
from heyan.serve.permissions import PERMISSIONS

Role = Literal["admin", "reviewer", "chief", "operator", "viewer"]
State = Literal["pending_review", "confirmed", "rejected", "dispatched", "rectified", "closed"]


class In(BaseModel):
    """Base of request bodies: no NUL characters in any text (PostgreSQL cannot store them)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        items = v if isinstance(v, list) else [v]
        if any(isinstance(x, str) and "\x00" in x for x in items):
            raise ValueError("NUL characters are not allowed")
        return v


class Ok(BaseModel):
    ok: bool = True


class Health(BaseModel):
    ok: bool
    version: str
    schema_revision: str | None


# --------------------------------------------------------------------------- auth and users


class LoginIn(In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    role: Role
    full_name: str | None
    segments: list[str]
    active: bool
    created_at: datetime

    @computed_field(description="What this role may do (serve.permissions): the viewer shows only these actions.")  # type: ignore[prop-decorator]
    @property
    def permissions(self) -> list[str]:
        return sorted(p for p, roles in PERMISSIONS.items() if self.role in roles)


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="Send this value in the X-CSRF-Token header of every POST/PATCH/DELETE.")
    expires_at: datetime


class PasswordChangeIn(In):
    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class TokenCreateIn(In):
    name: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")


class UserCreateIn(In):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    full_name: str | None = Field(None, max_length=128)
    segments: list[str] = Field(default_factory=list, max_length=10000,
                                description="River segment ids a chief answers for (chief role only).")


class UserPatchIn(In):
    role: Role | None = None
    full_name: str | None = Field(None, max_length=128)
    segments: list[str] | None = Field(None, max_length=10000)
    active: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=1024)


# --------------------------------------------------------------------------- devices


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


class DeviceTokenOut(BaseModel):
    device: DeviceOut
    token: str = Field(description="Shown once; only its hash is stored.")


# --------------------------------------------------------------------------- edge boxes
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


class EdgeHeartbeatOut(BaseModel):
    ok: bool = True
    device: str
    received_at: datetime
    silent_after_s: float = Field(description="The server flags this device silent after this long without a heartbeat.")


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


# --------------------------------------------------------------------------- rivers


class RiverNetworkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    name: str | None
    sha256: str
    n_segments: int
    warnings: list[str]
    active: bool
    created_by: str
    created_at: datetime


class SegmentOut(BaseModel):
    id: str
    name: str | None
    river: str | None
    chiefs: dict[str, Any] | None
    bbox: list[float]


# --------------------------------------------------------------------------- flights and jobs


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    state: Literal["queued", "running", "done", "failed"]
    photos_done: int
    photos_total: int
    attempts: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class FlightOut(BaseModel):
    id: str
    name: str
    source: str
    n_photos: int
    bytes: int
    uploaded_by: str
    created_at: datetime
    network_version: int | None
    job: JobOut | None = Field(None, description="The latest processing job: state and progress.")


class FlightDetail(FlightOut):
    summary: dict[str, Any] | None
    rejected_photos: list[dict[str, str]]
    report_url: str | None


class FlightPage(BaseModel):
    items: list[FlightOut]
    total: int
    limit: int
    offset: int


class FlightUploadOut(BaseModel):
    flight: FlightOut
    duplicate: bool = Field(description="True: this content was uploaded before; nothing new was stored or queued.")
    skipped: list[str] = Field(description="Files in the upload that were neither photos nor a zip.")


class PhotoOut(BaseModel):
    name: str
    sha256: str
    size: int
    url: str
    rejected: str | None


# --------------------------------------------------------------------------- tickets


class TicketOut(BaseModel):
    id: str
    state: State
    category: str | None
    category_zh: str | None
    class_name: str
    severity: str | None
    score: float
    lat: float
    lon: float
    error_m: float
    segment_id: str | None
    segment_name: str | None
    river: str | None
    chainage_km: float | None
    bank: str | None
    network_version: int | None
    flight_id: str | None
    chief_level: str | None
    chief_name: str | None
    deadline: datetime | None
    overdue: bool
    escalations: int
    n_views: int
    found_at: datetime
    updated_at: datetime
    best_image: str | None
    best_photo_url: str | None
    best_crop_url: str | None
    best_box: list[float] | None


class TicketPage(BaseModel):
    items: list[TicketOut]
    total: int
    limit: int
    offset: int


class EvidenceOut(BaseModel):
    id: int
    kind: Literal["detection", "seen_again", "not_seen", "rectification"]
    flight_id: str | None
    image_name: str | None
    photo_url: str | None
    crop_url: str | None
    box: list[float] | None
    score: float | None
    lat: float | None
    lon: float | None
    error_m: float | None
    taken_at: str | None
    comment: str | None
    created_by: str
    created_at: datetime


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    comment: str | None
    data: dict[str, Any] | None


class TicketDetail(TicketOut):
    rule: str | None
    reason: str | None
    chiefs: dict[str, Any] | None
    dispatched_chief: str | None
    deadline_days: int | None
    size_m: float | None
    created_at: datetime
    dispatched_at: datetime | None
    rectified_at: datetime | None
    closed_at: datetime | None
    last_seen_at: datetime | None
    not_seen_count: int
    was_overdue: bool
    allowed_transitions: list[str] = Field(description="States the caller may move this ticket to now.")
    may_urge: bool = Field(False, description="The caller may 督办/催办 this ticket now (POST .../urge).")
    evidence: list[EvidenceOut]
    audit: list[AuditOut]


ChiefLevel = Literal["village", "township", "county"]


class TransitionIn(In):
    to: State
    comment: str | None = Field(None, max_length=4000)
    chief_level: ChiefLevel | None = Field(
        None, description="交办 only: the level of the segment's chief to assign (default: the lowest with a chief).")
    deadline: AwareDatetime | None = Field(
        None, description="交办 only: the rectification deadline, with its time zone (default: the rule's days from now).")


class UrgeIn(In):
    comment: str | None = Field(None, max_length=4000)


class QueueCounts(BaseModel):
    """Tickets per work queue of the ledger, under the same filters (state and overdue aside)."""

    pending_review: int = Field(description="待审核")
    confirmed: int = Field(description="待交办: confirmed, not yet dispatched")
    dispatched: int = Field(description="整改中")
    rectified: int = Field(description="待销号")
    overdue: int = Field(description="已逾期: dispatched and past the deadline")


class EscalationOut(BaseModel):
    checked_at: datetime
    changed: list[str]


# --------------------------------------------------------------------------- stats


class AssessmentRow(BaseModel):
    key: str = Field(description="Segment id, or the chief's name.")
    name: str | None
    found: int = Field(description="Tickets confirmed as problems (every state but pending_review and rejected).")
    resolved: int = Field(description="Closed tickets.")
    resolution_rate: float | None
    avg_handling_hours: float | None = Field(description="Mean dispatch-to-close time of closed tickets.")
    overdue: int = Field(description="Tickets that went past their deadline (now or before).")
    open_overdue: int = Field(description="Tickets overdue right now.")


class AssessmentOut(BaseModel):
    date_from: date | None
    date_to: date | None
    by_segment: list[AssessmentRow]
    by_chief: list[AssessmentRow]


class ViewerConfig(BaseModel):
    """What the web viewer needs to know before login."""
    version: str
    tile_url: str | None = Field(None, description="XYZ tile URL template of an intranet tile server, or null.")
