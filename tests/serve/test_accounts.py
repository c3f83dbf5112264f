"""Accounts: argon2 hashes, login rate limit (per account -> 429; per address: test_login_limits.py), roles and
segments managed by the admin, personal tokens and device tokens stored hashed, revocation."""

from __future__ import annotations

import sqlalchemy as sa
from serve_helpers import ADMIN_PASSWORD, LiveServer

from heyan.serve.tables import ApiToken, Device, User


def test_login_rate_limit(live_module: LiveServer) -> None:
    live = live_module
    admin = live.client("admin")
    admin.post("/api/users", json={"username": "limited", "password": "right-password", "role": "viewer"})
    with live.client() as c:
        for _ in range(5):
            assert c.post("/api/auth/login", json={"username": "limited", "password": "wrong"}).status_code == 401
        r = c.post("/api/auth/login", json={"username": "limited", "password": "right-password"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "too many" in r.json()["detail"]
        # One account's failures do not lock other accounts at the same address (issue 16).
        assert c.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).status_code == 200
    live.state.limiter.reset("ip:127.0.0.1")
    live.state.limiter.reset("user:limited")
    assert live.client().post("/api/auth/login", json={"username": "limited", "password": "right-password"}).status_code == 200


def test_users_roles_and_secrets_hashed(live_module: LiveServer) -> None:
    live = live_module
    admin = live.client("admin")
    r = admin.post("/api/users", json={"username": "chief2", "password": "patrol-the-reach", "role": "chief",
                                       "segments": ["seg-a"], "full_name": "王河长"})
    assert r.status_code == 201
    uid = r.json()["id"]
    assert admin.post("/api/users", json={"username": "chief2", "password": "xxxxxxxxx", "role": "viewer"}).status_code == 409
    assert admin.post("/api/users", json={"username": "bad", "password": "short", "role": "viewer"}).status_code == 422
    assert admin.post("/api/users", json={"username": "bad", "password": "long-enough", "role": "king"}).status_code == 422
    r = admin.patch(f"/api/users/{uid}", json={"segments": ["seg-a", "seg-b"]})
    assert r.json()["segments"] == ["seg-a", "seg-b"]
    me = admin.get("/api/auth/me").json()
    assert admin.patch(f"/api/users/{me['id']}", json={"role": "viewer"}).status_code == 409
    c = live.login("chief2", "patrol-the-reach")
    tok = c.post("/api/auth/tokens", json={"name": "script"}).json()["token"]
    assert tok.startswith("hyp_")
    with live.state.db.session() as db:
        user = db.scalar(sa.select(User).where(User.username == "chief2"))
        assert user.password_hash.startswith("$argon2id$") and "patrol-the-reach" not in user.password_hash
        stored = db.scalars(sa.select(ApiToken.token_hash).where(ApiToken.user_id == uid)).all()
        assert stored and tok not in stored and all(len(h) == 64 for h in stored)
    # Deactivating a user ends his sessions and revokes his tokens.
    admin.patch(f"/api/users/{uid}", json={"active": False})
    assert c.get("/api/auth/me").status_code == 401
    with live.client() as b:
        assert b.get("/api/auth/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 401
    # Password change needs the old one.
    live.token("viewer")  # makes sure the viewer user exists
    v = live.login("viewer-user", "viewer-password")
    assert v.post("/api/auth/password", json={"old_password": "nope", "new_password": "new-password-1"}).status_code == 403
    assert v.post("/api/auth/password", json={"old_password": "viewer-password", "new_password": "new-password-1"}).status_code == 200
    live.login("viewer-user", "new-password-1")


def test_devices(live_module: LiveServer) -> None:
    live = live_module
    admin = live.client("admin")
    r = admin.post("/api/devices", json={"name": "桥头卡口-01", "description": "bridge camera"})
    assert r.status_code == 201
    dev, token = r.json()["device"], r.json()["token"]
    assert token.startswith("hyd_") and dev["token_prefix"] == token[:8]
    with live.state.db.session() as db:
        assert db.get(Device, dev["id"]).token_hash not in (None, token)
    box = live.client()
    box.headers["Authorization"] = f"Bearer {token}"
    assert box.get("/api/devices/me").json()["name"] == "桥头卡口-01"
    assert box.get("/api/tickets").status_code == 403  # device tokens are for the edge API only
    new = admin.post(f"/api/devices/{dev['id']}/token").json()["token"]
    assert box.get("/api/devices/me").status_code == 401  # the old token stopped working
    box.headers["Authorization"] = f"Bearer {new}"
    assert box.get("/api/devices/me").status_code == 200
    assert admin.delete(f"/api/devices/{dev['id']}/token").json()["revoked_at"]
    assert box.get("/api/devices/me").status_code == 401
    assert admin.post("/api/devices", json={"name": "桥头卡口-01"}).status_code == 409
