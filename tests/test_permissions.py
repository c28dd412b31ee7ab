"""The whole permission matrix (docs/architecture.md, "The rules"), on real servers sharing one SQLite store:
every endpoint x owner, manage, edit, view, group member, stranger, expired grant, after leave."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jupyter_share.model import AuditEntry, Grant, Kind, Permission, Principal, utcnow
from jupyter_share.store import SQLStore

from .test_rules import ACCESS, ROLES, USER_OF

# Starts the neighbours' real servers.
pytestmark = pytest.mark.slow

# ROLES, USER_OF, ACCESS: the same people and roles as the in-process rules matrix.
KINDS = ["images", "formations", "sessions"]


@pytest.fixture(scope="module")
def world(neighbours):
    alice = neighbours["alice"]
    ids = {}
    r = alice.post(
        "/images",
        {
            "name": "CARET",
            "spec": {
                "reference": "quay.io/lab/caret:2026.1",
                "environment": {
                    "python": "3.11.7",
                    "packages": [{"name": "six", "version": "1.16.0"}],
                },
            },
        },
    )
    assert r.status_code == 201, r.text
    ids["images"] = r.json()["id"]
    r = alice.post(
        "/formations",
        {
            "name": "gpu-small",
            "spec": {"image": ids["images"], "cpu": 4, "memory": "16G", "gpu": 1},
        },
    )
    assert r.status_code == 201, r.text
    ids["formations"] = r.json()["id"]
    r = alice.get("/sessions/current")
    assert r.status_code == 200, r.text
    ids["sessions"] = r.json()["id"]

    store = SQLStore(neighbours["db_url"])
    for kind, rid in ids.items():
        for principal, permission in [
            ("bob", "manage"),
            ("carol", "edit"),
            ("dave", "view"),
            ("group:class-2026", "view"),
            ("gina", "view"),
        ]:
            r = alice.put(f"/{kind}/{rid}/grants/{principal}", {"permission": permission})
            assert r.status_code == 201, r.text
        # An expired grant cannot be made through the API (expiry in the past is refused),
        # so it is written through the store, as time passing would leave it.
        past = utcnow() - timedelta(minutes=5)
        store.put_grant(
            Grant(
                rid,
                Principal.user("henry"),
                Permission.EDIT,
                "alice",
                past - timedelta(hours=1),
                expires_at=past,
            ),
            AuditEntry(rid, past, "alice", "share", "user:henry", "edit", Kind(kind[:-1])),
        )
        r = neighbours["gina"].delete(f"/{kind}/{rid}/grants/gina")
        assert r.status_code == 204, r.text
    store.close()
    return ids


def _server(neighbours, role):
    return neighbours[USER_OF[role]]


def _path(world, kind, role):
    # The owner reaches her container as sessions/current too; everyone else by id.
    return f"/{kind}/{world[kind]}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_get(neighbours, world, kind, role):
    r = _server(neighbours, role).get(_path(world, kind, role))
    if role in ACCESS:
        assert r.status_code == 200, r.text
        assert r.json()["access"] == ACCESS[role]
        assert r.json()["owner"] == "alice"
    else:
        assert r.status_code == 404, r.text
        assert "alice" not in r.text  # nothing about the resource leaks


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_patch(neighbours, world, kind, role):
    r = _server(neighbours, role).patch(
        _path(world, kind, role), {"description": f"touched by {role}"}
    )
    expected = {"owner": 200, "manage": 200, "edit": 200, "view": 403, "group": 403}.get(role, 404)
    assert r.status_code == expected, r.text
    after = neighbours["alice"].get(_path(world, kind, "owner")).json()["description"]
    if expected == 200:
        assert after == f"touched by {role}"
    else:
        assert after != f"touched by {role}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_list_grants(neighbours, world, kind, role):
    r = _server(neighbours, role).get(_path(world, kind, role) + "/grants")
    expected = {"owner": 200, "manage": 200, "edit": 403, "view": 403, "group": 403}.get(role, 404)
    assert r.status_code == expected, r.text
    if expected == 200:
        grants = {g["principal"]: g["permission"] for g in r.json()["items"]}
        # The owner is never in the list; expired and left grants are gone.
        assert grants == {
            "user:bob": "manage",
            "user:carol": "edit",
            "user:dave": "view",
            "group:class-2026": "view",
        }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_share_and_revoke_others(neighbours, world, kind, role):
    server = _server(neighbours, role)
    path = _path(world, kind, role)
    r = server.put(path + "/grants/ivy", {"permission": "view"})
    expected = {"owner": 201, "manage": 201, "edit": 403, "view": 403, "group": 403}.get(role, 404)
    assert r.status_code == expected, r.text
    if expected == 201:
        assert r.json()["granted_by"] == USER_OF[role]
        assert server.delete(path + "/grants/ivy").status_code == 204
    # Revoking someone else's grant (bob's) needs manage; the refused ones change nothing.
    if role not in ("owner", "manage"):
        r = server.delete(path + "/grants/bob")
        assert r.status_code == {"edit": 403, "view": 403, "group": 403}.get(role, 404), r.text
    grants = neighbours["alice"].get(_path(world, kind, "owner") + "/grants").json()["items"]
    assert {g["principal"] for g in grants} == {
        "user:bob",
        "user:carol",
        "user:dave",
        "group:class-2026",
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_history(neighbours, world, kind, role):
    r = _server(neighbours, role).get(_path(world, kind, role) + "/history")
    # All of it for the owner and managers; a grantee below manage reads the rows about
    # themselves (their grant, their group's); anyone else: 404.
    expected = {"owner": 200, "manage": 200, "edit": 200, "view": 200, "group": 200}.get(role, 404)
    assert r.status_code == expected, r.text
    if role in ("owner", "manage"):
        actions = [(e["action"], e["principal"]) for e in r.json()["items"]]
        assert ("share", "user:bob") in actions
        assert ("leave", "user:gina") in actions
    elif expected == 200:
        own = "group:class-2026" if role == "group" else f"user:{USER_OF[role]}"
        assert {e["principal"] for e in r.json()["items"]} == {own}, r.text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", [r for r in ROLES if r != "owner"])
def test_delete_is_the_owners(neighbours, world, kind, role):
    r = _server(neighbours, role).delete(_path(world, kind, role))
    expected = {"manage": 403, "edit": 403, "view": 403, "group": 403}.get(role, 404)
    assert r.status_code == expected, r.text
    assert neighbours["alice"].get(_path(world, kind, "owner")).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_environment(neighbours, world, role):
    r = _server(neighbours, role).get(
        f"/images/{world['images']}/environment", params={"format": "requirements"}
    )
    if role in ACCESS:
        assert r.status_code == 200, r.text
        assert "six==1.16.0" in r.text.splitlines()
    else:
        assert r.status_code == 404


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_lists(neighbours, world, kind, role):
    server = _server(neighbours, role)
    rid = world[kind]
    shared = {item["id"]: item for item in server.get("/shared-with-me").json()["items"]}
    listed = {
        item["id"]: item
        for item in server.get(f"/{kind}", params={"scope": "all", "limit": 1000}).json()["items"]
    }
    owned = {
        item["id"] for item in server.get(f"/{kind}", params={"scope": "owned"}).json()["items"]
    }
    if role == "owner":
        assert rid not in shared
        assert rid in owned and listed[rid]["shared"] is True and listed[rid]["share_count"] == 4
    elif role in ACCESS:
        assert shared[rid]["access"] == ACCESS[role]
        assert shared[rid]["owner"] == "alice"
        assert shared[rid]["shared_at"]
        assert listed[rid]["access"] == ACCESS[role]
        assert rid not in owned
        # Only those who may list the grants see how many there are.
        assert shared[rid]["share_count"] == (4 if role == "manage" else None)
    else:
        assert rid not in shared and rid not in listed


def test_a_group_member_cannot_leave_for_the_whole_group(neighbours, world):
    r = neighbours["erin"].delete(f"/images/{world['images']}/grants/group:class-2026")
    assert r.status_code == 403
    assert neighbours["erin"].get(f"/images/{world['images']}").status_code == 200


def test_manager_cannot_grant_above_manage_or_to_the_owner(neighbours, world):
    bob = neighbours["bob"]
    path = f"/formations/{world['formations']}/grants"
    assert bob.put(path + "/ivy", {"permission": "owner"}).status_code == 400
    assert bob.put(path + "/alice", {"permission": "view"}).status_code == 409
    assert bob.put(path + "/bob", {"permission": "manage"}).status_code == 409


def test_the_owner_deletes_and_the_grants_go(neighbours, world):
    alice, dave = neighbours["alice"], neighbours["dave"]
    r = alice.post("/images", {"name": "throwaway", "spec": {"reference": "busybox"}})
    rid = r.json()["id"]
    assert alice.put(f"/images/{rid}/grants/dave", {"permission": "view"}).status_code == 201
    assert dave.get(f"/images/{rid}").status_code == 200
    assert alice.delete(f"/images/{rid}").status_code == 204
    assert dave.get(f"/images/{rid}").status_code == 404
    assert alice.get(f"/images/{rid}").status_code == 404
    assert rid not in {i["id"] for i in dave.get("/shared-with-me").json()["items"]}
