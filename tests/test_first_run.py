"""The first ten minutes (issue 12): real `jupyter server` processes with no share
configuration share with the people a shared workstation has, options are read the way
Jupyter users type them, a bad option stops the server, containers carry their owner's name,
and `jupyter share hub-demo` says what is missing before anything else."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_share.directory import LoginAccounts, uid_range

from .servers import free_port, running_servers, start_server

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'share.db'}"


@pytest.mark.slow
def test_a_fresh_server_invites_a_neighbour_by_name(tmp_path, db_url):
    """No ShareApp.users, no groups: sharing the container with a new name makes the link, and
    from then on that neighbour is known (completion, images); an unknown name elsewhere is
    refused with what to do next."""
    with running_servers(["alice", "bob"], db_url, tmp_path) as servers:
        alice, bob = servers["alice"], servers["bob"]
        image = alice.post(
            "/images", {"name": "caret", "spec": {"reference": "quay.io/lab/caret:1"}}
        ).json()

        refused = alice.put(f"/images/{image['id']}/grants/zed", {"permission": "view"})
        assert refused.status_code == 400
        message = refused.json()["message"]
        assert (
            message.startswith("unknown user 'zed': ")
            and "Share your container with zed" in message
        )
        assert message.endswith("or set c.ShareApp.users (--ShareApp.users=zed)")

        # Bob has used the store (his server registered him): known at once.
        assert (
            alice.put(f"/images/{image['id']}/grants/bob", {"permission": "view"}).status_code
            == 201
        )

        assert alice.get("/directory", params={"q": "zed"}).json()["users"] == []
        invited = alice.put("/sessions/current/grants/zed", {"permission": "view"})
        assert invited.status_code == 201, invited.text
        assert "/jupyter-share/link/" in invited.json()["link"]
        assert alice.get("/directory", params={"q": "ze"}).json()["users"] == ["zed"]
        assert bob.get("/directory", params={"q": "ze"}).json()["users"] == [
            "zed"
        ]  # the store's, for everyone
        assert (
            alice.put(f"/images/{image['id']}/grants/zed", {"permission": "view"}).status_code
            == 201
        )

        # A group is never invited; a malformed name is refused as before.
        assert (
            alice.put(
                "/sessions/current/grants/group:newcomers", {"permission": "view"}
            ).status_code
            == 400
        )
        assert alice.put("/sessions/current/grants/a,b", {"permission": "view"}).status_code == 400

        # Both containers carry their owner's name and host: bob tells them apart.
        host = socket.gethostname()
        bob.get("/sessions/current")
        names = {
            s["owner"]: s["name"]
            for s in bob.get("/sessions", params={"scope": "all"}).json()["items"]
        }
        assert (
            names["bob"].startswith(f"bob@{host}:") and len(names) == 1
        )  # alice's is not shared with bob
        assert alice.get("/sessions/current").json()["name"].startswith(f"alice@{host}:")


@pytest.mark.slow
@pytest.mark.parametrize(
    "form",
    [
        ['--ShareApp.users=["bob","carol"]'],
        ["--ShareApp.users=['bob','carol']"],
        ["--ShareApp.users=bob", "--ShareApp.users=carol"],
    ],
)
def test_users_as_jupyter_users_type_them(tmp_path, db_url, form):
    with running_servers(["alice"], db_url, tmp_path, extra_args=form) as servers:
        alice = servers["alice"]
        assert alice.get("/directory", params={"q": "bo"}).json()["users"] == ["bob"]
        assert alice.get("/directory", params={"q": "ca"}).json()["users"] == ["carol"]
        assert alice.get("/directory", params={"q": "["}).json()["users"] == []
        image = alice.post(
            "/images", {"name": "caret", "spec": {"reference": "quay.io/lab/caret:1"}}
        ).json()
        assert (
            alice.put(f"/images/{image['id']}/grants/carol", {"permission": "view"}).status_code
            == 201
        )


@pytest.mark.slow
def test_groups_as_jupyter_users_type_them(tmp_path, db_url):
    form = ['--ShareApp.groups={"class-2026": ["bob", "carol"]}', "--ShareApp.groups=staff=dave"]
    with running_servers(["alice"], db_url, tmp_path, extra_args=form) as servers:
        assert servers["alice"].get("/directory", params={"q": ""}).json()["groups"] == [
            "class-2026",
            "staff",
        ]
        assert "dave" in servers["alice"].get("/directory", params={"q": "da"}).json()["users"]


@pytest.mark.parametrize(
    "option, shown",
    [
        ("--ShareApp.users=bob,carol", "ShareApp.users: 'bob,carol' is not a user name"),
        (
            '--ShareApp.users=["bob", "carol"',
            'ShareApp.users: \'["bob", "carol"\' is not a user name',
        ),
        (
            '--ShareApp.groups={"class 2026": ["bob"]}',
            "ShareApp.groups: 'class 2026' is not a group name",
        ),
    ],
)
@pytest.mark.slow
def test_a_bad_option_stops_the_server(tmp_path, db_url, option, shown):
    server = start_server("alice", db_url, tmp_path, extra_args=[option])
    try:
        code = server.process.wait(60)
    finally:
        server.stop()
    log = server.log()
    assert code == 1, log
    assert f"jupyter_share: bad configuration: {shown}" in log, log
    assert "Give names as --ShareApp" in log and "Traceback" not in log, log
    assert "Jupyter Server" not in log.split("bad configuration")[-1]  # it never started listening


# -- the machine's login accounts -----------------------------------------------------------


def test_login_accounts_follow_login_defs(tmp_path):
    """UID_MIN and UID_MAX come from login.defs; system, locked and nobody accounts are not
    offered; every name offered is one the machine's password database has."""
    defs = tmp_path / "login.defs"
    defs.write_text("# comment\nUID_MIN\t\t 2000\nUID_MAX 0x9000\nGID_MIN 10\n")
    assert uid_range(str(defs)) == (2000, 0x9000)
    assert uid_range(str(tmp_path / "missing")) == (1000, 60000)
    accounts = LoginAccounts()
    low, high = uid_range()
    for name in accounts.names():
        entry = pwd.getpwnam(name)
        assert low <= entry.pw_uid <= high and not entry.pw_shell.endswith(("nologin", "false"))
        assert accounts.exists(name)
    for system in ("root", "nobody", "daemon"):
        assert system not in accounts.names() and not accounts.exists(system)


