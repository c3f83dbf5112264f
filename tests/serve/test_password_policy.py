"""Password policy (issue 16): length alone let '12345678', 'password' and the username
through. Common passwords (a small list shipped with the server, offline) and passwords made
from the user's own name are refused wherever a password is set; long passphrases pass."""

from __future__ import annotations

import pytest
from serve_helpers import LiveServer

from heyan.serve.security import common_passwords, password_problem

WEAK = ["12345678", "password", "Password1!", "qwertyuiop", "88888888", "woaini1314", "1qaz2wsx", "aaaaaaaaaa",
        "20240101", "abcdefghij"]


@pytest.mark.parametrize("pw", WEAK)
def test_common_and_patterned_refused(pw: str) -> None:
    assert password_problem(pw, "someone") is not None


@pytest.mark.parametrize("pw,user,name", [("zhangsan1", "zhangsan", None), ("ZhangSan2024!", "zhangsan", None),
                                          ("nasgnahz", "zhangsan", None), ("wang-river-x", "x", "Wang River"),
                                          ("admin-password", "admin", None)])
def test_user_derived_refused(pw: str, user: str, name: str | None) -> None:
    assert password_problem(pw, user, name) is not None


@pytest.mark.parametrize("pw", ["correct horse battery staple", "河长巡河 每周三次 不走形式", "tide-lantern-orchard-42",
                                "my password is long enough now"])
def test_passphrases_allowed(pw: str) -> None:
    assert password_problem(pw, "zhangsan", "张三") is None


def test_list_is_small_and_offline() -> None:
    assert 200 < len(common_passwords()) < 5000 and "123456789" in common_passwords()


def test_every_endpoint_that_sets_a_password(live_module: LiveServer) -> None:
    live = live_module
    admin = live.client("admin")
    for pw in ("12345678", "password", "pwuser2024"):
        r = admin.post("/api/users", json={"username": "pwuser", "password": pw, "role": "viewer"})
        assert r.status_code == 422 and "password refused" in r.json()["detail"], (pw, r.text)
    r = admin.post("/api/users", json={"username": "pwuser", "password": "pwuser", "role": "viewer"})
    assert r.status_code == 422
    r = admin.post("/api/users", json={"username": "pwuser", "password": "lantern tide orchard", "role": "viewer"})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    assert admin.patch(f"/api/users/{uid}", json={"password": "password1"}).status_code == 422
    assert admin.patch(f"/api/users/{uid}", json={"password": "pwuser123"}).status_code == 422
    c = live.login("pwuser", "lantern tide orchard")
    r = c.post("/api/auth/password", json={"old_password": "lantern tide orchard", "new_password": "qwerty123"})
    assert r.status_code == 422 and "commonly guessed" in r.json()["detail"]
    r = c.post("/api/auth/password", json={"old_password": "lantern tide orchard", "new_password": "pwuser-2024"})
    assert r.status_code == 422 and "own name" in r.json()["detail"]
    assert c.post("/api/auth/password", json={"old_password": "lantern tide orchard",
                                              "new_password": "a much longer passphrase"}).status_code == 200
