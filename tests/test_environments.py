"""Environments from images (issue 16), built for real and offline: the image's packages are
tiny wheels the tests write (tests/wheels.py) into a local find-links folder, installed with
`--no-index`; ipykernel and its dependencies come from a wheelhouse downloaded once per run
(docs/decisions.md, "Environments from images"). pip's machine configuration is switched off
(PIP_CONFIG_FILE=/dev/null), so nothing else is looked at.

The refusals that stop before anything is installed are fast; the tests that build a whole
environment with ipykernel (about 10 s each) are marked slow.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from jupyter_share.environments import BuildSettings, EnvironmentManager
from jupyter_share.model import Conflict, InvalidInput, Kind, NotFound, Resource

from .wheels import make_wheel

IMAGE_ID = "0123456789abcdef"


@pytest.fixture(autouse=True)
def offline_pip(monkeypatch):
    """No pip configuration of this machine (its find-links, indexes, constraints)."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in list(os.environ):
        if name.startswith("PIP_") and name != "PIP_CONFIG_FILE":
            monkeypatch.delenv(name)


@pytest.fixture
def wheels(tmp_path) -> Path:
    folder = tmp_path / "wheels"
    make_wheel(folder, "caretpkg", "1.2", requires=("caretdep==0.5",), body="ANSWER = 42")
    make_wheel(folder, "caretdep", "0.5")
    return folder


def image(packages, python=None, name="CARET", owner="alice", rid=IMAGE_ID, **env) -> Resource:
    environment = {
        "python": python or ".".join(map(str, sys.version_info[:3])),
        "packages": [
            {"name": n, "version": v, **({"source": s} if s else {})} for n, v, s in packages
        ],
        **env,
    }
    return Resource(rid, Kind.IMAGE, name, owner, spec={"environment": environment})


CARET = [("caretpkg", "1.2", None), ("caretdep", "0.5", None)]


def manager(tmp_path, find_links, kernel=(), events=None, **kw) -> EnvironmentManager:
    settings = BuildSettings(
        root=tmp_path / "envs",
        kernels_dir=tmp_path / "kernels",
        python=sys.executable,
        installer=kw.pop("installer", "pip"),
        no_index=kw.pop("no_index", True),
        find_links=[str(f) for f in find_links],
        kernel_requirements=list(kernel),
        **kw,
    )
    return EnvironmentManager(settings, (events.append if events is not None else print))


def built(m: EnvironmentManager, env: dict, timeout: float = 300) -> dict:
    assert m.build(env["id"]).wait(timeout), "the build did not finish"
    return m.get("bob", env["id"])


# -- fast: refused before anything is installed, or without a kernel ------------------------


def test_plan_names_python_versions_and_pins(tmp_path, wheels):
    m = manager(tmp_path, [wheels])
    plan = m.plan_json(image(CARET, python="3.8.10"), "bob")
    assert plan["requirements"] == ["caretpkg==1.2", "caretdep==0.5"]
    assert plan["python"]["captured"] == "3.8.10"
    assert plan["python"]["used"] == ".".join(map(str, sys.version_info[:3]))
    assert plan["python"]["matches"] is False
    assert "3.8.10" in plan["python"]["note"] and plan["python"]["used"] in plan["python"]["note"]
    assert plan["display_name"] == "CARET (alice)"
    assert plan["environment"] is None and plan["refusal"] is None


def test_local_only_package_is_refused_by_name(tmp_path, wheels):
    m = manager(tmp_path, [wheels])
    img = image(CARET + [("mylab", "0.1.dev0", "local")])
    with pytest.raises(InvalidInput) as refused:
        m.use(img, "bob")
    assert "mylab==0.1.dev0" in refused.value.message
    assert not (tmp_path / "envs").exists() or not any((tmp_path / "envs").iterdir())


def test_missing_wheel_fails_naming_it_and_removes_the_env(tmp_path, wheels):
    events: list = []
    m = manager(tmp_path, [wheels], events=events)
    env, started = m.use(image(CARET + [("nowhere", "3.1", None)]), "bob")
    assert started
    done = built(m, env)
    assert done["state"] == "failed"
    assert done["error"]["package"] == "nowhere==3.1"
    assert done["error"]["reason"] == "no_wheel"
    assert "nowhere==3.1" in done["message"]
    assert not Path(env["path"]).exists()
    assert "nowhere" in m.log("bob", env["id"])  # the log stays, for the panel
    assert [e["state"] for e in events][-1] == "failed"
    assert {"preparing", "resolving"} <= {e["step"] for e in events}


