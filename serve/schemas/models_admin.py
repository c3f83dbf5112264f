"""Shapes of /api/models: adaptation jobs, site models, which model is in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from heyan.serve.schemas.common import In


class JobIn(In):
    scope: str = Field(..., max_length=256, pattern=r"^(all|(flight|camera|segment):.+)$",
                       description="The site whose labels teach: all | flight:<id> | camera:<device>/<camera> | segment:<id>.")
    minutes: float | None = Field(None, gt=0, description="Time budget of the fine-tune (default and ceiling: the server's).")
    epochs: int | None = Field(None, ge=1, le=300)


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    scope: str
    state: str
    stage: str | None
    progress: float
    minutes: float
    epochs: int
    base_name: str | None
    base_sha256: str | None
    result: dict[str, Any] | None
    new_model_sha256: str | None
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(BaseModel):
    items: list[JobOut]


class SiteModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sha256: str
    name: str
    base_name: str | None
    base_sha256: str | None
    job_id: int | None
    created_by: str
    created_at: datetime
    card: dict[str, Any]


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    scope: str
    model_sha256: str | None
    action: str
    actor: str
    at: datetime


class InForce(BaseModel):
    scope: str
    name: str
    sha256: str | None
    site_model: bool = Field(description="False: the model of the server's settings.")


class ModelsOut(BaseModel):
    in_force: InForce
    models: list[SiteModelOut]
    history: list[AssignmentOut]
    may_roll_back: bool
    targets: list[InForce] = Field(default_factory=list, description="Where a model can be switched on: 'all' and every "
                                                                     "edge box (device:<name>), each with its model in force.")


class ActivateIn(In):
    scope: str = Field("all", max_length=256)


class ScopeOut(BaseModel):
    scope: str
    frames: int = Field(description="Frames labelled 已完整标注 at this site.")


class ScopesOut(BaseModel):
    items: list[ScopeOut]
