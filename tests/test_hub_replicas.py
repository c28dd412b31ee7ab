"""Two replicas of the share service on one PostgreSQL, on a real JupyterHub: a change made
through one reaches the event streams served by the other (each replica LISTENs to the store),
and a user server relays its owner's stream from the service to the browser."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

import httpx
import pytest

from . import postgres
from .hubs import SERVICE, free_port, require_proxy, running_hub
from .test_changefeed import StreamReader

pytestmark = pytest.mark.slow


def start_replica(hub, token: str, log_path) -> tuple[subprocess.Popen, str]:
    """Another process of the share service, as a second pod of a Deployment would run: the
    service's token and the store's URL from its environment, its own address."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "JUPYTER_"))}
    env.update(
        JUPYTERHUB_API_TOKEN=token,
        JUPYTERHUB_API_URL=f"http://127.0.0.1:{hub.hub_port}/hub/api",
        JUPYTERHUB_SERVICE_NAME=SERVICE,
        JUPYTERHUB_SERVICE_PREFIX=f"/services/{SERVICE}/",
        JUPYTERHUB_SERVICE_URL=f"http://127.0.0.1:{port}",
        JUPYTERHUB_BASE_URL="/",
        JUPYTER_SHARE_DB_URL=hub.db_url,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_share.hub.service"],
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/services/{SERVICE}/api/v1/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the second replica exited:\n{log_path.read_text()}")
        try:
            if httpx.get(api + "me", timeout=5).status_code == 401:
                return process, api
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the second replica did not answer:\n{log_path.read_text()}")


def test_a_share_through_one_replica_reaches_the_streams_of_the_other(tmp_path, postgres_server):
    require_proxy()
    db_url = postgres.fresh_database(
        postgres_server, f"share_replicas_{os.getpid()}_{secrets.token_hex(4)}"
    )
    service_token = secrets.token_hex(32)
    # The replicas share the service's token, as a Deployment's pods share its secret.
    extra = f"""
from jupyter_share.hub.config import _current_list
for _service in _current_list(c.JupyterHub.services):
    if _service.get("name") == {SERVICE!r}:
        _service["api_token"] = {service_token!r}
"""
    with running_hub(tmp_path / "hub", db_url=db_url, extra=extra) as hub:
        hub.wait_service()
        replica, second = start_replica(hub, service_token, tmp_path / "replica2.log")
        streams = []
        try:
            tokens = {name: hub.token(name) for name in ("alice", "bob", "carol")}
            first = hub.service_api  # through the proxy: the Hub's managed replica
            alice = httpx.Client(headers={"Authorization": f"token {tokens['alice']}"}, timeout=30)

            def stream(api, user):
                s = StreamReader(api + "feed", tokens[user])
                streams.append(s)
                assert s.opened.wait(15) and s.status == 200, (user, s.status)
                return s

            bob_second, carol_second = stream(second, "bob"), stream(second, "carol")
            bob_first = stream(first, "bob")
            anonymous = StreamReader(second + "feed")
            streams.append(anonymous)
            assert anonymous.opened.wait(15) and anonymous.status == 401

            # Through the first replica; told by the second.
            r = alice.post(first + "images", json={"name": "CARET", "spec": {"reference": "x"}})
            assert r.status_code == 201, r.text
            rid = r.json()["id"]
            r = alice.put(first + f"images/{rid}/grants/bob", json={"permission": "view"})
            assert r.status_code == 201, r.text
            told = bob_second.next(timeout=5)
            if told["action"] == "create":  # looked after the share: he sees it by then
                told = bob_second.next(timeout=5)
            assert told["action"] == "share" and told["resource_id"] == rid
            assert told["list"] == "shared-with-me" and told["actor"] == "alice"
            assert bob_first.next(timeout=5)["resource_id"] == rid
            time.sleep(0.5)
            bob_first.drain()  # (the create and the share, or the share)

            # Through the second replica; told by the first, and relayed by bob's own server.
            hub.start_server("bob")
            relayed = StreamReader(
                hub.server_url("bob") + "jupyter-share/api/v1/feed", tokens["bob"]
            )
            streams.append(relayed)
            assert relayed.opened.wait(15) and relayed.status == 200, relayed.status
            time.sleep(0.5)  # the server's stream to the service opens after the browser's
            r = alice.put(second + f"images/{rid}/grants/bob", json={"permission": "edit"})
            assert r.status_code == 200, r.text
            changed = bob_first.next(timeout=5)
            assert changed["action"] == "change" and changed["permission"] == "edit"
            via_server = relayed.next(timeout=5)
            assert via_server["action"] == "change" and via_server["resource_id"] == rid

            time.sleep(0.5)
            assert carol_second.drain() == []  # nothing of alice's shares with bob
        finally:
            for s in streams:
                s.close()
            replica.terminate()
            replica.wait(15)