@pytest.mark.slow
@pytest.mark.skipif(
    not (IS_ROOT and shutil.which("useradd") and shutil.which("userdel")),
    reason="adds throwaway accounts as root",
)
def test_a_login_account_is_offered_and_shared_with(tmp_path, db_url):
    human, system = f"jsfirst{os.urandom(3).hex()}", f"jssys{os.urandom(3).hex()}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/bash", human], check=True)
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", system],
        check=True,
    )
    try:
        with running_servers(["alice"], db_url, tmp_path) as servers:
            alice = servers["alice"]
            assert alice.get("/directory", params={"q": "jsfirst"}).json()["users"] == [human]
            assert alice.get("/directory", params={"q": system}).json()["users"] == []
            image = alice.post(
                "/images", {"name": "caret", "spec": {"reference": "quay.io/lab/caret:1"}}
            ).json()
            assert (
                alice.put(
                    f"/images/{image['id']}/grants/{human}", {"permission": "view"}
                ).status_code
                == 201
            )
            assert (
                alice.put(
                    f"/images/{image['id']}/grants/{system}", {"permission": "view"}
                ).status_code
                == 400
            )
    finally:
        subprocess.run(["userdel", human], capture_output=True)
        subprocess.run(["userdel", system], capture_output=True)


# -- hub-demo ---------------------------------------------------------------------------------

BLOCK_JUPYTERHUB = """
import sys
class NoJupyterHub:
    def find_spec(self, name, path=None, target=None):
        if name == "jupyterhub" or name.startswith("jupyterhub."):
            raise ModuleNotFoundError("No module named 'jupyterhub'")
sys.meta_path.insert(0, NoJupyterHub())
from jupyter_share.cli import main
main(["hub-demo"])
"""


def _demo(tmp_path, code_or_args, path: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env["PATH"] = path
    argv = (
        [sys.executable, "-c", code_or_args]
        if isinstance(code_or_args, str)
        else [sys.executable, "-m", "jupyter_share.cli", *code_or_args]
    )
    return subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # `jupyter share hub-demo` as processes
def test_hub_demo_says_what_is_missing_before_its_banner(tmp_path):
    without_proxy = os.pathsep.join(
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and not (Path(p) / "configurable-http-proxy").exists()
    )
    no_hub = _demo(tmp_path, BLOCK_JUPYTERHUB, os.environ.get("PATH", ""))
    assert no_hub.returncode == 1 and no_hub.stdout == "", no_hub
    assert no_hub.stderr.startswith(
        "jupyter share: error: JupyterHub is not installed in this Python"
    )
    assert (
        '`pip install "jupyter_share[hub]"` (from a checkout: `pip install ".[hub]"`)'
        in no_hub.stderr
    )

    no_proxy = _demo(tmp_path, ["hub-demo"], without_proxy)
    assert no_proxy.returncode == 1 and no_proxy.stdout == "", no_proxy  # no banner, no password
    assert "configurable-http-proxy is not installed" in no_proxy.stderr
    assert (
        "`npm install -g configurable-http-proxy`" in no_proxy.stderr
        and "Traceback" not in no_proxy.stderr
    )


@pytest.mark.slow  # two real Hubs with their proxies and share services
def test_two_hub_demos_run_at_once_beside_a_hub_on_the_default_ports(tmp_path):
    """The demo's inner ports (the Hub's, the proxy's API, the share service's) are picked
    free, so a second demo, or a Hub already on JupyterHub's defaults, does not stop it."""
    if not shutil.which("configurable-http-proxy"):
        if os.environ.get("CI"):
            pytest.fail("CI installs configurable-http-proxy")
        pytest.skip("configurable-http-proxy is not installed")
    import httpx

    held = []
    for port in (8081, 8001, 10101):  # JupyterHub's and the share service's defaults, taken
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
            held.append(s)
        except OSError:
            s.close()  # already taken by something else: as good
    demos = []
    try:
        for name in ("one", "two"):
            port = free_port()
            log = (tmp_path / f"{name}.log").open("w")
            process = subprocess.Popen(
                [sys.executable, "-m", "jupyter_share.cli", "hub-demo", "--port", str(port),
                 "--directory", str(tmp_path / name)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=tmp_path,
            )  # fmt: skip
            demos.append((process, port, tmp_path / f"{name}.log"))
        for process, port, log in demos:
            deadline = time.monotonic() + 150
            answer = None
            while time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/hub/api", timeout=5)
                    if answer.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
            assert answer is not None and answer.status_code == 200, log.read_text()
            assert "version" in answer.json()
    finally:
        for process, _, _ in demos:
            process.send_signal(signal.SIGINT)
        for process, _, _ in demos:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for s in held:
            s.close()
