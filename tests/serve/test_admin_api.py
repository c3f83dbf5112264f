"""The API behind the viewer's admin pages (issue 13): a chief account linked to its segments,
level and phone; every user's tokens for the admin; password and account errors by stable
code; river network problems per feature as data; each role refused with 403 ``forbidden``."""

from __future__ import annotations

from typing import Any

import pytest
from serve_helpers import ROLES, LiveServer

ADMIN_ONLY = [("GET", "/api/users"), ("GET", "/api/users/tokens"), ("GET", "/api/devices"),
              ("POST", "/api/users"), ("POST", "/api/rivers"), ("POST", "/api/devices")]


def line(coords: list[list[float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": coords}


def segment(fid: str, name: str, coords: list[list[float]], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": line(coords),
            "properties": {"kind": "segment", "id": fid, "name": name, "river": "清水河", **props}}


def test_admin_endpoints_refuse_other_roles_with_a_code(live_module: LiveServer) -> None:
    live = live_module
    for role in ROLES:
        c = live.client(role)
        for method, path in ADMIN_ONLY:
            r = c.request(method, path, json={} if method == "POST" else None)
            if role == "admin":
                assert r.status_code != 403, (role, path, r.text)
            else:
                assert r.status_code == 403, (role, path, r.status_code)
                assert r.json()["code"] == "forbidden", (role, path, r.json())
    # Everyone manages his own password and tokens.
    for role in ROLES:
        assert live.client(role).get("/api/auth/tokens").status_code == 200


def test_chief_account_linked_to_segments_level_and_phone(live_module: LiveServer) -> None:
    admin = live_module.client("admin")
    r = admin.post("/api/users", json={"username": "li-chief", "password": "walk-the-east-bank", "role": "chief",
                                       "full_name": "李河长", "segments": ["seg-1"], "chief_level": "township",
                                       "phone": "138 0000 1234"})
    assert r.status_code == 201, r.text
    u = r.json()
    assert (u["segments"], u["chief_level"], u["phone"]) == (["seg-1"], "township", "138 0000 1234")
    uid = u["id"]
    r = admin.patch(f"/api/users/{uid}", json={"segments": ["seg-1", "seg-2"], "chief_level": "county"})
    assert (r.json()["segments"], r.json()["chief_level"]) == (["seg-1", "seg-2"], "county")
    assert admin.get(f"/api/users/{uid}").json()["phone"] == "138 0000 1234"  # kept when not sent
    assert admin.patch(f"/api/users/{uid}", json={"phone": ""}).json()["phone"] is None  # "" clears it
    bad = admin.patch(f"/api/users/{uid}", json={"phone": "call me"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    assert admin.patch(f"/api/users/{uid}", json={"chief_level": "province"}).status_code == 422
    # Not a chief any more: no segments, no level (the phone stays, it is the person's).
    r = admin.patch(f"/api/users/{uid}", json={"role": "viewer"}).json()
    assert (r["segments"], r["chief_level"]) == ([], None)
    # Only a chief has a level.
    r = admin.post("/api/users", json={"username": "li-viewer", "password": "walk-the-west-bank", "role": "viewer",
                                       "chief_level": "village"})
    assert r.status_code == 201 and r.json()["chief_level"] is None
    # The chief logs in and sees the link in /api/auth/me.
    admin.patch(f"/api/users/{uid}", json={"role": "chief", "segments": ["seg-2"], "chief_level": "village"})
    me = live_module.login("li-chief", "walk-the-east-bank").get("/api/auth/me").json()
    assert (me["role"], me["segments"], me["chief_level"]) == ("chief", ["seg-2"], "village")


def test_account_errors_carry_codes(live_module: LiveServer) -> None:
    live = live_module
    admin = live.client("admin")
    r = admin.post("/api/users", json={"username": "wang", "password": "a-good-long-phrase", "role": "operator",
                                       "full_name": "王飞手"})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    r = admin.post("/api/users", json={"username": "WANG", "password": "a-good-long-phrase", "role": "viewer"})
    assert (r.status_code, r.json()["code"]) == (409, "user_exists")
    r = admin.post("/api/users", json={"username": "zhou", "password": "password1", "role": "viewer"})
    assert (r.status_code, r.json()["code"]) == (422, "password_common")
    r = admin.patch(f"/api/users/{uid}", json={"password": "12345678"})
    assert (r.status_code, r.json()["code"]) in {(422, "password_common"), (422, "password_pattern")}
    r = admin.patch(f"/api/users/{uid}", json={"password": "wang-wang"})
    assert (r.status_code, r.json()["code"]) == (422, "password_own_name")
    assert admin.get("/api/users/999999").json()["code"] == "no_user"
    me = admin.get("/api/auth/me").json()
    r = admin.patch(f"/api/users/{me['id']}", json={"role": "viewer"})
    assert (r.status_code, r.json()["code"]) == (409, "self_demote")
    # Own password: the old one checked, the policy's code on refusal, then it works.
    op = live.login("wang", "a-good-long-phrase")
    r = op.post("/api/auth/password", json={"old_password": "not-it-at-all", "new_password": "another-long-phrase"})
    assert (r.status_code, r.json()["code"]) == (403, "wrong_password")
    r = op.post("/api/auth/password", json={"old_password": "a-good-long-phrase", "new_password": "aaaaaaaaaa"})
    assert (r.status_code, r.json()["code"]) == (422, "password_pattern")
    r = op.post("/api/auth/password", json={"old_password": "a-good-long-phrase", "new_password": "kite river lantern"})
    assert r.status_code == 200, r.text
    live.login("wang", "kite river lantern")


def test_admin_lists_and_revokes_every_users_tokens(live_module: LiveServer) -> None:
    live = live_module
    admin = live.client("admin")
    admin.post("/api/users", json={"username": "tok-user", "password": "river-walk-token", "role": "reviewer"})
    user = live.login("tok-user", "river-walk-token")
    made = user.post("/api/auth/tokens", json={"name": "巡查脚本"})
    assert made.status_code == 201
    token, tid = made.json()["token"], made.json()["id"]
    assert "token" not in user.get("/api/auth/tokens").json()[0]  # shown once, never listed
    rows = {t["id"]: t for t in admin.get("/api/users/tokens").json()}
    assert rows[tid]["username"] == "tok-user" and rows[tid]["name"] == "巡查脚本" and rows[tid]["revoked_at"] is None
    assert "token" not in rows[tid] and "token_hash" not in rows[tid]
    # Another user cannot revoke it (nor learn it exists); the admin can.
    other = live.client("viewer")
    r = other.delete(f"/api/auth/tokens/{tid}")
    assert (r.status_code, r.json()["code"]) == (404, "no_token")
    with live.client() as c:
        assert c.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert admin.delete(f"/api/auth/tokens/{tid}").json()["revoked_at"] is not None
        assert c.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert {t["id"]: t for t in admin.get("/api/users/tokens").json()}[tid]["revoked_at"] is not None


def test_river_network_problems_per_feature(live_module: LiveServer) -> None:
    admin = live_module.client("admin")
    good = segment("seg-1", "上游段", [[120.10, 30.20], [120.11, 30.21]])
    no_name = segment("seg-2", "", [[120.11, 30.21], [120.12, 30.22]])
    projected = segment("seg-3", "下游段", [[500000.0, 3340000.0], [500100.0, 3340100.0]])
    bad_ref = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.1, 30.2]},
               "properties": {"kind": "outfall", "id": "pk-1", "name": "一号排口", "outfall_type": "rain",
                              "segment_id": "seg-9"}}
    fc = {"type": "FeatureCollection", "features": [good, no_name, projected, bad_ref]}
    r = admin.post("/api/rivers", json=fc)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_river_network" and len(body["errors"]) == len(body["problems"])
    by_index = {p["index"]: p for p in body["problems"]}
    assert by_index[1]["code"] == "empty" and by_index[1]["field"] == "properties.name"
    assert by_index[1]["feature_id"] == "seg-2" and by_index[1]["kind"] == "segment"
    assert by_index[2]["code"] == "projected" and by_index[2]["name"] == "下游段"
    assert by_index[2]["field"] == "geometry.coordinates"
    assert by_index[3]["code"] == "unknown_segment" and by_index[3]["name"] == "一号排口"
    assert 0 not in by_index
    # The whole file wrong: a problem with no feature.
    r = admin.post("/api/rivers", json={"type": "Feature"})
    assert r.json()["problems"][0]["index"] is None
    assert r.json()["problems"][0]["code"] == "not_feature_collection"


@pytest.mark.parametrize("role", ["reviewer", "chief", "operator", "viewer"])
def test_non_admin_cannot_manage_accounts_of_others(live_sqlite: LiveServer, role: str) -> None:
    c = live_sqlite.client(role)
    r = c.patch("/api/users/1", json={"role": "viewer"})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = c.get("/api/users/1/tokens")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
