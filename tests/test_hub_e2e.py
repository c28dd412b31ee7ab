"""End to end on a real JupyterHub (tests/hubs.py: configurable-http-proxy, the share service as
a managed service, JupyterLab servers of alice, bob and carol in local processes): five user
stories (1 to 5) across alice's and bob's servers, on a SQLite and on a PostgreSQL store.

The tests of a module share one Hub and run in order: each story builds on the ones before,
as the stories do.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from .hubs import NO_SERVICE, hub  # noqa: F401  (a fixture)

# A real JupyterHub, its share service and user servers.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("hub", ["sqlite", "postgresql"], indirect=True),
]

API = "jupyter-share/api/v1/"


class World:
    """alice's and bob's servers, with a token each, and what the stories made."""

    def __init__(self, hub):
        self.hub = hub
        self.tokens = {name: hub.token(name) for name in ("alice", "bob", "carol")}
        self.made: dict = {}

    def client(self, user: str) -> httpx.Client:
        return self.hub.token_client(self.tokens[user])

    def share_api(self, user: str, owner: str | None = None) -> str:
        """The share API on `owner`'s server (default: the user's own)."""
        return self.hub.server_url(owner or user) + API

    def service(self, user: str) -> httpx.Client:
        return self.hub.token_client(self.tokens[user])


@pytest.fixture(scope="module")
def world(hub):
    hub.wait_service()
    hub.start_server("alice")
    hub.start_server("bob")
    return World(hub)


def hub_shares(hub, owner: str, server: str = "") -> set[str]:
    r = hub.api("GET", f"shares/{owner}/{server}")
    assert r.status_code == 200, r.text
    answer = r.json()
    shares = answer["items"] if isinstance(answer, dict) else answer
    return {s["user"]["name"] if s["user"] else "group:" + s["group"]["name"] for s in shares}


def test_story1_alice_makes_an_image_of_her_container_and_shares_it(world):
    alice = world.client("alice")
    r = alice.post(world.share_api("alice") + "images", json={"name": "CARET", "capture": True})
    assert r.status_code == 201, r.text
    image = r.json()
    packages = image["spec"]["environment"]["packages"]
    assert any(
        p["name"].lower() == "jupyter-server" or p["name"].lower() == "jupyter_server"
        for p in packages
    ), packages[:5]
    r = alice.put(
        world.share_api("alice") + f"images/{image['id']}/grants/bob", json={"permission": "view"}
    )
    assert r.status_code == 201, r.text
    r = alice.get(world.share_api("alice") + f"images/{image['id']}")
    assert r.json()["shared"] is True and r.json()["share_count"] == 1
    r = alice.get(world.share_api("alice") + f"images/{image['id']}/grants")
    assert [(g["name"], g["permission"]) for g in r.json()["items"]] == [("bob", "view")]
    world.made["image"] = image["id"]


def test_story2_bob_sees_it_on_his_server_and_cannot_delete_or_reshare_it(world):
    bob = world.client("bob")
    api = world.share_api("bob")
    r = bob.get(api + "shared-with-me", params={"kind": "image"})
    assert r.status_code == 200, r.text
    [item] = [i for i in r.json()["items"] if i["id"] == world.made["image"]]
    assert (item["name"], item["owner"], item["access"]) == ("CARET", "alice", "view")
    assert bob.get(api + f"images/{item['id']}").status_code == 200
    r = bob.get(api + f"images/{item['id']}/environment", params={"format": "requirements"})
    assert r.status_code == 200 and "jupyter" in r.text.lower()
    assert bob.delete(api + f"images/{item['id']}").status_code == 403
    r = bob.put(api + f"images/{item['id']}/grants/carol", json={"permission": "view"})
    assert r.status_code == 403, r.text
    r = bob.get(api + "me")
    assert r.json() == {
        "username": "bob",
        "display_name": "bob",
        "mode": "hub",
        "groups": ["class-2026"],
    }


def test_story2_bob_launches_a_server_from_alices_formation(world):
    alice = world.client("alice")
    formation = {
        "name": "CARET course",
        "spec": {
            "image": "quay.io/caret/lab:2026",
            "cpu": 1,
            "memory": "1G",
            "env": {"COURSE": "caret"},
        },
    }
    r = alice.post(world.share_api("alice") + "formations", json=formation)
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    assert (
        alice.put(
            world.share_api("alice") + f"formations/{fid}/grants/bob", json={"permission": "view"}
        ).status_code
        == 201
    )
    world.made["formation"] = fid

    world.hub.start_server("bob", "course", options={"jupyter_share_choice": f"formation:{fid}"})
    r = world.client("bob").get(world.hub.server_url("bob", "course") + API + "me")
    assert r.status_code == 200, r.text
    assert r.json()["launched_from"] == f"formation:{fid}"
    world.hub.stop_server("bob", "course")


def test_the_panels_launch_starts_a_named_server_through_the_spawn_page(world):
    """The panel's Launch under JupyterHub opens the Hub's spawn URL of a named server with the
    formation as the spawner hooks' choice (labextension/src/launch.ts, hubSpawnUrl): signed in
    by the Hub's cookie, no token in the page; apply_user_options checks bob's access."""
    fid = world.made["formation"]
    name = f"formation-{fid[:12]}"
    bob = world.hub.login("bob")
    r = bob.get(f"hub/spawn/bob/{name}", params={"opt-jupyter_share_choice": f"formation:{fid}"})
    assert r.status_code < 400, r.text[:500]
    deadline = time.monotonic() + 180
    while not world.hub.user_model("bob").get("servers", {}).get(name, {}).get("ready"):
        assert time.monotonic() < deadline, world.hub.log()[-3000:]
        time.sleep(0.25)
    r = world.client("bob").get(world.hub.server_url("bob", name) + API + "me")
    assert r.status_code == 200, r.text
    assert r.json()["launched_from"] == f"formation:{fid}"
    world.hub.stop_server("bob", name)
    # Carol, who does not see it, gets no server from the same URL.
    carol = world.hub.login("carol")
    carol.get(f"hub/spawn/carol/{name}", params={"opt-jupyter_share_choice": f"formation:{fid}"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # a server would be ready in this time (bob's was)
        assert not world.hub.user_model("carol").get("servers", {}).get(name, {}).get("ready")
        time.sleep(0.5)


def test_a_formation_not_shared_cannot_be_launched(world):
    fid = world.made["formation"]
    r = world.hub.api(
        "POST", "users/carol/servers/course", json={"jupyter_share_choice": f"formation:{fid}"}
    )
    assert r.status_code == 400 or r.status_code >= 400, r.text
    assert "course" not in world.hub.user_model("carol").get("servers", {})


def test_story3_bob_reads_alices_container_then_runs_code_with_her(world):
    alice, bob = world.client("alice"), world.client("bob")
    server = world.hub.server_url("alice")
    notebook = {
        "type": "notebook",
        "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
    }
    assert alice.put(server + "api/contents/analysis.ipynb", json=notebook).status_code in (
        200,
        201,
    )
    assert bob.get(server + "api/contents/analysis.ipynb").status_code == 403  # not shared yet

    r = alice.put(
        world.share_api("alice") + "sessions/current/grants/bob", json={"permission": "view"}
    )
    assert r.status_code == 201, r.text
    assert "bob" in hub_shares(world.hub, "alice")  # the Hub's own sharing API holds it

    assert bob.get(server + "api/contents/analysis.ipynb").status_code == 200
    assert bob.put(server + "api/contents/analysis.ipynb", json=notebook).status_code == 403
    assert bob.post(server + "api/kernels", json={}).status_code == 403
    assert bob.post(server + "api/terminals").status_code == 403
    # A guest gets /me on the owner's server and nothing else of its share API.
    me = bob.get(server + API + "me").json()
    assert me["username"] == "bob" and me["guest"] == {"owner": "alice", "permission": "view"}
    for method, path in [
        ("GET", "images"),
        ("GET", "shared-with-me"),
        ("PUT", "sessions/current/grants/carol"),
        ("DELETE", f"images/{world.made['image']}"),
    ]:
        r = bob.request(
            method, server + API + path, json={"permission": "manage"} if method == "PUT" else None
        )
        assert r.status_code == 403, (method, path, r.text)

    # Bob sees the container on his own server.
    items = (
        world.client("bob")
        .get(world.share_api("bob") + "shared-with-me", params={"kind": "session"})
        .json()["items"]
    )
    assert [(i["owner"], i["access"]) for i in items] == [("alice", "view")]

    r = alice.put(
        world.share_api("alice") + "sessions/current/grants/bob", json={"permission": "edit"}
    )
    assert r.status_code == 200, r.text
    r = bob.post(server + "api/kernels", json={})
    assert r.status_code == 201, r.text
    world.made["kernel"] = r.json()["id"]
    assert (
        bob.put(
            server + "api/contents/bob-was-here.txt",
            json={"type": "file", "format": "text", "content": "hi"},
        ).status_code
        == 201
    )

    # Who is in alice's server now (issue 15): her own server answers from its memory, the
    # service decides who may see it and with which permission.
    r = alice.get(world.share_api("alice") + "sessions/current/guests")
    assert r.status_code == 200, r.text
    (guest,) = r.json()["items"]
    assert guest["username"] == "bob" and guest["permission"] == "edit"
    assert guest["in_now"] is True and world.made["kernel"] in guest["kernels"]
    assert r.json()["total"] == 1
    # A guest does not see who else is in (the owner's server offers guests /me only).
    assert bob.get(server + API + "sessions/current/guests").status_code == 403


async def _open_channels(url: str, token: str):
    request = HTTPRequest(
        url.replace("http://", "ws://"), headers={"Authorization": f"token {token}"}
    )
    return await websocket_connect(request)


def test_story4_revoking_bob_refuses_his_next_request_and_closes_his_kernel(world):
    alice, bob = world.client("alice"), world.client("bob")
    server = world.hub.server_url("alice")
    channels = server + f"api/kernels/{world.made['kernel']}/channels"

    async def revoke_while_connected():
        socket = await _open_channels(channels, world.tokens["bob"])
        r = await asyncio.get_running_loop().run_in_executor(
            None, lambda: alice.delete(world.share_api("alice") + "sessions/current/grants/bob")
        )
        assert r.status_code == 204, r.text
        start = time.monotonic()
        while True:  # kernel messages may come first; then the server closes the socket
            message = await asyncio.wait_for(socket.read_message(), timeout=10)
            if message is None:
                return time.monotonic() - start

    closed_after = asyncio.run(revoke_while_connected())
    assert closed_after < 5
    # His very next request is refused, though the Hub's token cache still knows him.
    r = bob.get(server + "api/contents/analysis.ipynb")
    assert r.status_code == 403, r.text
    assert "bob" not in hub_shares(world.hub, "alice")
    # Nothing else of alice's is touched: her own access, and bob's grant on her image.
    assert alice.get(server + "api/contents/analysis.ipynb").status_code == 200
    grants = alice.get(world.share_api("alice") + f"images/{world.made['image']}/grants").json()[
        "items"
    ]
    assert [g["name"] for g in grants] == ["bob"]
    history = alice.get(world.share_api("alice") + "sessions/current/history").json()["items"]
    assert [h["action"] for h in history][-3:] == ["share", "change", "revoke"]
    # Revoked: no longer in, whatever the server remembers of him.
    r = alice.get(world.share_api("alice") + "sessions/current/guests")
    assert r.status_code == 200 and r.json() == {"items": [], "total": 0}, r.text


def test_story5_a_formation_and_the_container_shared_with_a_group(world):
    alice = world.client("alice")
    carol = world.service("carol")  # carol uses the service directly: she has no server running
    fid = world.made["formation"]
    r = alice.put(
        world.share_api("alice") + f"formations/{fid}/grants/group:class-2026",
        json={"permission": "view"},
    )
    assert r.status_code == 201, r.text
    items = carol.get(world.hub.service_api + "shared-with-me").json()["items"]
    assert [(i["id"], i["access"]) for i in items] == [(fid, "view")]

    server = world.hub.server_url("alice")
    r = alice.put(
        world.share_api("alice") + "sessions/current/grants/group:class-2026",
        json={"permission": "view"},
    )
    assert r.status_code == 201, r.text
    assert "group:class-2026" in hub_shares(world.hub, "alice")
    r = carol.get(server + "api/contents/analysis.ipynb")
    assert r.status_code == 200, r.text
    assert (
        carol.put(
            server + "api/contents/carol.txt",
            json={"type": "file", "format": "text", "content": "x"},
        ).status_code
        == 403
    )
    assert (
        alice.delete(
            world.share_api("alice") + "sessions/current/grants/group:class-2026"
        ).status_code
        == 204
    )
    assert carol.get(server + "api/contents/analysis.ipynb").status_code == 403


def test_a_view_guest_through_the_hub_gets_the_read_only_lab_and_asks_for_more(world):
    """The neighbour's side under JupyterHub (issue 14), as bob's browser goes: signed in at the
    Hub, he opens alice's JupyterLab through the Hub's share; the page loads jupyter-share's
    labextension, whose guest mode reads /me: `guest` says view, so his JupyterLab is read-only
    (guestmode.ts) and the server starts nothing for him. He asks for edit; alice approves; /me says edit on the same cookie (his JupyterLab follows it without a
    reload); revoked, /me refuses him (the page that says his access ended). He asks from his
    own server's panel: under the Hub a guest's banner links there."""
    from .test_hub_attacks import Browser  # (it imports this module)

    hub = world.hub
    alice = world.client("alice")
    server = hub.server_url("alice")
    r = alice.put(
        world.share_api("alice") + "sessions/current/grants/bob", json={"permission": "view"}
    )
    assert r.status_code in (200, 201), r.text
    try:
        bob = Browser(hub, "bob")  # through the Hub's OAuth, which asks him once
        page = bob.request("GET", "lab/tree/analysis.ipynb")
        assert page.status_code == 200, page.text[:500]
        assert "jupyter-share" in page.text  # the labextension is in the page config
        me = bob.request("GET", API + "me")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "bob"
        assert me.json()["guest"]["owner"] == "alice"
        assert me.json()["guest"]["permission"] == "view"
        for path, body in [
            (
                "api/sessions",
                {"path": "analysis.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
            ),
            ("api/kernels", {"name": "python3"}),
        ]:
            r = bob.request("POST", path, body)
            assert r.status_code == 403, (path, r.status_code, r.text)

        # His banner's "Ask for edit" links to his own JupyterLab (hubPrefix/user-redirect): the
        # owner's server carries nothing of a guest's to the service, which takes only the
        # asker's own token.
        assert '"hubPrefix"' in page.text
        r = bob.request(
            "POST",
            API + "sessions/current/requests",
            {"permission": "edit", "message": "to run it"},
        )
        assert r.status_code == 403, r.text
        own = world.client("bob")
        shared = own.get(
            world.share_api("bob") + "shared-with-me", params={"kind": "session"}
        ).json()["items"]
        container = next(i for i in shared if i["owner"] == "alice")
        assert container["access"] == "view"
        r = own.post(
            world.share_api("bob") + f"sessions/{container['id']}/requests",
            json={"permission": "edit", "message": "to run it"},
        )
        assert r.status_code == 201, r.text
        todo = alice.get(world.share_api("alice") + "requests").json()["to_decide"]
        assert [(t["requester"], t["permission"]) for t in todo] == [("bob", "edit")]
        r = alice.post(
            world.share_api("alice") + "sessions/current/requests/bob",
            json={"decision": "approve"},
        )
        assert r.status_code == 200, r.text
        assert bob.request("GET", API + "me").json()["guest"]["permission"] == "edit"
        r = bob.request("POST", "api/kernels", {"name": "python3"})
        assert r.status_code == 201, r.text
        # alice stops it: nothing of bob's stays running in her container.
        assert alice.delete(server + f"api/kernels/{r.json()['id']}").status_code == 204
    finally:
        alice.delete(world.share_api("alice") + "sessions/current/grants/bob")
    # What his JupyterLab asks every 2 s: a clear 403, never a 500 (it shows him the page that
    # says alice ended his access).
    r = bob.request("GET", API + "me")
    assert r.status_code == 403, r.text
    assert "does not share this server with you" in r.json()["message"], r.text


def test_the_panel_way_cookie_and_xsrf(world):
    """The JupyterLab panel calls its own server with the login cookie and the XSRF header."""
    browser = world.hub.login("alice")
    assert world.hub.open_server(browser, "alice").status_code == 200
    api = world.hub.server_url("alice") + API
    xsrf = browser.cookies.get("_xsrf", path="/user/alice/") or ""
    assert browser.get(api + "images").status_code == 200
    r = browser.post(api + "images", json={"name": "no xsrf", "spec": {"reference": "busybox"}})
    assert r.status_code in (401, 403), (
        r.text
    )  # JupyterHub drops the cookie of a request without it
    names = [
        i["name"] for i in browser.get(api + "images", params={"scope": "owned"}).json()["items"]
    ]
    assert "no xsrf" not in names
    r = browser.post(
        api + "images",
        json={"name": "with xsrf", "spec": {"reference": "busybox"}},
        headers={"X-XSRFToken": xsrf},
    )
    assert r.status_code == 201, r.text


def test_a_server_that_cannot_reach_the_share_service_answers_503_and_lets_no_guest_in(world):
    hub = world.hub
    hub.start_server("alice", NO_SERVICE)
    try:
        alice, bob = world.client("alice"), world.client("bob")
        api = hub.server_url("alice", NO_SERVICE) + API
        for method, path in [
            ("GET", "images"),
            ("GET", "shared-with-me"),
            ("PUT", "sessions/current/grants/bob"),
        ]:
            r = alice.request(
                method, api + path, json={"permission": "view"} if method == "PUT" else None
            )
            assert r.status_code == 503 and "not reachable" in r.json()["message"], (
                method,
                path,
                r.text,
            )
        # /me is the server's own answer.
        assert alice.get(api + "me").json()["username"] == "alice"
        # Shared at the Hub directly, bob is still not let in: his grant cannot be read (fails closed).
        r = hub.api("POST", f"shares/alice/{NO_SERVICE}", json={"user": "bob"})
        assert r.status_code in (200, 201), r.text
        r = bob.get(hub.server_url("alice", NO_SERVICE) + "api/contents")
        assert r.status_code == 503 and "cannot be checked" in r.json()["message"], r.text
        # Alice's own server still works.
        assert alice.get(hub.server_url("alice", NO_SERVICE) + "api/contents").status_code == 200
    finally:
        hub.stop_server("alice", NO_SERVICE)


def test_refusals(world):
    hub = world.hub
    service = hub.service_api
    # Forged and expired tokens.
    assert hub.token_client("0" * 32).get(service + "me").status_code == 401
    short = hub.token("alice", expires_in=1)
    time.sleep(2.5)
    assert hub.token_client(short).get(service + "me").status_code == 401
    # A token without the service's scope.
    narrow = hub.token("alice", scopes=["read:users:name!user"])
    r = hub.token_client(narrow).get(service + "me")
    assert r.status_code == 403, r.text
    # Unknown user and group, with a hint.
    alice = world.client("alice")
    r = alice.put(
        world.share_api("alice") + "sessions/current/grants/bobb", json={"permission": "view"}
    )
    assert r.status_code == 400 and "did you mean 'bob'" in r.json()["message"]
    r = alice.put(
        world.share_api("alice") + "sessions/current/grants/group:class-2062",
        json={"permission": "view"},
    )
    assert r.status_code == 400 and "class-2026" in r.json()["message"]
    assert "bobb" not in hub_shares(hub, "alice")
    # Someone else's server: carol cannot see alice's, bob sees his own as "current".
    session = alice.get(world.share_api("alice") + "sessions/current").json()["id"]
    carol = world.service("carol")
    assert (
        carol.put(
            service + f"sessions/{session}/grants/carol", json={"permission": "edit"}
        ).status_code
        == 404
    )
    r = world.service("bob").get(
        service + "sessions/current", headers={"X-Jupyter-Share-Server": ""}
    )
    assert r.status_code == 200 and r.json()["owner"] == "bob"
    # The service is not a container.
    assert world.service("bob").get(service + "sessions/current").status_code == 404
    # Sharing with yourself or the owner, through the owner's server.
    r = alice.put(
        world.share_api("alice") + "sessions/current/grants/alice", json={"permission": "view"}
    )
    assert r.status_code == 409
    assert hub_shares(hub, "alice") == set()
    # No request failed with a 500 anywhere (the Hub, the proxy, the service, the servers).
    log = hub.log()
    assert "Uncaught exception" not in log and " 500 " not in log
