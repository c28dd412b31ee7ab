"""Using a shared image through the API (issue 16): who may, the event stream, and for real on
two servers: bob uses alice's image, a kernel of the new environment imports its package.
Guests never build environments in the owner's container."""

from __future__ import annotations

import asyncio
import time

import pytest

from jupyter_share.app import ENVIRONMENT_SCHEMA_ID
from jupyter_share.model import Kind

from .conftest import offline_pip_environ
from .servers import start_servers
from .test_links import Guest, Owner, execute
from .wheels import make_wheel, offline_args


def environment(*packages) -> dict:
    return {
        "python": "3.12.0",
        "packages": [{"name": n, "version": v} for n, v in packages],
    }


@pytest.fixture
def share_app(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_share"]
    return app


@pytest.fixture(autouse=True)
def offline_pip(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", __import__("os").devnull)


async def test_another_users_unshared_image_is_not_found(api, share_app):
    svc = share_app.service
    hidden = svc.create(
        "bob", Kind.IMAGE, {"name": "bob's", "spec": {"environment": environment(("x", "1"))}}
    ).resource.id
    for method in ("GET", "POST"):
        r = await api(method, f"images/{hidden}/use")
        assert r.code == 404, r.body
    assert (await api("GET", "environments")).code == 200
    # Shared with view: enough to use it.
    svc.share("bob", Kind.IMAGE, hidden, "alice", {"permission": "view"})
    plan = await api("GET", f"images/{hidden}/use")
    assert plan.code == 200
    assert b'"display_name": "bob\'s (bob)"' in plan.body


async def test_progress_reaches_the_event_stream(api, share_app, jp_serverapp):
    events: list = []

    async def listener(logger, schema_id, data):
        events.append(data)

    jp_serverapp.event_logger.add_listener(schema_id=ENVIRONMENT_SCHEMA_ID, listener=listener)
    svc = share_app.service
    rid = svc.create(
        "alice", Kind.IMAGE, {"name": "CARET", "spec": {"environment": environment(("gone", "2"))}}
    ).resource.id
    r = await api("POST", f"images/{rid}/use")
    assert r.code == 202
    for _ in range(600):
        if events and events[-1]["state"] != "building":
            break
        await asyncio.sleep(0.1)
    assert events[0]["state"] == "building" and events[0]["display_name"] == "CARET (alice)"
    assert {"preparing", "resolving"} <= {e["step"] for e in events}
    assert events[-1]["state"] == "failed" and "gone==2" in events[-1]["message"]


async def test_local_only_package_is_refused_before_building(api, share_app):
    svc = share_app.service
    env = environment(("fine", "1"))
    env["packages"].append({"name": "mylab", "version": "0.1", "source": "local"})
    rid = svc.create("alice", Kind.IMAGE, {"name": "dev", "spec": {"environment": env}}).resource.id
    plan = await api("GET", f"images/{rid}/use")
    assert b"mylab==0.1" in plan.body and b'"local_only": ["mylab==0.1"]' in plan.body
    r = await api("POST", f"images/{rid}/use")
    assert r.code == 400 and b"mylab==0.1" in r.body
    assert b'"total": 0' in (await api("GET", "environments")).body


# -- real servers ------------------------------------------------------------------------------


@pytest.mark.slow
def test_guests_may_not_build_in_the_owners_container(tmp_path):
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "caretpkg", "1.2")
    alice = start_servers(
        ["alice"],
        f"sqlite:///{tmp_path / 's.db'}",
        tmp_path,
        users=["bob", "carol", "dave"],
        extra_args=["--ShareApp.environment_no_index=True"],
        env=offline_pip_environ(),
    )["alice"]
    try:
        rid = alice.post(
            "/images", {"name": "CARET", "spec": {"environment": environment(("nowhere", "1"))}}
        ).json()["id"]
        guests = {}
        for who, permission in (("bob", "view"), ("carol", "edit"), ("dave", "manage")):
            assert (
                alice.put(f"/images/{rid}/grants/{who}", {"permission": "view"}).status_code == 201
            )
            link = alice.put(f"/sessions/current/grants/{who}", {"permission": permission})
            guests[who] = Guest(alice, link.json()["link"])
        env_id = alice.post(f"/images/{rid}/use").json()["id"]
        api = "jupyter-share/api/v1"
        for who, guest in guests.items():
            for method, path in (
                ("GET", f"{api}/images/{rid}/use"),
                ("POST", f"{api}/images/{rid}/use"),
                ("GET", f"{api}/environments"),
                ("GET", f"{api}/environments/{env_id}"),
                ("GET", f"{api}/environments/{env_id}/log"),
                ("POST", f"{api}/environments/{env_id}/cancel"),
                ("DELETE", f"{api}/environments/{env_id}"),
            ):
                r = guest.request(method, path)
                assert r.status_code == 403, (who, method, path, r.status_code, r.text)
        # The owner's environment is untouched by all that.
        assert alice.get(f"/environments/{env_id}").status_code == 200
    finally:
        alice.stop()


@pytest.mark.slow
def test_bob_uses_alices_image_and_its_kernel_imports_its_package(tmp_path, kernel_wheels):
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "caretpkg", "1.2", requires=("caretdep==0.5",), body="ANSWER = 42")
    make_wheel(wheels, "caretdep", "0.5")
    servers = start_servers(
        ["alice", "bob"],
        f"sqlite:///{tmp_path / 's.db'}",
        tmp_path,
        extra_args=offline_args(wheels, kernel_wheels),
        env=offline_pip_environ(),
    )
    alice, bob = servers["alice"], servers["bob"]
    try:
        env = environment(("caretpkg", "1.2"), ("caretdep", "0.5"))
        rid = alice.post("/images", {"name": "CARET", "spec": {"environment": env}}).json()["id"]
        assert bob.post(f"/images/{rid}/use").status_code == 404  # not shared yet
        alice.put(f"/images/{rid}/grants/bob", {"permission": "view"})
        r = bob.post(f"/images/{rid}/use")
        assert r.status_code == 202, r.text
        env_id = r.json()["id"]
        deadline = time.monotonic() + 300
        while (state := bob.get(f"/environments/{env_id}").json())["state"] == "building":
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert state["state"] == "ready", bob.get(f"/environments/{env_id}/log").text
        assert bob.post(f"/images/{rid}/use").status_code == 200  # not built twice

        owner = Owner(bob)
        specs = owner.request("GET", "api/kernelspecs").json()["kernelspecs"]
        assert specs[state["kernel_name"]]["spec"]["display_name"] == "CARET (alice)"
        kernel = owner.request("POST", "api/kernels", {"name": state["kernel_name"]}).json()
        ws = owner.websocket(f"api/kernels/{kernel['id']}/channels")
        try:
            assert execute(ws, "import caretpkg; caretpkg.ANSWER", timeout=60) == "42"
        finally:
            ws.close()
            owner.request("DELETE", f"api/kernels/{kernel['id']}")
        assert alice.get("/environments").json()["total"] == 0  # bob's container, not hers

        # The notebook widgets offer the same: "Use here" in SharedWithMe.
        from jupyter_share.client import ShareClient
        from jupyter_share.widgets import SharedWithMe

        gap = alice.post(
            "/images", {"name": "gap", "spec": {"environment": environment(("nowhere", "1"))}}
        ).json()["id"]
        alice.put(f"/images/{gap}/grants/bob", {"permission": "view"})
        panel = SharedWithMe(client=ShareClient(bob.url, bob.token))
        items = {r.resource["id"]: r for r in panel.rows}
        items[rid].buttons["use"].click()  # built already: ready at once
        assert panel.using.environment["id"] == env_id
        assert "is ready" in panel.using.status_text
        items[gap].buttons["use"].click()
        assert panel.using.wait(120)
        assert panel.using.environment["state"] == "failed"
        assert "nowhere==1" in panel.using.status_text
        panel.using.show_log()
        assert "nowhere" in panel.using.log_view.value

        assert bob.delete(f"/environments/{env_id}").status_code == 204
        specs = owner.request("GET", "api/kernelspecs").json()["kernelspecs"]
        assert state["kernel_name"] not in specs
        assert bob.get(f"/environments/{env_id}").status_code == 404
    finally:
        for server in servers.values():
            server.stop()
