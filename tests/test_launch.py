"""Launching a formation on one machine (issue 16): bob launches alice's shared formation as a
new server of his own, run by his server; it is his container, shareable, stopped from the API.
The formation's variables follow the one allow-list (jupyter_share.formation_env), and what a
local process cannot honour is reported as not applied. Guests never launch; formations bob
cannot see are not found."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from jupyter_share import formation_env
from jupyter_share.hub import spawner

from .conftest import offline_pip_environ
from .servers import start_servers
from .test_links import Guest, Owner, execute
from .wheels import make_wheel, offline_args

pytestmark = pytest.mark.slow

REFERENCE = "docker.io/library/python:3.12"
FORMATION = {
    "name": "gpu-lab",
    "spec": {
        "image": REFERENCE,
        "cpu": 4,
        "memory": "16G",
        "gpu": 1,
        "storage": [{"name": "data", "mount_path": "/data", "size": "10G"}],
        "env": {"MY_SETTING": "from-alice", "PYTHONPATH": "/tmp/evil", "LD_PRELOAD": "/tmp/e.so"},
        "start_url": "/tree",
    },
}


def test_the_spawner_and_the_launcher_keep_one_allow_list():
    assert spawner.FormationEnvironment is formation_env.FormationEnvironment
    assert spawner.DEFAULT_ALLOWED_ENV is formation_env.DEFAULT_ALLOWED_ENV
    kept, refused = formation_env.FormationEnvironment().split(FORMATION["spec"]["env"])
    assert kept == {"MY_SETTING": "from-alice"} and refused == ["LD_PRELOAD", "PYTHONPATH"]


@dataclass
class Launched:
    """The launched server as test_links' Owner reads a server: its port and token."""

    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def launched_from(answer: dict) -> Launched:
    url = httpx.URL(answer["url"])
    return Launched(url.port, url.params["token"])


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.2)
    return found


def run_in_kernel(server, code: str, kernel: str | None = None) -> str:
    owner = Owner(server)
    body = {"name": kernel} if kernel else {}
    started = owner.request("POST", "api/kernels", body)
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    ws = owner.websocket(f"api/kernels/{kernel_id}/channels")
    try:
        return execute(ws, code, timeout=60)
    finally:
        ws.close()
        owner.request("DELETE", f"api/kernels/{kernel_id}")


