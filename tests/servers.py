"""Real `jupyter server` processes for the tests: one per user, all on one store, as
neighbours on a shared workstation are."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import httpx

API = "/jupyter-share/api/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The sockets behind `refusing_port`, held for the life of this test process.
_refusing: list[socket.socket] = []


def refusing_port() -> int:
    """A port of 127.0.0.1 where nothing answers, for the rest of this test process: bound,
    never listening, so connections are refused and no other process can take it. (A port
    merely free now may be another worker's server a moment later.)"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    _refusing.append(s)
    return s.getsockname()[1]


@dataclass
class Server:
    """One running jupyter server of one user, with an API client that uses its token."""

    username: str
    port: int
    token: str
    root: Path
    process: subprocess.Popen
    log_path: Path
    runtime_dir: Path | None = None
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self._connect()

    def _connect(self) -> None:
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}{API}",
            headers={"Authorization": f"token {self.token}"},
            timeout=30,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def get(self, path: str, **kw) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, body=None, **kw) -> httpx.Response:
        return self.client.post(path, json=body, **kw)

    def put(self, path: str, body=None, **kw) -> httpx.Response:
        return self.client.put(path, json=body, **kw)

    def patch(self, path: str, body=None, **kw) -> httpx.Response:
        return self.client.patch(path, json=body, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:
        return self.client.delete(path, **kw)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def follow_port(self) -> None:
        """The port the server really listens on, from its runtime file: another process may
        take the free port it was given before it binds, and then it tries the next one."""
        if self.runtime_dir is None:
            return
        info = self.runtime_dir / f"jpserver-{self.process.pid}.json"
        try:
            port = int(json.loads(info.read_text())["port"])
        except (OSError, ValueError, KeyError):
            return
        if port != self.port:
            self.client.close()
            self.port = port
            self._connect()

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


#: Server arguments that have every list answer computed, none reused (ShareApp.reuse_answers).
COMPUTED = ["--ShareApp.reuse_answers=False"]


def start_server(
    username: str,
    db_url: str,
    workdir: Path,
    *,
    groups: dict | None = None,
    users: list | None = None,
    extra_args: list | None = None,
    share_enabled: bool = True,
    extensions: dict | None = None,
    env: dict | None = None,
    root: Path | None = None,
) -> Server:
    """Start a server; call `wait_ready` on it (several may start at once)."""
    root = root or workdir / username
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token = f"token-of-{username}-{os.urandom(8).hex()}"
    log_path = workdir / f"{username}-{port}.log"
    config_path = root / "share_config.json"
    config_path.write_text(json.dumps({"ShareApp": {"groups": groups or {}, "users": users or []}}))
    # Each server gets its own runtime and data dirs so neighbours share only the store
    # (unless the caller's `env` says otherwise).
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "JUPYTER_DATA_DIR": str(root / ".data"),
        **(env or {}),
    }
    env.pop("JUPYTERHUB_API_TOKEN", None)
    args = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        f"--ServerApp.port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.jpserver_extensions={ {'jupyter_share': share_enabled, **(extensions or {})}!r}",
        f"--ShareApp.username={username}",
        f"--ShareApp.db_url={db_url}",
        f"--config={config_path}",
    ] + list(extra_args or [])
    process = subprocess.Popen(
        args,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=root,
        preexec_fn=default_hangup,
    )
    return Server(username, port, token, root, process, log_path, Path(env["JUPYTER_RUNTIME_DIR"]))


def default_hangup() -> None:
    """Give the server the hang-up signal's default action, as in a login session: under
    `nohup` its terminals' shells would inherit "ignore hang-up", survive terminado's polite
    stop and keep their terminals listed after a guest's are stopped."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def wait_ready(server: Server, timeout: float = 180) -> Server:
    """Wait for a started server to answer. The timeout is generous: the suite's four
    workers may start a dozen servers at once on two cores (pyproject's addopts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server of {server.username} exited:\n{server.log()}")
        try:
            if server.get("/me").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        # Not answering, or someone else answering on its port.
        server.follow_port()
        time.sleep(0.1)
    raise RuntimeError(f"server of {server.username} did not start:\n{server.log()}")


def start_servers(usernames, db_url: str, workdir: Path, **kw) -> dict[str, Server]:
    servers = {name: start_server(name, db_url, workdir, **kw) for name in usernames}
    try:
        for server in servers.values():
            wait_ready(server)
    except Exception:
        for server in servers.values():
            server.stop()
        raise
    return servers


@contextmanager
def running_servers(usernames, db_url: str, workdir: Path, **kw) -> Iterator[dict[str, Server]]:
    """`start_servers`, all stopped at exit."""
    servers = start_servers(usernames, db_url, workdir, **kw)
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()
