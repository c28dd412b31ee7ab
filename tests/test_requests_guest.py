"""Asking for more from inside the owner's container (issue 14): a guest signed in by a personal
link with view asks alice's server for edit on `sessions/current`; once alice approves, the same
browser, without signing in again or reloading, starts a kernel and runs code."""

from __future__ import annotations

import pytest

from .servers import start_servers
from .test_links import Guest, Owner, execute

# Starts real servers and a guest's browser session.
pytestmark = pytest.mark.slow

API = "jupyter-share/api/v1"


@pytest.fixture(scope="module")
def alice(tmp_path_factory):
    work = tmp_path_factory.mktemp("asking")
    server = start_servers(
        ["alice"], f"sqlite:///{work / 'share.db'}", work, users=["bob", "carol"]
    )["alice"]
    yield server
    server.stop()


def test_a_view_guest_asks_and_runs_code_once_approved(alice):
    link = alice.put("/sessions/current/grants/bob", {"permission": "view"}).json()["link"]
    bob = Guest(alice, link)
    assert bob.request("GET", f"{API}/me").json()["guest"]["permission"] == "view"
    assert bob.request("POST", "api/kernels", {"name": "python3"}).status_code == 403

    r = bob.request(
        "POST",
        f"{API}/sessions/current/requests",
        {"permission": "edit", "message": "let me run it"},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["requester"], r.json()["holds"], r.json()["kind"]) == (
        "bob",
        "view",
        "session",
    )
    assert (
        bob.request("POST", f"{API}/sessions/current/requests", {"permission": "edit"}).status_code
        == 409
    )
    mine = bob.request("GET", f"{API}/sessions/current/requests").json()
    assert [i["requester"] for i in mine["items"]] == ["bob"]
    # A guest decides nothing, and lists requests on their own server, not here.
    assert (
        bob.request(
            "POST", f"{API}/sessions/current/requests/bob", {"decision": "approve"}
        ).status_code
        == 403
    )
    assert bob.request("GET", f"{API}/requests").status_code == 403

    todo = alice.get("/requests").json()["to_decide"]
    assert [(t["requester"], t["permission"], t["message"]) for t in todo] == [
        ("bob", "edit", "let me run it")
    ]
    decided = alice.post("/sessions/current/requests/bob", {"decision": "approve"})
    assert decided.status_code == 200, decided.text
    assert (
        decided.json()["grant"]["permission"] == "edit" and "link" not in decided.json()
    )  # his link stays

    # The same browser: no new sign-in, no reload.
    assert bob.request("GET", f"{API}/me").json()["guest"]["permission"] == "edit"
    kernel = bob.request("POST", "api/kernels", {"name": "python3"})
    assert kernel.status_code == 201, kernel.text
    ws = bob.websocket(f"api/kernels/{kernel.json()['id']}/channels")
    try:
        assert execute(ws, "6 * 7") == "42"
    finally:
        ws.close()
        Owner(alice).request("DELETE", f"api/kernels/{kernel.json()['id']}")
    history = [
        (h["action"], h["actor"], h["principal"], h["permission"])
        for h in alice.get("/sessions/current/history").json()["items"]
    ]
    assert history[-3:] == [
        ("ask", "bob", "user:bob", "edit"),
        ("change", "alice", "user:bob", "edit"),
        ("approve", "alice", "user:bob", "edit"),
    ]


def test_a_denied_guest_keeps_view_and_may_withdraw(alice):
    link = alice.put("/sessions/current/grants/carol", {"permission": "view"}).json()["link"]
    carol = Guest(alice, link)
    assert (
        carol.request(
            "POST", f"{API}/sessions/current/requests", {"permission": "owner"}
        ).status_code
        == 400
    )
    assert (
        carol.request(
            "POST", f"{API}/sessions/current/requests", {"permission": "manage"}
        ).status_code
        == 201
    )
    assert alice.post("/sessions/current/requests/carol", {"decision": "deny"}).status_code == 200
    assert carol.request("GET", f"{API}/sessions/current/requests").json()["items"] == []
    assert carol.request("GET", f"{API}/me").json()["guest"]["permission"] == "view"
    assert (
        carol.request(
            "POST", f"{API}/sessions/current/requests", {"permission": "edit"}
        ).status_code
        == 201
    )
    assert carol.request("DELETE", f"{API}/sessions/current/requests/carol").status_code == 204
    assert alice.get("/requests").json()["to_decide"] == []
