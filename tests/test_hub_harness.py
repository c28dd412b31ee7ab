"""The JupyterHub harness of tests/hubs.py works: the Hub answers, users sign in, servers start
and answer through the proxy to their owner (cookie and token) and to nobody else, and nothing
is left running afterwards."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from .hubs import hub, require_proxy, running_hub  # noqa: F401  (hub is a fixture)

# Starts a real JupyterHub.
pytestmark = pytest.mark.slow


def test_hub_answers(hub):
    response = httpx.get(hub.url + "hub/api/")
    assert response.status_code == 200 and response.json()["version"]
    users = {u["name"] for u in hub.api("GET", "users").json()}
    assert {"alice", "bob", "carol"} <= users
    group = hub.api("GET", "groups/class-2026").json()
    assert sorted(group["users"]) == ["bob", "carol"]


def test_the_share_service_answers_through_the_proxy(hub):
    hub.wait_service()
    # configure_jupyterhub gave every user access:services!service=share.
    me = hub.token_client(hub.token("alice")).get(hub.service_api + "me")
    assert me.status_code == 200, me.text[:500]
    assert me.json()["username"] == "alice"


def test_alice_signs_in_and_a_wrong_password_does_not(hub):
    alice = hub.login("alice")
    me = alice.get("hub/api/user", headers=hub.xsrf_headers(alice))
    assert me.status_code == 200 and me.json()["name"] == "alice"
    with pytest.raises(Exception, match="login as alice failed"):
        hub.login("alice", password="not the password")


def test_alices_server_answers_her_and_nobody_else(hub):
    hub.start_server("alice")
    status_url = hub.server_url("alice") + "api/status"

    # Her cookie, after the OAuth dance through the Hub.
    alice = hub.login("alice")
    opened = hub.open_server(alice, "alice")
    assert opened.status_code == 200, opened.text[:500]
    assert alice.get(status_url).status_code == 200

    # Her token.
    alice_token = hub.token("alice")
    assert hub.token_client(alice_token).get(status_url).status_code == 200

    # Her server reaches the share service with its own token (Spawner.server_token_scopes).
    images = hub.token_client(alice_token).get(
        hub.server_url("alice") + "jupyter-share/api/v1/images"
    )
    assert images.status_code == 200, images.text[:500]

    # Bob's token and bob's cookie are refused.
    bob_token = hub.token("bob")
    assert hub.token_client(bob_token).get(status_url).status_code in (403, 404)
    bob = hub.login("bob")
    assert hub.open_server(bob, "alice").status_code in (403, 404)
    assert bob.get(status_url).status_code in (403, 404)
    # No token at all.
    assert httpx.get(status_url).status_code in (401, 403)


def test_a_token_made_with_the_users_own_login(hub):
    alice = hub.login("alice")
    token = hub.token("alice", scopes=["read:users:name!user"], client=alice)
    me = hub.token_client(token).get("hub/api/user")
    assert me.status_code == 200 and me.json()["name"] == "alice"


def test_named_server_starts_and_stops(hub):
    hub.start_server("bob", "second")
    bob_token = hub.token("bob")
    assert (
        hub.token_client(bob_token).get(hub.server_url("bob", "second") + "api/status").status_code
        == 200
    )
    hub.stop_server("bob", "second")
    assert "second" not in hub.user_model("bob")["servers"]


@pytest.mark.parametrize("hub", ["postgresql"], indirect=True)
def test_the_store_on_postgresql(hub):
    assert hub.db_url.startswith("postgresql")
    hub.wait_service()
    alice = hub.token_client(hub.token("alice"))
    created = alice.post(
        hub.service_api + "images",
        json={"name": "caret", "spec": {"reference": "quay.io/lab/caret:1"}},
    )
    assert created.status_code == 201, created.text[:500]

    import psycopg

    with psycopg.connect(hub.db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM resources")]
    assert names == ["caret"]
    # The URL reached the service in its environment, not on a command line `ps` shows.
    ps = subprocess.run(["ps", "-eo", "args="], capture_output=True, text=True, check=True).stdout
    assert hub.db_url not in ps


def test_nothing_is_left_running_after_the_hub_stops(tmp_path):
    require_proxy()
    with running_hub(tmp_path) as fresh:
        fresh.start_server("carol")
        carol = fresh.token_client(fresh.token("carol"))
        # A kernel too: the deepest process of the tree.
        kernel = carol.post(fresh.server_url("carol") + "api/kernels", json={})
        assert kernel.status_code == 201, kernel.text[:500]
        family = fresh.processes()
        assert len(family) >= 4  # proxy, service, carol's server, her kernel
    ps = subprocess.run(
        ["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    running = {int(line.split(None, 1)[0]): line for line in ps.splitlines() if line.strip()}
    left = {
        pid: running[pid] for pid in family if pid in running and "<defunct>" not in running[pid]
    }
    assert not left, f"still running after the Hub stopped: {left}"
    assert f"127.0.0.1:{fresh.port}" not in ps and f"--api-port {fresh.proxy_api_port}" not in ps
