"""/api/auth: login (session cookie + CSRF token), logout, who am I, own password, personal
API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from heyan.serve.deps import CSRF_COOKIE, SESSION_COOKIE, DbId, Principal, app_state, client_ip, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.schemas.common import Ok
from heyan.serve.schemas.users import LoginIn, LoginOut, PasswordChangeIn, TokenCreated, TokenCreateIn, TokenOut, UserOut
from heyan.serve.security import PERSONAL_PREFIX, hash_password, new_token, password_refusal, token_hash, verify_password
from heyan.serve.tables import ApiToken, User, WebSession

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", response_model=LoginOut, summary="Log in: sets the session and CSRF cookies")
def login(body: LoginIn, request: Request, response: Response, db: Session = Depends(get_db)) -> LoginOut:
    st = app_state(request)
    keys = (f"user:{body.username.lower()}", f"ip:{client_ip(request)}")
    # Check and count in one step: this attempt counts as a failure until it succeeds.
    wait, attempt = st.limiter.begin(*keys)
    if attempt is None:
        raise ApiError(429, f"too many failed logins; try again in {int(wait) + 1} s",
                       {"Retry-After": str(int(wait) + 1)}, code="too_many_logins")
    user = db.scalar(sa.select(User).where(User.username == body.username))
    if not verify_password(user.password_hash if user else None, body.password) or user is None or not user.active:
        raise ApiError(401, "wrong username or password", code="bad_login")
    st.limiter.succeeded(attempt, reset=(keys[0],))
    now = st.clock.now()
    cookie, csrf = new_token(), new_token()
    expires = now + timedelta(hours=st.config.session_hours)
    db.add(WebSession(id=token_hash(cookie), user_id=user.id, csrf_token=csrf, created_at=now, expires_at=expires))
    db.execute(sa.delete(WebSession).where(WebSession.expires_at < now))  # sweep old sessions
    db.commit()
    age = int(st.config.session_hours * 3600)
    secure = st.config.cookie_secure
    response.set_cookie(SESSION_COOKIE, cookie, max_age=age, httponly=True, samesite="strict", secure=secure, path="/")
    # Readable by the page's script (not HttpOnly): it echoes it in X-CSRF-Token.
    response.set_cookie(CSRF_COOKIE, csrf, max_age=age, httponly=False, samesite="strict", secure=secure, path="/")
    return LoginOut(user=UserOut.model_validate(user), csrf_token=csrf, expires_at=expires)


@router.post("/logout", response_model=Ok, summary="End the browser session")
def logout(response: Response, p: Principal = Depends(require("self")), db: Session = Depends(get_db)) -> Ok:
    if p.session is not None:
        db.execute(sa.delete(WebSession).where(WebSession.id == p.session.id))
        db.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return Ok()


@router.get("/me", response_model=UserOut, summary="The logged-in user")
def me(p: Principal = Depends(require("self"))) -> UserOut:
    return UserOut.model_validate(p.user)


@router.post("/password", response_model=Ok, summary="Change one's own password")
def change_password(body: PasswordChangeIn, request: Request, p: Principal = Depends(require("self")),
                    db: Session = Depends(get_db)) -> Ok:
    user = db.get(User, p.user.id)
    assert user is not None
    if not verify_password(user.password_hash, body.old_password):
        raise ApiError(403, "the old password is wrong", code="wrong_password")
    refuse_password(body.new_password, user.username, user.full_name)
    user.password_hash = hash_password(body.new_password)
    # Other sessions and every personal API token of this user end: a changed password is
    # often a suspected leak, and a token made with the old one must not outlive it.
    db.execute(sa.delete(WebSession).where(WebSession.user_id == user.id,
                                           WebSession.id != (p.session.id if p.session else "")))
    revoke_tokens(db, user.id, app_state(request).clock.now())
    db.commit()
    return Ok()


def refuse_password(password: str, username: str, full_name: str | None) -> None:
    """422 with the policy's code (password_too_short, password_common, ...) when refused."""
    if (refusal := password_refusal(password, username, full_name)) is not None:
        raise ApiError(422, f"password refused: {refusal[1]}", code=refusal[0])


def revoke_tokens(db: Session, user_id: int, now: datetime) -> int:
    """Revoke every live personal API token of a user; returns how many."""
    r = db.execute(sa.update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                   .values(revoked_at=now))
    assert isinstance(r, CursorResult)  # an UPDATE's result counts its rows
    return int(r.rowcount or 0)


@router.get("/tokens", response_model=list[TokenOut], summary="Own personal API tokens")
def list_tokens(p: Principal = Depends(require("self")), db: Session = Depends(get_db)) -> list[TokenOut]:
    rows = db.scalars(sa.select(ApiToken).where(ApiToken.user_id == p.user.id).order_by(ApiToken.id))
    return [TokenOut.model_validate(t) for t in rows]


@router.post("/tokens", response_model=TokenCreated, status_code=201, summary="Create a personal API token (shown once)")
def create_token(body: TokenCreateIn, request: Request, p: Principal = Depends(require("self")),
                 db: Session = Depends(get_db)) -> TokenCreated:
    token = new_token(PERSONAL_PREFIX)
    t = ApiToken(user_id=p.user.id, name=body.name, token_hash=token_hash(token), prefix=token[:8],
                 created_at=app_state(request).clock.now())
    db.add(t)
    db.commit()
    return TokenCreated(**TokenOut.model_validate(t).model_dump(), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke a personal API token")
def revoke_token(token_id: DbId, request: Request, p: Principal = Depends(require("self")),
                 db: Session = Depends(get_db)) -> TokenOut:
    t = db.get(ApiToken, token_id)
    if t is None or (t.user_id != p.user.id and p.role != "admin"):
        raise ApiError(404, f"no token {token_id}", code="no_token")
    if t.revoked_at is None:
        t.revoked_at = app_state(request).clock.now()
        db.commit()
    return TokenOut.model_validate(t)
