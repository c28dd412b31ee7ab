"""`jupyter share hub-demo`: a real JupyterHub with jupyter_share on this machine, in one command.

It writes a `jupyterhub_config.py` (see `demo_config`, which the tests reuse) into a
directory and runs `jupyterhub -f` on it in the foreground: users alice, bob and carol sign in
with one shared password, bob and carol form the group `class-2026`, every user server is a
local JupyterLab process (SimpleLocalProcessSpawner: no isolation between users, for trying
things out only), and the share service runs as a managed service. Ctrl-C stops the Hub,
which stops the proxy, the service and the user servers.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..launcher import free_port

#: The demo's users and groups.
DEMO_USERS = ("alice", "bob", "carol")
DEMO_GROUPS = {"class-2026": ["bob", "carol"]}

#: The Hub's other ports, as JupyterHub's defaults (the demo's public port is an option).
HUB_PORT = 8081
PROXY_API_PORT = 8001
SERVICE_PORT = 10101

NPM_INSTALL = "npm install -g configurable-http-proxy"
#: The extra that brings JupyterHub (pyproject.toml), from PyPI and from a checkout.
PIP_INSTALL = 'pip install "jupyter_share[hub]"'
PIP_INSTALL_CHECKOUT = 'pip install ".[hub]"'
#: The oldest JupyterHub with the sharing API the hub mode uses.
MIN_JUPYTERHUB = (5, 5, 1)


class DemoError(Exception):
    """The demo cannot start (a missing program, a busy port, ...)."""


def find_proxy() -> str:
    """The path of configurable-http-proxy, which JupyterHub runs as its proxy."""
    found = shutil.which("configurable-http-proxy")
    if not found:
        raise DemoError(
            "configurable-http-proxy is not installed; JupyterHub needs it as its proxy. "
            f"Install it with Node.js's npm: `{NPM_INSTALL}`"
        )
    return found


def check_requirements() -> str:
    """What the demo runs, checked before it says anything: JupyterHub (the `hub` extra) in
    this Python and configurable-http-proxy on PATH. Returns the proxy's path."""
    import importlib.util
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = importlib.util.find_spec("jupyterhub") is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        raise DemoError(
            f"JupyterHub is not installed in this Python ({sys.executable}); install the hub extra: "
            f"`{PIP_INSTALL}` (from a checkout: `{PIP_INSTALL_CHECKOUT}`)"
        )
    try:
        found = version("jupyterhub")
        numbers = tuple(int(part) for part in found.split(".")[:3] if part.isdigit())
    except (PackageNotFoundError, ValueError):
        found, numbers = "unknown", MIN_JUPYTERHUB
    if numbers < MIN_JUPYTERHUB:
        raise DemoError(
            f"JupyterHub {found} is too old (its sharing API needs {'.'.join(map(str, MIN_JUPYTERHUB))} or newer): "
            f"`{PIP_INSTALL}` (from a checkout: `{PIP_INSTALL_CHECKOUT}`)"
        )
    return find_proxy()


def demo_config(
    directory,
    port: int = 8000,
    users: Sequence[str] = DEMO_USERS,
    groups: Mapping[str, Sequence[str]] | None = None,
    password: str = "",
    extra: str = "",
    *,
    ip: str = "127.0.0.1",
    hub_port: int = HUB_PORT,
    proxy_api_port: int = PROXY_API_PORT,
    service_port: int = SERVICE_PORT,
    db_url: str | None = None,
    admin_users: Sequence[str] = (),
) -> Path:
    """Write `jupyterhub_config.py` for a demo Hub into `directory`; return its path.

    Everything the Hub keeps (its database, cookie secret, the users' home directories, the
    share store unless `db_url` says otherwise) stays in `directory`. `extra` is Python
    appended at the end of the file (the tests add an admin service token there).
    """
    if len(password) < 8:
        raise DemoError("the demo's password must have at least 8 characters")
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "home").mkdir(exist_ok=True)
    proxy = find_proxy()
    groups = DEMO_GROUPS if groups is None else groups
    share_db = db_url or f"sqlite:///{directory / 'share.sqlite'}"
    service_url = f"http://127.0.0.1:{service_port}"
    load_groups = {name: {"users": list(members)} for name, members in groups.items()}
    hub_db = f"sqlite:///{directory / 'jupyterhub.sqlite'}"
    home_template = str(directory / "home" / "{username}")
    files = {
        name: str(directory / name)
        for name in ("jupyterhub-proxy.pid", "jupyterhub_cookie_secret", "jupyterhub.pid")
    }
    text = f"""\
# jupyterhub_config.py of a jupyter_share demo Hub (written by jupyter_share.hub.demo.demo_config).
# For trying things out on one machine only: every user server runs as the user that runs
# the Hub, with no isolation between users.
import os
import sys

from jupyter_share.hub import apply_user_options, configure_jupyterhub, options_form

# Where the Hub listens and keeps its state.
c.JupyterHub.ip = {ip!r}
c.JupyterHub.port = {int(port)!r}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {int(hub_port)!r}
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{int(proxy_api_port)}"
c.ConfigurableHTTPProxy.pid_file = {files["jupyterhub-proxy.pid"]!r}
c.JupyterHub.db_url = {hub_db!r}
c.JupyterHub.cookie_secret_file = {files["jupyterhub_cookie_secret"]!r}
c.JupyterHub.pid_file = {files["jupyterhub.pid"]!r}

# Users: one shared password (SharedPasswordAuthenticator: DummyAuthenticator's password is
# deprecated since JupyterHub 5.3).
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {password!r}
c.Authenticator.allowed_users = {set(users)!r}
c.Authenticator.admin_users = {set(admin_users)!r}
c.JupyterHub.load_groups = {load_groups!r}

# User servers: JupyterLab in a local process, one home directory per user under this directory.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {home_template!r}
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
if os.geteuid() == 0:
    # SimpleLocalProcessSpawner runs servers as the Hub's user; Jupyter refuses root without this.
    c.Spawner.args = ["--allow-root"]
c.JupyterHub.allow_named_servers = True

# jupyter_share: the service, its role, the users' access, and the launch options.
configure_jupyterhub(c, url={service_url!r}, db_url={share_db!r})
c.Spawner.options_form = options_form
c.Spawner.apply_user_options = apply_user_options
"""
    if extra:
        text += "\n# Extra configuration.\n" + extra.rstrip() + "\n"
    path = directory / "jupyterhub_config.py"
    path.write_text(text)
    path.chmod(0o600)  # it holds the password
    return path


