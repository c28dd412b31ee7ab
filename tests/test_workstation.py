"""A shared workstation: servers of different users on one store see each other's shares,
and everything survives a restart."""

from __future__ import annotations

import pytest

from .servers import start_server, start_servers, wait_ready

# Starts real servers, stopped and restarted.
pytestmark = pytest.mark.slow


def test_alice_shares_bob_sees_and_a_restart_keeps_everything(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'workstation.db'}"
    servers = start_servers(["alice", "bob"], db_url, tmp_path, groups={"class-2026": ["bob"]})
    alice, bob = servers["alice"], servers["bob"]
    try:
        # bob's server registered him in the store, so alice can pick him.
        assert "bob" in alice.get("/directory", params={"q": "b"}).json()["users"]
        image = alice.post(
            "/images", {"name": "CARET", "spec": {"reference": "rocker/caret:4.4"}}
        ).json()
        formation = alice.post(
            "/formations", {"name": "class", "spec": {"image": image["id"], "cpu": 2}}
        ).json()
        session = alice.get("/sessions/current").json()
        assert (
            alice.put(f"/images/{image['id']}/grants/bob", {"permission": "view"}).status_code
            == 201
        )
        assert (
            alice.put(
                f"/formations/{formation['id']}/grants/group:class-2026", {"permission": "view"}
            ).status_code
            == 201
        )
        assert alice.put("/sessions/current/grants/bob", {"permission": "edit"}).status_code == 201

        shared = bob.get("/shared-with-me").json()
        assert {(i["kind"], i["name"], i["owner"], i["access"]) for i in shared["items"]} == {
            ("image", "CARET", "alice", "view"),
            ("formation", "class", "alice", "view"),
            ("session", session["name"], "alice", "edit"),
        }
        assert [
            i["id"] for i in bob.get("/shared-with-me", params={"kind": "image"}).json()["items"]
        ] == [image["id"]]
        # bob may look but not delete or share onward.
        assert bob.delete(f"/images/{image['id']}").status_code == 403
        assert (
            bob.put(f"/images/{image['id']}/grants/alice", {"permission": "view"}).status_code
            == 403
        )
        alice_view = alice.get(f"/images/{image['id']}").json()
        assert alice_view["shared"] is True and alice_view["share_count"] == 1

        alice.stop()
        alice = wait_ready(start_server("alice", db_url, tmp_path, groups={"class-2026": ["bob"]}))
        # Same container (same name), same id, same grants after the restart.
        assert alice.get("/sessions/current").json()["id"] == session["id"]
        assert (
            alice.get(f"/images/{image['id']}/grants").json()["items"][0]["principal"] == "user:bob"
        )
        assert alice.get(f"/formations/{formation['id']}").json()["share_count"] == 1
        assert bob.get("/shared-with-me").json()["total"] == 3
        history = alice.get("/sessions/current/history").json()["items"]
        # The clean stop is recorded (issue 12: stopped containers show as stopped), the restart
        # shows it running again.
        assert [h["action"] for h in history] == ["create", "share", "stop", "start"]
    finally:
        alice.stop()
        bob.stop()