def test_wheel_for_another_python_is_no_wheel(tmp_path, wheels):
    make_wheel(wheels, "oldpkg", "1.0", tag="cp27-cp27mu-manylinux1_x86_64")
    m = manager(tmp_path, [wheels])
    done = built(m, m.use(image([("oldpkg", "1.0", None)]), "bob")[0])
    assert done["state"] == "failed" and done["error"]["package"] == "oldpkg==1.0"
    assert "Python" in done["message"]


def test_unreachable_index_is_said(tmp_path, wheels, monkeypatch):
    monkeypatch.setenv("PIP_RETRIES", "0")
    m = manager(tmp_path, [], no_index=False, index_url="http://127.0.0.1:9/simple")
    done = built(m, m.use(image([("caretpkg", "1.2", None)]), "bob")[0])
    assert done["state"] == "failed", done
    assert done["error"]["reason"] == "no_index"
    assert "127.0.0.1:9" in done["message"]


def test_not_enough_disk_is_refused_before_installing(tmp_path, wheels):
    m = manager(tmp_path, [wheels], min_free_mb=10**9)
    done = built(m, m.use(image(CARET), "bob")[0])
    assert done["state"] == "failed" and done["error"]["reason"] == "disk"
    assert "MB free" in done["message"]
    assert not Path(done["path"]).exists()


def test_image_without_packages_is_refused(tmp_path, wheels):
    m = manager(tmp_path, [wheels])
    with pytest.raises(InvalidInput):
        m.use(Resource(IMAGE_ID, Kind.IMAGE, "ref", "alice", spec={"reference": "a/b:1"}), "bob")


def test_someone_elses_environment_is_not_found(tmp_path, wheels):
    m = manager(tmp_path, [wheels])
    env, _ = m.use(image([("nowhere", "1", None)]), "bob")
    built(m, env)
    for call in (m.get, m.log, m.cancel, m.remove):
        with pytest.raises(NotFound):
            call("carol", env["id"])
    assert m.list("carol") == []
    with pytest.raises(NotFound):
        m.get("bob", "../../etc")


def test_half_made_environment_is_removed_at_start(tmp_path, wheels):
    left = tmp_path / "envs" / f"{IMAGE_ID}-0123456789ab"
    (left / "bin").mkdir(parents=True)
    manager(tmp_path, [wheels])
    assert not left.exists()


