"""Using a shared image under JupyterHub (issue 16): bob's own server builds the environment in
his own container, reading alice's image through the share service; the share service itself
builds nothing; a guest in bob's server (a Hub share) is refused every environment path.

A real JupyterHub (tests/hubs.py), real pip, wheels made by the tests (no index)."""

from __future__ import annotations

import subprocess
import time

import pytest

from .hubs import NO_SERVICE, require_proxy, running_hub
from .test_hub_attacks import Browser
from .wheels import make_wheel

pytestmark = pytest.mark.slow

API = "jupyter-share/api/v1/"


@pytest.fixture(scope="module")
def hub(tmp_path_factory, kernel_wheels):
    require_proxy()
    directory = tmp_path_factory.mktemp("hub-env")
    wheels = directory / "wheels"
    make_wheel(wheels, "caretpkg", "1.2", requires=("caretdep==0.5",), body="ANSWER = 42")
    make_wheel(wheels, "caretdep", "0.5")
    # The user servers build from these folders only (no index), as tests/test_use_image.py.
    extra = f"""
c.Spawner.args.extend([
    "--ShareApp.environment_no_index=True",
    "--ShareApp.environment_find_links={wheels}",
    "--ShareApp.environment_find_links={kernel_wheels}",
])
c.Spawner.environment.update({{"PIP_CONFIG_FILE": "/dev/null"}})
"""
    with running_hub(directory, extra=extra) as running:
        running.wait_service()
        running.start_server("alice")
        running.start_server("bob")
        yield running


def environment(*packages) -> dict:
    return {"python": "3.12.0", "packages": [{"name": n, "version": v} for n, v in packages]}


def test_bob_builds_alices_image_on_his_hub_server(hub):
    alice = hub.token_client(hub.token("alice"))
    bob = hub.token_client(hub.token("bob"))
    on_alice, on_bob = hub.server_url("alice") + API, hub.server_url("bob") + API
    env = environment(("caretpkg", "1.2"), ("caretdep", "0.5"))
    r = alice.post(on_alice + "images", json={"name": "CARET", "spec": {"environment": env}})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]

    # Not shared yet: bob's server learns nothing from the service (existence hidden).
    for method in ("GET", "POST"):
        r = bob.request(method, on_bob + f"images/{rid}/use")
        assert r.status_code == 404, (method, r.text)
    assert bob.get(on_bob + "images/nope/use").status_code == 404
    # An id that tries to reach another path of the service is still an image id there.
    r = bob.get(on_bob + "images/..%2Fsessions%2Fcurrent/use")
    assert r.status_code == 404 and "application/json" in r.headers["Content-Type"], r.text
    assert alice.put(on_alice + f"images/{rid}/grants/bob", json={"permission": "view"}).is_success

    plan = bob.get(on_bob + f"images/{rid}/use")
    assert plan.status_code == 200, plan.text
    assert plan.json()["display_name"] == "CARET (alice)"
    assert plan.json()["requirements"] == ["caretpkg==1.2", "caretdep==0.5"]
    r = bob.post(on_bob + f"images/{rid}/use")
    assert r.status_code == 202, r.text
    assert r.headers["Location"].endswith(f"/user/bob/{API}environments/{r.json()['id']}")
    env_id = r.json()["id"]
    deadline = time.monotonic() + 300
    steps = set()
    while (state := bob.get(on_bob + f"environments/{env_id}").json())["state"] == "building":
        steps.add(state["step"])
        assert time.monotonic() < deadline
        time.sleep(0.2)
    log = bob.get(on_bob + f"environments/{env_id}/log")
    assert state["state"] == "ready", log.text
    assert "== installing" in log.text and "== registering" in log.text
    assert bob.post(on_bob + f"images/{rid}/use").status_code == 200  # not built twice
    assert [e["id"] for e in bob.get(on_bob + "environments").json()["items"]] == [env_id]

    # Built in bob's container: its Python imports the package; his server lists the kernel.
    out = subprocess.run(
        [state["path"] + "/bin/python", "-c", "import caretpkg; print(caretpkg.ANSWER)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "42", out.stderr
    specs = bob.get(hub.server_url("bob") + "api/kernelspecs").json()["kernelspecs"]
    assert specs[state["kernel_name"]]["spec"]["display_name"] == "CARET (alice)"
    # ... and only there: alice's server has no such environment.
    assert alice.get(on_alice + "environments").json()["total"] == 0
    assert alice.get(on_alice + f"environments/{env_id}").status_code == 404

    # The share service itself builds nothing: it says where environments are built.
    r = bob.get(hub.service_api + "environments")
    assert r.status_code == 400 and "own container" in r.json()["message"]

    # A guest in bob's server (a Hub share, edit) is refused every environment path there.
    r = bob.put(on_bob + "sessions/current/grants/carol", json={"permission": "edit"})
    assert r.status_code in (200, 201), r.text
    carol = Browser(hub, "carol", owner="bob")
    for method, path in (
        ("GET", f"{API}images/{rid}/use"),
        ("POST", f"{API}images/{rid}/use"),
        ("GET", f"{API}environments"),
        ("GET", f"{API}environments/{env_id}"),
        ("GET", f"{API}environments/{env_id}/log"),
        ("POST", f"{API}environments/{env_id}/cancel"),
        ("DELETE", f"{API}environments/{env_id}"),
    ):
        r = carol.request(method, path)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert bob.get(on_bob + f"environments/{env_id}").json()["state"] == "ready"

    # Removing takes the kernelspec and the environment together.
    assert bob.delete(on_bob + f"environments/{env_id}").status_code == 204
    specs = bob.get(hub.server_url("bob") + "api/kernelspecs").json()["kernelspecs"]
    assert state["kernel_name"] not in specs
    assert bob.get(on_bob + f"environments/{env_id}").status_code == 404


def test_a_server_that_cannot_reach_the_share_service_answers_503_and_still_lists(hub):
    """The image is read through the share service: without it, 503 (JSON, nothing built);
    the environments already here are the server's own and are still listed."""
    hub.start_server("bob", NO_SERVICE)
    bob = hub.token_client(hub.token("bob"))
    api = hub.server_url("bob", NO_SERVICE) + API
    for method in ("GET", "POST"):
        r = bob.request(method, api + "images/0123456789abcdef/use")
        assert r.status_code == 503, (method, r.status_code, r.text)
        assert "share service" in r.json()["message"]
    r = bob.get(api + "environments")
    assert r.status_code == 200 and r.json()["total"] == 0, r.text
    hub.stop_server("bob", NO_SERVICE)
