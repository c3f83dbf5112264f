"""Shapes every router shares: the strict request base, Ok, health; roles and states."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, field_validator

Role = Literal["admin", "reviewer", "chief", "operator", "viewer", "trainer"]
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
