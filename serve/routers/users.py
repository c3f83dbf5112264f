"""/api/users: accounts and roles (admin only)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from heyan.serve.deps import DbId, Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.routers.auth import refuse_password, revoke_tokens
from heyan.serve.schemas.users import TokenOut, TokenOwnedOut, UserCreateIn, UserOut, UserPatchIn
from heyan.serve.security import hash_password
from heyan.serve.tables import ApiToken, User, WebSession

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserOut], summary="All users")
def list_users(_: Principal = Depends(require("users.admin")), db: Session = Depends(get_db)) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in db.scalars(sa.select(User).order_by(User.id))]


@router.post("", response_model=UserOut, status_code=201, summary="Create a user")
def create_user(body: UserCreateIn, request: Request, _: Principal = Depends(require("users.admin")),
                db: Session = Depends(get_db)) -> UserOut:
    if db.scalar(sa.select(User.id).where(sa.func.lower(User.username) == body.username.lower())) is not None:
        raise ApiError(409, f"user {body.username!r} exists", code="user_exists")
    refuse_password(body.password, body.username, body.full_name)
    chief = body.role == "chief"
    u = User(username=body.username, password_hash=hash_password(body.password), role=body.role,
             full_name=body.full_name, segments=body.segments if chief else [],
             chief_level=body.chief_level if chief else None, phone=body.phone or None, active=True,
             created_at=app_state(request).clock.now())
    db.add(u)
    db.commit()
    return UserOut.model_validate(u)


@router.get("/tokens", response_model=list[TokenOwnedOut], summary="Every user's personal API tokens (revoked ones too)")
def all_tokens(_: Principal = Depends(require("users.admin")), db: Session = Depends(get_db)) -> list[TokenOwnedOut]:
    rows = db.scalars(sa.select(ApiToken).order_by(ApiToken.id))
    return [TokenOwnedOut(**TokenOut.model_validate(t).model_dump(), user_id=t.user_id, username=t.user.username)
            for t in rows]


@router.get("/{user_id}", response_model=UserOut, summary="One user")
def get_user(user_id: DbId, _: Principal = Depends(require("users.admin")), db: Session = Depends(get_db)) -> UserOut:
    u = db.get(User, user_id)
    if u is None:
        raise ApiError(404, f"no user {user_id}", code="no_user")
    return UserOut.model_validate(u)


@router.patch("/{user_id}", response_model=UserOut, summary="Change role, segments, name, password or active")
def patch_user(user_id: DbId, body: UserPatchIn, request: Request, p: Principal = Depends(require("users.admin")),
               db: Session = Depends(get_db)) -> UserOut:
    u = db.get(User, user_id)
    if u is None:
        raise ApiError(404, f"no user {user_id}", code="no_user")
    if u.id == p.user.id and (body.active is False or (body.role and body.role != "admin")):
        raise ApiError(409, "an admin cannot demote or deactivate himself (keep one admin able to log in)",
                       code="self_demote")
    if body.role is not None:
        u.role = body.role
    if body.full_name is not None:
        u.full_name = body.full_name
    if body.segments is not None:
        u.segments = body.segments
    if body.chief_level is not None:
        u.chief_level = body.chief_level
    if body.phone is not None:
        u.phone = body.phone or None
    if u.role != "chief":
        u.segments = []
        u.chief_level = None
    if body.password is not None:
        refuse_password(body.password, u.username, u.full_name)
        u.password_hash = hash_password(body.password)
    if body.active is not None:
        u.active = body.active
    if body.active is False or body.password is not None:  # end what the old credentials opened
        db.execute(sa.delete(WebSession).where(WebSession.user_id == u.id))
        revoke_tokens(db, u.id, app_state(request).clock.now())
    db.commit()
    return UserOut.model_validate(u)


@router.get("/{user_id}/tokens", response_model=list[TokenOut], summary="A user's personal API tokens (revoked ones too)")
def user_tokens(user_id: DbId, _: Principal = Depends(require("users.admin")), db: Session = Depends(get_db)) -> list[TokenOut]:
    if db.get(User, user_id) is None:
        raise ApiError(404, f"no user {user_id}", code="no_user")
    rows = db.scalars(sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    return [TokenOut.model_validate(t) for t in rows]


@router.delete("/{user_id}/tokens", response_model=list[TokenOut], summary="Revoke all of a user's personal API tokens")
def revoke_user_tokens(user_id: DbId, request: Request, _: Principal = Depends(require("users.admin")),
                       db: Session = Depends(get_db)) -> list[TokenOut]:
    if db.get(User, user_id) is None:
        raise ApiError(404, f"no user {user_id}", code="no_user")
    revoke_tokens(db, user_id, app_state(request).clock.now())
    db.commit()
    rows = db.scalars(sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    return [TokenOut.model_validate(t) for t in rows]
