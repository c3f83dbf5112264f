"""Login, users and personal API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from heyan.serve.permissions import PERMISSIONS
from heyan.serve.schemas.common import In, Role
from heyan.serve.schemas.tickets import ChiefLevel

_PHONE = r"[0-9+\-() ]{3,20}"  # as the river network's chief phones (pipeline.geo.rivers_schema)


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
    chief_level: ChiefLevel | None = Field(None, description="The level a chief account answers for on its segments.")
    phone: str | None = None
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


class TokenOwnedOut(TokenOut):
    """A token with its owner, for the admin's list of every user's tokens."""
    user_id: int
    username: str


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")


class UserCreateIn(In):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    full_name: str | None = Field(None, max_length=128)
    segments: list[str] = Field(default_factory=list, max_length=10000,
                                description="River segment ids a chief answers for (chief role only).")
    chief_level: ChiefLevel | None = Field(None, description="Chief role only: the level of the segments' chief this account is.")
    phone: str | None = Field(None, pattern=f"^{_PHONE}$")


class UserPatchIn(In):
    role: Role | None = None
    full_name: str | None = Field(None, max_length=128)
    segments: list[str] | None = Field(None, max_length=10000)
    chief_level: ChiefLevel | None = None
    phone: str | None = Field(None, pattern=f"^(|{_PHONE})$", description="An empty string clears it.")
    active: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=1024)
