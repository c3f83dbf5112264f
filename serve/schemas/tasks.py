"""A chief's work list on the phone (我的工单): dispatched tickets with their countdown."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TaskOut(BaseModel):
    id: str
    category: str | None
    category_zh: str | None
    class_name: str
    severity: str | None
    segment_id: str | None
    segment_name: str | None
    river: str | None
    chainage_km: float | None
    bank: str | None
    lat: float = Field(description="WGS-84")
    lon: float = Field(description="WGS-84")
    lat_gcj02: float = Field(description="GCJ-02 (AMap, Tencent maps); WGS-84 outside mainland China")
    lon_gcj02: float
    chief_level: str | None
    chief_name: str | None
    dispatched_at: datetime | None
    deadline: datetime | None
    days_left: int | None = Field(description="Whole days to the deadline, rounded up; negative: days overdue (已逾期).")
    overdue: bool
    escalations: int
    sent_back: bool = Field(description="The latest dispatch was a 退回整改 (a rectification not accepted).")
    note: str | None = Field(description="The reviewer's words with the latest 交办 / 退回整改.")
    crop_url: str | None
    photo_url: str | None


class TaskList(BaseModel):
    now: datetime = Field(description="The server's time the countdowns are from.")
    items: list[TaskOut]
