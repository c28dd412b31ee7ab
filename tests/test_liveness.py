"""Containers whose server has stopped are shown as stopped (issue 12), in the API, the panel's
data and the CLI: a server records its own clean stop, and the servers of its machine record a
server that died without saying so; a restart shows it running again."""

from __future__ import annotations

import os
import signal
import socket

import pytest

from jupyter_share import liveness
from jupyter_share.directory import StandaloneDirectory
from jupyter_share.model import Kind
from jupyter_share.service import ShareService

from .servers import running_servers, start_server, wait_ready

HOST = socket.gethostname()


@pytest.fixture
def svc(store):
    events: list = []
    service = ShareService(
        store,
        StandaloneDirectory(store, users=["alice", "bob"], use_login_accounts=False),
        emit=events.append,
    )
    service.events = events
    return service


def spec(started_at: str, port: int = 1, hostname: str = HOST) -> dict:
    return {
        "url": f"http://127.0.0.1:{port}/",
        "hostname": hostname,
        "state": "running",
        "started_at": started_at,
    }


def test_a_stop_is_recorded_audited_and_undone_by_a_restart(svc):
    made = svc.ensure_container("alice", "alice@here:~", spec("2026-12-06T05:00:00Z"))
    assert svc.container_stopped(made.id, "2026-12-06T05:00:00Z")
    stopped = svc.view("alice", Kind.SESSION, made.id).resource.spec
    assert stopped["state"] == "stopped" and stopped["stopped_at"].endswith("Z")
    assert liveness.container_state(stopped) == liveness.STOPPED
    assert [e.action for e in svc.history("alice", Kind.SESSION, made.id).items] == [
        "create",
        "stop",
    ]
    assert svc.events[-1]["action"] == "stop"
    # Recorded once.
    assert not svc.container_stopped(made.id, "2026-12-06T05:00:00Z")

    svc.container_started("alice", "alice@here:~", spec("2026-12-06T06:00:00Z"))
    assert svc.view("alice", Kind.SESSION, made.id).resource.spec["state"] == "running"


def test_a_late_stop_of_an_older_start_changes_nothing(svc):
    """The server that stopped is not the one running now (a restart took its place)."""
    made = svc.ensure_container("alice", "alice@here:~", spec("2026-12-06T06:00:00Z"))
    assert not svc.container_stopped(made.id, "2026-12-06T05:00:00Z")
    assert svc.view("alice", Kind.SESSION, made.id).resource.spec["state"] == "running"


def test_a_stop_read_before_a_restart_does_not_overwrite_it(svc, monkeypatch):
    """A sweep read the container, then the server restarted and wrote it running: the stop,
    decided on the old reading, changes nothing (it once overwrote the restart under load)."""
    made = svc.ensure_container("alice", "alice@here:~", spec("2026-12-06T05:00:00Z"))
    stale = svc.store.get_resource(made.id)
    svc.container_started("alice", "alice@here:~", spec("2026-12-06T06:00:00Z"))
    monkeypatch.setattr(svc.store, "get_resource", lambda resource_id: stale)
    assert not svc.container_stopped(made.id, "2026-12-06T05:00:00Z")
    monkeypatch.undo()
    now = svc.view("alice", Kind.SESSION, made.id).resource.spec
    assert now["state"] == "running" and now["started_at"] == "2026-12-06T06:00:00Z"


def test_a_start_makes_no_container_nobody_used(svc):
    svc.container_started("alice", "alice@here:~", spec("2026-12-06T06:00:00Z"))
    assert svc.store.find_resource("alice", Kind.SESSION, "alice@here:~") is None


def test_the_sweep_marks_only_this_machines_refusing_servers(svc):
    gone = svc.ensure_container("alice", "gone", spec("t1", port=1))
    live = svc.ensure_container("alice", "live", spec("t1", port=2))
    far = svc.ensure_container("bob", "far", spec("t1", port=1, hostname="elsewhere"))
    probed = []

    def probe(s: dict) -> str:
        probed.append(s["url"])
        return liveness.STOPPED if s["url"].endswith(":1/") else liveness.RUNNING

    assert svc.sweep_stopped(HOST, probe) == [gone.id]
    states = {r.id: r.spec["state"] for r in svc.store.resources_of_kind(Kind.SESSION)}
    assert states == {gone.id: "stopped", live.id: "running", far.id: "running"}
    # Another machine's container is never probed; a stopped one is not probed again.
    probed.clear()
    assert svc.sweep_stopped(HOST, probe) == []
    assert probed == ["http://127.0.0.1:2/"]


@pytest.mark.slow
@pytest.mark.slow  # real servers, one killed
def test_stopped_servers_are_shown_stopped_to_their_neighbours(tmp_path):
    """Alice's server stops cleanly, carol's is killed: bob's list shows both stopped (carol's
    once bob's server sweeps); alice's restart shows hers running again."""
    db_url = f"sqlite:///{tmp_path / 'share.db'}"
    sweep = ["--ShareApp.liveness_interval=0.5"]
    with running_servers(["bob"], db_url, tmp_path, extra_args=sweep) as servers:
        bob = servers["bob"]
        owners = {
            name: wait_ready(start_server(name, db_url, tmp_path)) for name in ("alice", "carol")
        }
        try:
            for server in owners.values():
                shared = server.put("/sessions/current/grants/bob", {"permission": "view"})
                assert shared.status_code == 201, shared.text

            def states() -> dict:
                items = bob.get("/shared-with-me", params={"kind": "session"}).json()["items"]
                return {i["owner"]: i["spec"].get("state") for i in items}

            assert states() == {"alice": "running", "carol": "running"}
            owners["alice"].stop()  # SIGTERM: the server stops cleanly
            # (waited for: a server slow to stop under load is killed, and swept instead)
            wait_for(lambda: states()["alice"] == "stopped", timeout=30)
            os.kill(owners["carol"].process.pid, signal.SIGKILL)
            owners["carol"].process.wait(10)
            wait_for(lambda: states()["carol"] == "stopped", timeout=30)

            again = wait_ready(start_server("alice", db_url, tmp_path, root=owners["alice"].root))
            owners["alice"] = again
            assert states()["alice"] == "running"
        finally:
            for server in owners.values():
                server.stop()


def wait_for(condition, timeout: float) -> None:
    import time

    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("not within the timeout")
        time.sleep(0.2)