def test_uv_counts_every_package_it_installs_when_its_cache_is_warm(tmp_path, wheels, monkeypatch):
    """uv's "Prepared M" counts only what its cache lacked (nothing, once warm); the progress
    total is every package it installs, the dependency the image did not pin among them."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if not shutil.which("uv"):
        pytest.skip("uv is not installed")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    totals = []
    for run in ("cold", "warm"):
        events: list = []
        m = manager(tmp_path / run, [wheels], events=events, installer="uv")
        built(m, m.use(image([("caretpkg", "1.2", None)]), "bob")[0])
        installing = [e for e in events if e["step"] == "installing"]
        totals.append((installing[-1]["done"], installing[-1]["total"]))
    assert totals == [(2, 2), (2, 2)]


# -- slow: whole environments with a kernel -------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_kernel_from_image_imports_a_package_only_it_has(
    tmp_path, wheels, kernel_wheels, installer, monkeypatch
):
    if installer == "uv":
        # The test extra installs uv beside this Python; the builder looks for it on PATH.
        monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        if not shutil.which("uv"):
            pytest.skip("uv is not installed")
    pytest.importorskip("jupyter_client")
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    events: list = []
    m = manager(tmp_path, [wheels, kernel_wheels], ["ipykernel"], events, installer=installer)
    env, started = m.use(image(CARET), "bob")
    assert started and env["state"] == "building"
    done = built(m, env)
    assert done["state"] == "ready", m.log("bob", env["id"])
    steps = [e["step"] for e in events]
    assert steps.index("resolving") < steps.index("installing") < steps.index("registering")
    installing = [e for e in events if e["step"] == "installing"]
    assert installing[-1]["done"] == installing[-1]["total"] > 2

    # Not built twice: the same image version answers the environment that is there.
    again, started = m.use(image(CARET), "bob")
    assert not started and again["id"] == env["id"] and again["state"] == "ready"
    assert [e["id"] for e in m.list("bob")] == [env["id"]]

    with pytest.raises(ImportError):
        __import__("caretpkg")  # only the new environment has it
    spec = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]).get_kernel_spec(
        env["kernel_name"]
    )
    assert spec.display_name == "CARET (alice)"
    outputs: list = []
    km = KernelManager(kernel_name=env["kernel_name"])
    km.kernel_spec_manager = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(
            "import caretpkg, caretdep, sys; print(caretpkg.ANSWER, caretpkg.VERSION, sys.prefix)",
            timeout=60,
            output_hook=outputs.append,
        )
        assert reply["content"]["status"] == "ok"
        text = "".join(msg["content"].get("text", "") for msg in outputs)
        assert f"42 1.2 {env['path']}" in text
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)

    m.remove("bob", env["id"])
    assert not Path(env["path"]).exists()
    assert not (tmp_path / "kernels" / env["kernel_name"]).exists()
    assert m.list("bob") == []
    with pytest.raises(NotFound):
        m.get("bob", env["id"])


@pytest.mark.slow
def test_cancel_mid_install_removes_everything(tmp_path, wheels, kernel_wheels):
    m = manager(tmp_path, [wheels, kernel_wheels], ["ipykernel"])
    env, _ = m.use(image(CARET), "bob")
    build = m.build(env["id"])
    deadline = time.monotonic() + 120
    while build.step not in ("installing",) and build.state == "building":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert build.state == "building", m.log("bob", env["id"])
    cancelled = m.cancel("bob", env["id"])
    assert cancelled["state"] == "cancelled"
    assert not Path(env["path"]).exists()
    assert not (tmp_path / "kernels" / env["kernel_name"]).exists()
    with pytest.raises(Conflict):
        m.cancel("bob", env["id"])
    # Cancelled is not built: the next use builds it again.
    again, started = m.use(image(CARET), "bob")
    assert started
    m.cancel("bob", again["id"])


def test_kernelspec_json_points_at_the_env(tmp_path, wheels):
    """The kernelspec is written only once ipykernel imports: without it the build fails at
    registering, and no kernelspec is left."""
    m = manager(tmp_path, [wheels])
    done = built(m, m.use(image(CARET), "bob")[0])
    assert done["state"] == "failed" and done["step"] == "registering"
    assert done["error"]["package"] == "ipykernel"
    assert not (tmp_path / "kernels").exists() or not list((tmp_path / "kernels").iterdir())
    assert json.loads(json.dumps(done))  # plain JSON for the API


def test_conda_image_without_conda_here_says_so_and_falls_back_to_a_venv(
    tmp_path, wheels, monkeypatch
):
    """No conda, mamba or micromamba on PATH: the plan says so plainly, names the conda-only
    packages that will be missing, and the build (a virtual environment) logs it too."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    conda = {
        "name": "caret",
        "channels": ["conda-forge"],
        "packages": [
            {"name": "python", "version": "3.12.0", "channel": "conda-forge"},
            {"name": "libffi", "version": "3.4.2", "channel": "conda-forge"},
            {"name": "caretpkg", "version": "1.2", "channel": "conda-forge"},
        ],
    }
    m = manager(tmp_path, [wheels])
    img = image(CARET + [("nowhere", "1", None)], conda=conda)
    plan = m.plan_json(img, "bob")
    assert plan["conda_tool"] is None
    assert plan["conda_only"] == ["libffi=3.4.2", "python=3.12.0"]  # caretpkg comes from pip
    assert "no conda, mamba or micromamba" in plan["conda"]
    assert "libffi=3.4.2" in plan["conda"] and "virtual environment" in plan["conda"]
    assert plan["refusal"] is None
    env, started = m.use(img, "bob")
    assert started
    done = built(m, env)
    assert done["state"] == "failed" and "nowhere==1" in done["message"]
    assert "no conda, mamba or micromamba" in m.log("bob", env["id"])


def test_image_not_from_conda_has_no_conda_note(tmp_path, wheels):
    plan = manager(tmp_path, [wheels]).plan_json(image(CARET), "bob")
    assert plan["conda"] is None and plan["conda_tool"] is None and plan["conda_only"] == []
