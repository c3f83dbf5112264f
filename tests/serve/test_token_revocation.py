"""Personal API tokens do not outlive the password they were made with (issue 16): a
password change or an admin's reset revokes them; admins list and revoke anyone's tokens."""

from __future__ import annotations

import httpx
from serve_helpers import LiveServer


def _me(live: LiveServer, token: str) -> int:
    with httpx.Client(base_url=live.url, timeout=30) as c:
        return c.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_password_change_and_reset_revoke_tokens(live_module: LiveServer) -> None:
    live = live_module
    admin = live.client("admin")
    uid = admin.post("/api/users", json={"username": "tok-user", "password": "first-long-secret",
                                         "role": "operator"}).json()["id"]
    c = live.login("tok-user", "first-long-secret")
    tok = c.post("/api/auth/tokens", json={"name": "script"}).json()["token"]
    assert _me(live, tok) == 200
    # Own password change: the token stops working; the session that changed it goes on.
    assert c.post("/api/auth/password", json={"old_password": "first-long-secret",
                                              "new_password": "second-long-secret"}).status_code == 200
    assert _me(live, tok) == 401
    assert c.get("/api/auth/me").status_code == 200
    # An admin's reset: sessions and tokens end.
    tok2 = c.post("/api/auth/tokens", json={"name": "script 2"}).json()["token"]
    assert _me(live, tok2) == 200
    assert admin.patch(f"/api/users/{uid}", json={"password": "third-long-secret"}).status_code == 200
    assert _me(live, tok2) == 401
    assert c.get("/api/auth/me").status_code == 401
    listed = admin.get(f"/api/users/{uid}/tokens").json()
    assert [t["name"] for t in listed] == ["script", "script 2"] and all(t["revoked_at"] for t in listed)


def test_admin_lists_and_revokes_any_users_tokens(live_module: LiveServer) -> None:
    live = live_module
    admin = live.client("admin")
    uid = admin.post("/api/users", json={"username": "tok-user2", "password": "first-long-secret",
                                         "role": "viewer"}).json()["id"]
    c = live.login("tok-user2", "first-long-secret")
    toks = [c.post("/api/auth/tokens", json={"name": f"t{i}"}).json() for i in range(3)]
    listed = admin.get(f"/api/users/{uid}/tokens").json()
    assert [t["id"] for t in listed] == [t["id"] for t in toks] and "token" not in listed[0]
    assert not any(t["revoked_at"] for t in listed)
    assert admin.delete(f"/api/auth/tokens/{toks[0]['id']}").json()["revoked_at"]  # one
    assert _me(live, toks[0]["token"]) == 401 and _me(live, toks[1]["token"]) == 200
    out = admin.delete(f"/api/users/{uid}/tokens").json()  # all
    assert all(t["revoked_at"] for t in out)
    assert _me(live, toks[1]["token"]) == 401 and _me(live, toks[2]["token"]) == 401
    assert c.get(f"/api/users/{uid}/tokens").status_code == 403
    assert admin.get("/api/users/999999/tokens").status_code == 404
