"""The river network and its segments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
