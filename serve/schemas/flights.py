"""Flights, their photos and processing jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