def hub_command(config_path) -> list[str]:
    """The command that runs JupyterHub on a config file, with this Python."""
    return [sys.executable, "-m", "jupyterhub", "-f", str(config_path)]


def descendants(pid: int) -> list[int]:
    """The pids of every process below `pid` (from /proc; empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name (field 2) is in parentheses and may contain spaces
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")  # a zombie has exited
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def proxy_pid(directory) -> int | None:
    """The pid of the demo Hub's proxy, from its pid file in `directory`, while that process
    is a configurable-http-proxy (a Hub that dies, e.g. when its service exits, leaves it)."""
    try:
        pid = int((Path(directory) / "jupyterhub-proxy.pid").read_text().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return pid if b"configurable-http-proxy" in f.read() and alive(pid) else None
    except (OSError, ValueError):
        return None


def stop_hub(process: subprocess.Popen, timeout: float = 60, also: Sequence[int] = ()) -> list[int]:
    """Stop JupyterHub as Ctrl-C does (SIGINT: it stops the user servers, the service and the
    proxy), then make sure that nothing it started (nor the pids in `also`) is left. Returns
    the pids that had to be killed (empty when the Hub cleaned up after itself)."""
    family = descendants(process.pid) + [pid for pid in also if pid != process.pid]
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    # The Hub waits for its children; give stragglers (reparented to init) a moment.
    deadline = time.monotonic() + 10
    left = [pid for pid in family if alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [pid for pid in left if alive(pid)]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def inner_ports() -> tuple[int, int, int]:
    """Ports for the Hub, the proxy's API and the share service, picked by the system: they
    are the demo's own business, and another Hub or demo on this machine (another user's,
    too) may hold JupyterHub's defaults."""
    ports: list[int] = []
    while len(ports) < 3:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports[0], ports[1], ports[2]


def run_demo(
    port: int = 8000,
    password: str | None = None,
    directory: str | None = None,
    ip: str = "127.0.0.1",
    out=None,
) -> int:
    """Write the config, run JupyterHub in the foreground until Ctrl-C; return its exit code."""
    out = out or sys.stdout
    check_requirements()  # before the banner: a missing piece is said first, and alone
    password = password or secrets.token_urlsafe(9)
    temporary = directory is None
    workdir = Path(
        tempfile.mkdtemp(prefix="jupyter-share-hub-demo-") if directory is None else directory
    ).resolve()
    try:
        hub_port, proxy_api_port, service_port = inner_ports()
        config = demo_config(
            workdir,
            port,
            DEMO_USERS,
            DEMO_GROUPS,
            password,
            ip=ip,
            hub_port=hub_port,
            proxy_api_port=proxy_api_port,
            service_port=service_port,
        )
        host = "127.0.0.1" if ip in ("", "0.0.0.0", "127.0.0.1") else ip
        print(
            f"""\
jupyter_share hub demo
  JupyterHub:  http://{host}:{port}/
  users:       {", ".join(DEMO_USERS)} (group class-2026: {", ".join(DEMO_GROUPS["class-2026"])})
  password:    {password}
  directory:   {workdir}{" (removed at exit)" if temporary else ""}
  config:      {config}
Sign in as alice in one browser and as bob in another (or a private window).
Press Ctrl-C to stop the Hub, its proxy, the share service and every user server.
""",
            file=out,
            flush=True,
        )
        # Its own session: Ctrl-C reaches this process only, which then stops the Hub once,
        # the way the Hub expects, instead of the terminal signalling the proxy too.
        # No terminal on stdin: a Jupyter server that has one asks "Shutdown this Jupyter
        # server (y/[n])?" on SIGINT instead of stopping when the Hub stops it.
        # Ctrl-C and `kill` stop it alike, even when started in the background of a script
        # (which starts it with SIGINT ignored).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        process = subprocess.Popen(
            hub_command(config), cwd=workdir, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            while process.poll() is None:
                try:
                    process.wait()
                except KeyboardInterrupt:
                    print("\nStopping JupyterHub ...", file=out, flush=True)
                    break
        finally:
            proxy = proxy_pid(workdir)
            killed = stop_hub(process, also=[proxy] if proxy else [])
            if killed:
                print(f"killed processes the Hub left behind: {killed}", file=out, flush=True)
        print("JupyterHub stopped.", file=out, flush=True)
        code = process.returncode
        return 0 if code in (0, -signal.SIGINT, 130) else (code if code > 0 else 128 - code)
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)


def command(
    port: int, password: str | None, directory: str | None, fail: Callable[[str], int]
) -> int:
    """`jupyter share hub-demo`: the demo until Ctrl-C; what stops it before it starts is
    said by `fail`, as the command line says its refusals."""
    try:
        return run_demo(port=port, password=password, directory=directory)
    except DemoError as e:
        return fail(str(e))
