"""问题上报: the detector's suggestion for a photo, and what a report became."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SuggestionOut(BaseModel):
    class_name: str
    score: float
    box: list[float] = Field(description="x1, y1, x2, y2 in pixels of the photo as sent")


class SuggestOut(BaseModel):
    width: int
    height: int
    suggestions: list[SuggestionOut] = Field(description="The detector's finds, best first (empty: it saw nothing)")


class ReportOut(BaseModel):
    id: str
    outcome: str = Field(description="ticket: a new ticket in 待审核; seen_again: added to the open ticket of the same problem")
    ticket_id: str
    segment_id: str | None
    class_name: str
    reason: str
    lat: float
    lon: float
    position_source: str = Field(description="form (the phone's GPS) or exif (the photo's own)")
    suggestions: list[SuggestionOut]