def test_bob_launches_alices_formation_as_his_own_container(tmp_path):
    servers = start_servers(
        ["alice", "bob"], f"sqlite:///{tmp_path / 's.db'}", tmp_path, users=["carol"]
    )
    alice, bob = servers["alice"], servers["bob"]
    try:
        fid = alice.post("/formations", FORMATION).json()["id"]

        # Not shared yet, or not there: not found, the same answer.
        assert bob.post(f"/formations/{fid}/launch", {}).status_code == 404
        assert bob.post("/formations/0123456789abcdef/launch", {}).status_code == 404
        assert alice.put(f"/formations/{fid}/grants/bob", {"permission": "view"}).status_code == 201

        # Bad input: JSON 400, nothing launched.
        bad = bob.client.post(f"/formations/{fid}/launch", content=b"{nope")
        assert bad.status_code == 400 and bad.json()["message"] == "the body is not valid JSON"
        bad = bob.post(f"/formations/{fid}/launch", {"cpu": 8})
        assert bad.status_code == 400 and bad.json()["field"] == "cpu"
        assert bob.post(f"/formations/{fid}/launch", [1]).status_code == 400
        assert bob.post(f"/formations/{fid}/launch", {"name": ""}).status_code == 400
        assert bob.get("/sessions", params={"scope": "owned"}).json()["total"] == 0

        r = bob.post(f"/formations/{fid}/launch", {})
        assert r.status_code == 201, r.text
        answer = r.json()
        assert answer["state"] == "running"
        assert answer["formation"] == {"id": fid, "name": "gpu-lab", "owner": "alice"}
        not_applied = {item["field"]: item for item in answer["not_applied"]}
        assert set(not_applied) == {
            "cpu",
            "memory",
            "gpu",
            "storage",
            "image",
            "env.LD_PRELOAD",
            "env.PYTHONPATH",
        }
        assert not_applied["memory"]["value"] == "16G"
        assert not_applied["image"]["value"] == REFERENCE
        assert answer["refused_env"] == ["LD_PRELOAD", "PYTHONPATH"]
        assert answer["env"] == ["MY_SETTING"]

        container = answer["container"]
        assert container["owner"] == "bob" and container["access"] == "owner"
        assert container["spec"]["launched_from"] == f"formation:{fid}"
        assert container["spec"]["state"] == "running"
        cid = container["id"]

        # A real server answers, as bob, at its start URL, in its own folder.
        child = launched_from(answer)
        me = httpx.get(
            f"{child.url}jupyter-share/api/v1/me",
            headers={"Authorization": f"token {child.token}"},
        ).json()
        assert me["username"] == "bob"
        home = httpx.get(
            child.url, headers={"Authorization": f"token {child.token}"}, follow_redirects=False
        )
        assert home.status_code == 302 and home.headers["location"].split("?")[0].endswith("/tree")
        assert Path(answer["root_dir"]).is_dir()
        assert answer["url"].startswith(container["spec"]["url"].rstrip("/"))
        # The formation's allowed variable is set; the code-loading ones are not.
        seen = run_in_kernel(
            child,
            "import os; (os.environ.get('MY_SETTING'), os.environ.get('PYTHONPATH'), "
            "os.environ.get('LD_PRELOAD'), os.environ.get('JUPYTER_SHARE_REFUSED_ENV'))",
        )
        assert seen == "('from-alice', None, None, 'LD_PRELOAD,PYTHONPATH')"

        # His own container, listed as such (alice's lists do not have it).
        owned = bob.get("/sessions", params={"scope": "owned"}).json()["items"]
        assert [s["id"] for s in owned] == [cid]
        assert cid not in [s["id"] for s in alice.get("/sessions").json()["items"]]

        # Shareable like any other.
        assert bob.put(f"/sessions/{cid}/grants/alice", {"permission": "view"}).status_code == 201
        shared = alice.get("/shared-with-me", params={"kind": "session"}).json()["items"]
        assert [s["id"] for s in shared] == [cid]
        # ...and only its owner stops it: alice sees it (403), carol does not (404).
        assert alice.post(f"/sessions/{cid}/stop", {}).status_code == 403

        # Guests of bob's own container never launch or stop, whatever their permission.
        link = bob.put("/sessions/current/grants/carol", {"permission": "manage"}).json()["link"]
        carol = Guest(bob, link)
        api = "jupyter-share/api/v1"
        assert carol.request("POST", f"{api}/formations/{fid}/launch", {}).status_code == 403
        assert carol.request("POST", f"{api}/sessions/{cid}/stop", {}).status_code == 403
        assert bob.get("/sessions", params={"scope": "owned"}).json()["total"] == 2  # + current

        # The notebook widgets offer the same: Launch in SharedWithMe, stop with the client.
        from jupyter_share.client import ShareClient
        from jupyter_share.widgets import SharedWithMe

        client = ShareClient(bob.url, bob.token, timeout=180)
        panel = SharedWithMe(client=client)
        (item,) = [r for r in panel.rows if r.resource["id"] == fid]
        item.buttons["launch"].click()
        assert panel.launched is not None and panel.launched["state"] == "running"
        assert "Not applied here: cpu:" in panel.status_text
        by_widget = panel.launched["container"]["id"]
        assert client.stop(f"sessions/{by_widget}")["spec"]["state"] == "stopped"
        assert refuses_connections(launched_from(panel.launched).port)

        # Stop: the process is gone, the container shows stopped.
        assert bob.post(f"/sessions/{cid}/stop", {"now": True}).status_code == 400
        stopped = bob.post(f"/sessions/{cid}/stop", {})
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["spec"]["state"] == "stopped"
        assert refuses_connections(child.port)
        assert bob.get(f"/sessions/{cid}").json()["spec"]["state"] == "stopped"
        history = bob.get(f"/sessions/{cid}/history").json()["items"]
        assert "stop" in [e["action"] for e in history]
        assert bob.post(f"/sessions/{cid}/stop", {}).status_code == 409
        # A container this server did not launch is not its to stop.
        assert bob.post("/sessions/current/stop", {}).status_code == 409

        # A second launch; bob's server stops, and takes it along.
        again = bob.post(f"/formations/{fid}/launch", {"name": "second"})
        assert again.status_code == 201, again.text
        assert bob.post(f"/formations/{fid}/launch", {"name": "second"}).status_code == 409
        second = launched_from(again.json())
        bob.stop()
        wait_for(lambda: refuses_connections(second.port))
        after = alice.get(f"/sessions/{again.json()['container']['id']}")
        assert after.status_code == 404  # not shared with alice: still hidden
        from jupyter_share.store import SQLStore

        store = SQLStore(url=f"sqlite:///{tmp_path / 's.db'}")
        try:
            assert store.get_resource(again.json()["container"]["id"]).spec["state"] == "stopped"
        finally:
            store.close()
    finally:
        for server in servers.values():
            server.stop()


