"""Login, users and personal API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from heyan.serve.permissions import PERMISSIONS
from heyan.serve.schemas.common import In, Role


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

    @computed_field(description="What this role may do (serve.permissions): the viewer shows only these actions.")  # type: ignore[prop-decorator]
    @property
    def permissions(self) -> list[str]:
        return sorted(p for p, roles in PERMISSIONS.items() if self.role in roles)


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
