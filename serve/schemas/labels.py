"""Shapes of /api/labels: a frame with its detections and labels, a save, the queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from heyan.serve.schemas.common import In


class LabelBox(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    class_name: str = Field(alias="class", max_length=64, description="One of Heyan's classes (vision/classes.py).")
    box: list[float] = Field(min_length=4, max_length=4, description="[x1, y1, x2, y2] in the frame's full-resolution pixels.")
    origin: Literal["detection", "drawn"] = "drawn"
    ticket_id: str | None = Field(None, max_length=64, description="The ticket whose detection this box is; its class follows.")
    score: float | None = None


class LabelSaveIn(In):
    boxes: list[LabelBox] = Field(max_length=2000)
    complete: bool = Field(False, description="已完整标注: every object in the frame is boxed.")
    base_version: int | None = Field(None, ge=1, description="The version the edit started from (None: the first save).")
    comment: str | None = Field(None, max_length=2000)


class LabelVersionOut(BaseModel):
    version: int
    complete: bool
    boxes: list[dict[str, Any]]
    created_by: str
    created_at: datetime
    comment: str | None = None


class VersionSummary(BaseModel):
    version: int
    complete: bool
    n_boxes: int
    created_by: str
    created_at: datetime


class FrameOut(BaseModel):
    sha256: str
    kind: str = Field(description="flight_photo | edge_snapshot | evidence")
    name: str
    source: str
    width: int
    height: int
    photo_url: str
    preview_url: str
    detections: list[dict[str, Any]]
    labels: LabelVersionOut | None
    versions: list[VersionSummary]
    classes: list[dict[str, str]] = Field(description="Heyan's classes in model order: name and drawing colour (#rrggbb).")


class LabelSaved(LabelVersionOut):
    tickets_changed: list[str] = Field(description="Tickets whose class (and category) followed the labels.")


class QueueItemOut(BaseModel):
    sha256: str
    reason: str = Field(description="uncertain | near_find | new_source | random")
    name: str
    source: str
    low_scores: int


class QueueOut(BaseModel):
    items: list[QueueItemOut]
    random_share: float
