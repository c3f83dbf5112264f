"""Flights, their photos and processing jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from heyan.serve.jobs import error_code


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

    @computed_field(description="Stable code of error: no_usable_photos, no_river_network, processing_error.")  # type: ignore[prop-decorator]
    @property
    def error_code(self) -> str | None:
        return error_code(self.error)


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


class RejectedPhoto(BaseModel):
    name: str
    reason: str = Field(description="The pipeline's reason, in English.")
    code: str = Field(description="Stable code of the reason: corrupt, too_large, no_gps, bad_gps, no_attitude, no_georef, unreadable, other.")


class PhotoPlacement(BaseModel):
    name: str
    sha256: str
    time: str | None
    off_river: bool
    detections: int
    outline: list[list[float]] = Field(description="Footprint outline, [lon, lat] points (WGS-84).")
    corners: list[list[float]] | None = Field(description="Ground [lon, lat] of the image corners (TL, TR, BR, BL); null for oblique views.")
    position: list[float] | None = Field(description="The drone's [lon, lat] when the photo was taken.")
    thumb_url: str


class FlightDetail(FlightOut):
    summary: dict[str, Any] | None
    rejected_photos: list[RejectedPhoto]
    report_url: str | None
    photos_map: list[PhotoPlacement] = Field(default_factory=list, description="Used photos on the ground, in time order (the track).")
    seen_again: list[str] = Field(default_factory=list, description="Ids of earlier flights' tickets this flight saw again.")
    report_pdf_url: str | None = Field(None, description="The same report as an A4 PDF, for filing and printing.")


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