def test_a_formation_whose_image_is_not_shared_is_refused(tmp_path):
    servers = start_servers(["alice", "bob"], f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    alice, bob = servers["alice"], servers["bob"]
    try:
        iid = alice.post("/images", {"name": "CARET", "spec": {"reference": REFERENCE}}).json()[
            "id"
        ]
        fid = alice.post("/formations", {"name": "caret", "spec": {"image": iid}}).json()["id"]
        alice.put(f"/formations/{fid}/grants/bob", {"permission": "view"})
        r = bob.post(f"/formations/{fid}/launch")
        assert r.status_code == 403 and "ask alice" in r.json()["message"]
        assert bob.get("/sessions", params={"scope": "owned"}).json()["total"] == 0
    finally:
        for server in servers.values():
            server.stop()


def test_a_formation_of_a_shared_image_runs_its_environment(tmp_path, kernel_wheels):
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "caretpkg", "1.2", body="ANSWER = 42")
    servers = start_servers(
        ["alice", "bob"],
        f"sqlite:///{tmp_path / 's.db'}",
        tmp_path,
        extra_args=offline_args(wheels, kernel_wheels),
        env=offline_pip_environ(),
    )
    alice, bob = servers["alice"], servers["bob"]
    try:
        env = {"python": "3.12.0", "packages": [{"name": "caretpkg", "version": "1.2"}]}
        iid = alice.post("/images", {"name": "CARET", "spec": {"environment": env}}).json()["id"]
        fid = alice.post(
            "/formations", {"name": "caret-lab", "spec": {"image": iid, "cpu": 2}}
        ).json()["id"]
        for kind, rid in (("images", iid), ("formations", fid)):
            alice.put(f"/{kind}/{rid}/grants/bob", {"permission": "view"})

        r = bob.post(f"/formations/{fid}/launch", {"name": "caret here"})
        assert r.status_code == 202, r.text
        answer = r.json()
        assert answer["state"] == "building" and answer["container"] is None
        assert answer["environment"]["display_name"] == "CARET (alice)"
        # A captured environment is applied: only the CPU is not.
        assert [item["field"] for item in answer["not_applied"]] == ["cpu"]

        def listed():
            items = bob.get("/sessions", params={"scope": "owned"}).json()["items"]
            return [s for s in items if s["name"] == "caret here"]

        (container,) = wait_for(listed, timeout=300)
        env_id = answer["environment"]["id"]
        assert bob.get(f"/environments/{env_id}").json()["state"] == "ready"
        # The environment is reused, not built twice: a second launch starts at once.
        again = bob.post(f"/formations/{fid}/launch", {"name": "caret again"})
        assert again.status_code == 201, again.text
        assert again.json()["environment"]["id"] == env_id
        child = launched_from(again.json())
        # Its default kernel is the image's environment: the package exists only there.
        owner = Owner(child)
        kernelspecs = owner.request("GET", "api/kernelspecs").json()
        assert kernelspecs["default"] == answer["environment"]["kernel_name"]
        assert run_in_kernel(child, "import caretpkg; caretpkg.ANSWER") == "42"
        for item in (container["id"], again.json()["container"]["id"]):
            assert bob.post(f"/sessions/{item}/stop").status_code == 200
    finally:
        for server in servers.values():
            server.stop()
