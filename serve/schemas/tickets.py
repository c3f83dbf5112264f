"""Tickets, their evidence, audit, transitions and queues."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from heyan.serve.schemas.common import In, State
from heyan.serve.workflow import REJECT_REASONS


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
    proof: dict[str, Any] | None = Field(
        None, description="Rectification photo: problems of its EXIF time/position against the dispatch, the chief's reason.")


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
    model_name: str | None = Field(None, description="The detector that made this ticket (zoo name).")
    model_sha256: str | None = Field(None, description="sha256 of that detector's ONNX file.")


ChiefLevel = Literal["village", "township", "county"]


class TransitionIn(In):
    to: State
    comment: str | None = Field(None, max_length=4000)
    chief_level: ChiefLevel | None = Field(
        None, description="交办 only: the level of the segment's chief to assign (default: the lowest with a chief).")
    deadline: AwareDatetime | None = Field(
        None, description="交办 only: the rectification deadline, with its time zone (default: the rule's days from now).")
    reject_reason: str | None = Field(
        None, max_length=32, json_schema_extra={"enum": list(REJECT_REASONS)},
        description="驳回 only: why the detection is not a problem (误报 type); goes into the hard-negative exports.")


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
