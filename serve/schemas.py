"""Request and response shapes of the JSON API (pydantic). Field names here are the API's
contract with the web viewer and API clients: change them only with docs/serve.md."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class DeviceTokenOut(BaseModel):
    device: DeviceOut
    token: str = Field(description="Shown once; only its hash is stored.")


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
    evidence: list[EvidenceOut]
    audit: list[AuditOut]


class TransitionIn(In):
    to: State
    comment: str | None = Field(None, max_length=4000)


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
