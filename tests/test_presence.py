"""Who is in the owner's container now (issue 15, presence), on real servers: guests appear as
they sign in, with what they open, live on the event stream, and go when revoked; the owner and
managers see it, view and edit guests and strangers do not."""

from __future__ import annotations

import json
import time

import pytest
import websocket

from .servers import start_servers
from .test_links import Guest, Owner, execute

# Starts real servers.
pytestmark = pytest.mark.slow

API = "jupyter-share/api/v1"
PRESENCE = "https://events.jupyter.org/jupyter_share/presence/v1"


def guests(server) -> dict:
    r = server.get("/sessions/current/guests")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return {g["username"]: g for g in body["items"]}


class Events:
    """The owner's event stream: the presence events, in order."""

    def __init__(self, owner: Owner):
        self.ws = owner.websocket("api/events/subscribe")
        self.ws.settimeout(10)

    def next(self, **want) -> dict:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            event = json.loads(self.ws.recv())
            if event.get("schema_id") != PRESENCE:
                continue
            assert "address" not in event  # the client address stays in the owner's answer
            if all(event.get(k) == v for k, v in want.items()):
                return event
        raise AssertionError(f"no presence event {want}")


@pytest.fixture
def servers(tmp_path):
    found = start_servers(
        ["alice", "erin"],
        f"sqlite:///{tmp_path / 's.db'}",
        tmp_path,
        users=["bob", "carol", "dave"],
        extra_args=["--ShareApp.guest_check_interval=0.25"],
    )
    yield found
    for server in found.values():
        server.stop()


def test_presence_appears_live_and_goes_with_the_grant(servers):
    alice, erin = servers["alice"], servers["erin"]
    assert guests(alice) == {}
    links = {
        name: alice.put(f"/sessions/current/grants/{name}", {"permission": perm}).json()["link"]
        for name, perm in (("bob", "edit"), ("carol", "view"), ("dave", "manage"))
    }
    events = Events(Owner(alice))
    assert guests(alice) == {}  # shared with, but nobody came yet

    bob = Guest(alice, links["bob"])
    events.next(action="sign-in", guest="bob", owner="alice")
    seen = guests(alice)["bob"]
    assert seen["permission"] == "edit" and seen["in_now"] is True
    assert seen["address"] == "127.0.0.1"
    assert seen["signed_in_at"] <= seen["last_active_at"]
    assert seen["kernels"] == [] and seen["documents"] == [] and sum(seen["sockets"].values()) == 0

    # bob opens a notebook: its kernel (he starts it) and the kernel's channels.
    r = bob.request(
        "POST",
        "api/sessions",
        {
            "path": "analysis.ipynb",
            "name": "analysis.ipynb",
            "type": "notebook",
            "kernel": {"name": "python3"},
        },
    )
    assert r.status_code == 201, r.text
    kernel_id = r.json()["kernel"]["id"]
    events.next(action="start", guest="bob", socket="kernel")
    ws = bob.websocket(f"api/kernels/{kernel_id}/channels")
    assert execute(ws, "20 + 22") == "42"
    events.next(action="open", guest="bob", socket="kernel")
    seen = guests(alice)["bob"]
    assert seen["sockets"]["kernel"] == 1 and seen["kernels"] == [kernel_id]
    assert seen["documents"] == ["analysis.ipynb"]

    # A manager sees it too (as a guest, through his link); view and edit guests do not.
    dave = Guest(alice, links["dave"])
    events.next(action="sign-in", guest="dave")
    r = dave.request("GET", f"{API}/sessions/current/guests")
    assert r.status_code == 200, r.text
    assert {g["username"] for g in r.json()["items"]} == {"bob", "dave"}
    carol = Guest(alice, links["carol"])
    assert carol.request("GET", f"{API}/sessions/current/guests").status_code == 403
    assert bob.request("GET", f"{API}/sessions/current/guests").status_code == 403
    assert (
        Guest(alice).request("GET", f"{API}/sessions/current/guests").status_code == 401
    )  # not signed in
    # A neighbour on the same store: a container she cannot see is not revealed (404); with
    # view, she holds too little (403); a manager elsewhere is told to ask its own server.
    session_id = alice.get("/sessions/current").json()["id"]
    assert erin.get(f"/sessions/{session_id}/guests").status_code == 404
    alice.put("/sessions/current/grants/erin", {"permission": "view"})
    assert erin.get(f"/sessions/{session_id}/guests").status_code == 403
    alice.put("/sessions/current/grants/erin", {"permission": "manage"})
    assert erin.get(f"/sessions/{session_id}/guests").status_code == 400

    # bob closes his kernel's channels: still in (his requests are recent), nothing open.
    ws.close()
    events.next(action="close", guest="bob", socket="kernel")
    seen = guests(alice)["bob"]
    assert seen["sockets"]["kernel"] == 0 and seen["in_now"] is True
    assert seen["kernels"] == [kernel_id]  # he started it; it still runs

    # Revoked: gone from the list at once, and told.
    assert alice.delete("/sessions/current/grants/bob").status_code == 204
    assert "bob" not in guests(alice)
    events.next(action="gone", guest="bob")
    assert set(guests(alice)) == {"carol", "dave"}
    deadline = time.monotonic() + 10
    while (
        Owner(alice).request("GET", f"api/kernels/{kernel_id}").status_code != 404
    ):  # his kernel stops
        assert time.monotonic() < deadline, "the kernel bob started still runs after his revoke"
        time.sleep(0.1)


def test_a_guest_lowered_to_view_is_shown_with_view(servers):
    alice = servers["alice"]
    bob = Guest(
        alice, alice.put("/sessions/current/grants/bob", {"permission": "edit"}).json()["link"]
    )
    assert bob.request("GET", "api/contents").status_code == 200
    assert guests(alice)["bob"]["permission"] == "edit"
    assert alice.put("/sessions/current/grants/bob", {"permission": "view"}).status_code == 200
    assert guests(alice)["bob"]["permission"] == "view"


def test_the_cli_asks_the_running_server(servers, tmp_path):
    """`jupyter share guests`: presence is in the server's memory, so the CLI asks the server."""
    import subprocess
    import sys

    alice = servers["alice"]
    bob = Guest(
        alice, alice.put("/sessions/current/grants/bob", {"permission": "edit"}).json()["link"]
    )
    assert bob.request("GET", "api/contents").status_code == 200

    def cli(*args):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter_share.cli",
                "--db-url",
                f"sqlite:///{tmp_path / 's.db'}",
                "--user",
                "alice",
                "guests",
                "--url",
                alice.url,
                "--token",
                alice.token,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    answer = cli("--json")
    assert answer.returncode == 0, answer.stderr
    (seen,) = json.loads(answer.stdout)["items"]
    assert (seen["username"], seen["permission"], seen["in_now"]) == ("bob", "edit", True)
    table = cli()
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:3] == ["GUEST", "PERMISSION", "IN"]
    assert table.stdout.splitlines()[1].split()[:3] == ["bob", "edit", "yes"]
    wrong = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_share.cli",
            "--db-url",
            f"sqlite:///{tmp_path / 's.db'}",
            "--user",
            "alice",
            "guests",
            "--url",
            alice.url,
            "--token",
            "not-the-token",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wrong.returncode != 0 and "error" in wrong.stderr
