"""A real JupyterHub for the tests: the demo's configuration (`jupyter_share.hub.demo.demo_config`)
on free ports in a temporary directory, with configurable-http-proxy, the share service as a
managed service and JupyterLab user servers (SimpleLocalProcessSpawner), plus a client for it.

Use the `hub` fixture (one Hub per test module; SQLite store by default)::

    from tests.hubs import hub  # noqa: F401  (a fixture)

    def test_something(hub):
        alice = hub.login("alice")                 # an httpx.Client signed in to the Hub
        hub.start_server("alice")
        hub.open_server(alice, "alice")            # the OAuth dance: alice's cookie now opens it
        assert alice.get(hub.server_url("alice") + "api/status").status_code == 200
        token = hub.token("bob")
        assert hub.token_client(token).get(hub.server_url("alice") + "api/status").status_code == 403

For the store on PostgreSQL, parametrize it indirectly::

    @pytest.mark.parametrize("hub", ["postgresql"], indirect=True)

or run one yourself: `with running_hub(tmp_path, db_url=...) as hub: ...`.

At teardown the Hub is stopped as Ctrl-C stops it (SIGINT), and every process it started (the
proxy, the service, the user servers and their kernels) must be gone: `Hub.stop()` returns the
pids it had to kill, and the fixture fails the test module if there were any.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import httpx
import pytest

from jupyter_share.hub.demo import (
    DEMO_GROUPS,
    alive,
    demo_config,
    descendants,
    hub_command,
    proxy_pid,
    stop_hub,
)

from .servers import free_port, refusing_port

#: The users and groups of the test Hub (the demo's).
USERS = ("alice", "bob", "carol")
GROUPS = dict(DEMO_GROUPS)
#: The name of the share service in the test Hub.
SERVICE = "share"

#: Scopes of the harness's own service token: it manages users, servers, tokens and groups.
ADMIN_SCOPES = [
    "admin:users",
    "admin:servers",
    "admin:groups",
    "tokens",
    "access:servers",
    "access:services",
    "list:services",
    "read:services",
    "read:hub",
    "shares",
]


class HubError(RuntimeError):
    """The Hub or a user server did not do what the harness asked; carries the Hub's log."""


@dataclass
class Hub:
    """A running JupyterHub and a client for it.

    url: the public URL (through configurable-http-proxy), ending in "/".
    admin_token: the token of the harness's own service (ADMIN_SCOPES).
    service_url: where the share service listens (JupyterHub's `url` of the service).
    db_url: the share service's store.
    """

    directory: Path
    url: str
    port: int
    hub_port: int
    proxy_api_port: int
    service_url: str
    db_url: str
    password: str
    admin_token: str
    process: subprocess.Popen
    log_path: Path
    users: tuple = USERS
    groups: dict = field(default_factory=lambda: dict(GROUPS))
    _clients: list = field(default_factory=list, repr=False)
    _family: set = field(default_factory=set, repr=False)

    # -- plain requests ------------------------------------------------------------------------

    def client(self, **kw) -> httpx.Client:
        """A new httpx.Client on the public URL (closed at teardown)."""
        kw.setdefault("base_url", self.url)
        kw.setdefault("timeout", 60)
        client = httpx.Client(**kw)
        self._clients.append(client)
        return client

    def token_client(self, token: str) -> httpx.Client:
        """A client that sends `Authorization: token TOKEN` with every request."""
        return self.client(headers={"Authorization": f"token {token}"})

    def api(self, method: str, path: str, token: str | None = None, **kw) -> httpx.Response:
        """A request to the Hub's REST API (`/hub/api/` + path), with the admin token unless
        another is given."""
        headers = dict(kw.pop("headers", None) or {})
        headers.setdefault("Authorization", f"token {token or self.admin_token}")
        with httpx.Client(base_url=self.url, timeout=60) as client:
            return client.request(method, "hub/api/" + path.lstrip("/"), headers=headers, **kw)

    def log(self) -> str:
        """The Hub's output so far: the Hub, the proxy, the service and the user servers."""
        return self.log_path.read_text(errors="replace")

    def _fail(self, message: str) -> HubError:
        return HubError(
            f"{message}\n--- hub log (last 12000 characters) ---\n{self.log()[-12000:]}"
        )

    # -- users ---------------------------------------------------------------------------------

    def login(self, username: str, password: str | None = None) -> httpx.Client:
        """A client signed in to the Hub as `username` (its cookies), through the login form
        and its `_xsrf` field, as a browser does. Raise HubError if the Hub refuses."""
        client = self.client(follow_redirects=False)
        page = client.get("hub/login")
        if page.status_code != 200:
            raise self._fail(f"GET /hub/login answered {page.status_code}")
        found = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        xsrf = found.group(1) if found else client.cookies.get("_xsrf", "")
        response = client.post(
            "hub/login",
            data={
                "username": username,
                "password": self.password if password is None else password,
                "_xsrf": xsrf,
            },
        )
        if response.status_code != 302 or not any(
            name.startswith("jupyterhub-session") for name in client.cookies
        ):
            raise HubError(
                f"login as {username} failed: {response.status_code} {response.text[:500]}"
            )
        client.follow_redirects = True
        return client

    def xsrf_headers(self, client: httpx.Client) -> dict:
        """The header a cookie-authenticated API request needs (JupyterHub >= 4 checks it)."""
        return {
            "X-XSRFToken": client.cookies.get("_xsrf", path="/hub/")
            or client.cookies.get("_xsrf", "")
        }

    def token(
        self,
        username: str,
        scopes: Sequence[str] | None = None,
        *,
        client: httpx.Client | None = None,
        expires_in: int | None = None,
        note: str = "jupyter_share tests",
    ) -> str:
        """A new API token of `username`: made with the admin token, or with the user's own
        login when `client` is the client `login` returned. Without scopes the token has every
        permission of the user (the Hub's default)."""
        body: dict = {"note": note}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if expires_in is not None:
            body["expires_in"] = expires_in
        path = f"hub/api/users/{quote(username)}/tokens"
        if client is not None:
            response = client.post(path, json=body, headers=self.xsrf_headers(client))
        else:
            response = self.api("POST", path.removeprefix("hub/api/"), json=body)
        if response.status_code != 201:
            raise HubError(f"token of {username}: {response.status_code} {response.text[:500]}")
        return response.json()["token"]

    def user_model(self, username: str) -> dict:
        response = self.api("GET", f"users/{quote(username)}")
        response.raise_for_status()
        return response.json()

    # -- servers -------------------------------------------------------------------------------

    def server_url(self, username: str, server_name: str = "") -> str:
        """The public URL of a user's server, ending in "/"."""
        path = f"user/{quote(username)}/" + (f"{quote(server_name)}/" if server_name else "")
        return self.url + path

    def _server_api_path(self, username: str, server_name: str) -> str:
        return (
            f"users/{quote(username)}/servers/{quote(server_name)}"
            if server_name
            else f"users/{quote(username)}/server"
        )

    def start_server(
        self,
        username: str,
        server_name: str = "",
        options: Mapping | None = None,
        timeout: float = 180,
    ) -> dict:
        """Start a user's (named) server with these user options and wait until it is ready;
        return its server model. Raise HubError (with the Hub's log) if it fails."""
        response = self.api(
            "POST", self._server_api_path(username, server_name), json=dict(options or {})
        )
        if response.status_code not in (201, 202):
            raise self._fail(
                f"starting {username}/{server_name}: {response.status_code} {response.text[:1000]}"
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.user_model(username).get("servers", {}).get(server_name)
            if server is None:
                raise self._fail(f"the server {username}/{server_name} failed to start")
            if server.get("ready"):
                return server
            time.sleep(0.25)
        raise self._fail(f"the server {username}/{server_name} was not ready after {timeout}s")

    def stop_server(self, username: str, server_name: str = "", timeout: float = 60) -> None:
        """Stop a user's (named) server and wait until the Hub says it has stopped."""
        response = self.api("DELETE", self._server_api_path(username, server_name))
        if response.status_code not in (202, 204):
            raise self._fail(
                f"stopping {username}/{server_name}: {response.status_code} {response.text[:1000]}"
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server_name not in self.user_model(username).get("servers", {}):
                return
            time.sleep(0.25)
        raise self._fail(f"the server {username}/{server_name} did not stop in {timeout}s")

    def open_server(
        self, client: httpx.Client, owner: str, server_name: str = "", path: str = "lab"
    ) -> httpx.Response:
        """Open a user's server with a logged-in client, as a browser does: GET its `path`,
        following the OAuth redirects through the Hub, which leave the server's cookie in the
        client when the Hub lets the client's user in. Returns the last response (200 when
        let in, 403 when the Hub refuses)."""
        return client.get(self.server_url(owner, server_name) + path, follow_redirects=True)

    # -- the share service ------------------------------------------------------------------------

    @property
    def service_api(self) -> str:
        """The share service's REST API v1 through the proxy, ending in "/"."""
        return f"{self.url}services/{SERVICE}/api/v1/"

    def wait_service(self, timeout: float = 120) -> httpx.Response:
        """Wait until the share service answers through the proxy (any answer but the
        proxy's 502/503 of a service that does not listen)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = httpx.get(self.service_api + "me", timeout=10)
                if last.status_code not in (502, 503):
                    return last
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise self._fail(
            f"the share service did not answer in {timeout}s (last: {last and last.status_code})"
        )

    # -- processes -----------------------------------------------------------------------------

    def processes(self) -> list[int]:
        """The pids of every process below the Hub now (proxy, service, servers, kernels)."""
        pids = descendants(self.process.pid)
        self._family.update(pids)
        return pids

    def stop(self) -> list[int]:
        """Stop the Hub as Ctrl-C does; return the pids that were still alive afterwards
        and had to be killed (empty when everything stopped by itself)."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self.process.poll() is None:
            self.processes()
        proxy = proxy_pid(self.directory)  # found even when a Hub that died left its proxy behind
        killed = stop_hub(self.process, also=[proxy] if proxy else [])
        # Processes seen earlier that were re-parented away from the Hub count too.
        late = [pid for pid in self._family if pid not in killed and alive(pid)]
        for pid in late:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        return sorted(set(killed) | set(late))


def wait_ready(hub: Hub, timeout: float = 180) -> Hub:
    """Wait until the Hub answers its API through the proxy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise hub._fail(f"JupyterHub exited with {hub.process.returncode}")
        hub.processes()  # to stop them even if the Hub dies without stopping them
        try:
            if httpx.get(hub.url + "hub/api/", timeout=5).status_code == 200:
                hub.processes()
                return hub
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise hub._fail(f"JupyterHub did not answer in {timeout}s")


#: The name of a server whose share service is unreachable (see start_hub).
NO_SERVICE = "no-service"


def start_hub(
    directory,
    *,
    db_url: str | None = None,
    users: Sequence[str] = USERS,
    groups: Mapping[str, Sequence[str]] | None = None,
    password: str | None = None,
    extra: str = "",
    admin_users: Sequence[str] = (),
    timeout: float = 180,
) -> Hub:
    """Write the demo config on free ports into `directory`, start JupyterHub and wait until
    it answers. `db_url` is the share service's store (default: SQLite in `directory`);
    `extra` is more Python for jupyterhub_config.py."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    password = password or secrets.token_urlsafe(12)
    admin_token = secrets.token_hex(32)
    port, hub_port, proxy_api_port, service_port = (free_port() for _ in range(4))
    db_url = db_url or f"sqlite:///{directory.resolve() / 'share.sqlite'}"
    harness = f"""\
# The test harness's own service: a token that manages users, servers, tokens and groups.
c.JupyterHub.services.append({{"name": "test-harness", "api_token": {admin_token!r}}})
c.JupyterHub.load_roles.append({{"name": "test-harness", "scopes": {ADMIN_SCOPES!r}, "services": ["test-harness"]}})

# A server named {NO_SERVICE!r} finds nothing where the share service should be.
def _no_share_service(spawner):
    if spawner.name == {NO_SERVICE!r}:
        spawner.environment = {{**spawner.environment, "JUPYTER_SHARE_SERVICE_URL": "http://127.0.0.1:{refusing_port()}/services/share/api/v1/"}}
c.Spawner.pre_spawn_hook = _no_share_service
"""
    config = demo_config(
        directory,
        port,
        users,
        GROUPS if groups is None else groups,
        password,
        harness + extra,
        hub_port=hub_port,
        proxy_api_port=proxy_api_port,
        service_port=service_port,
        db_url=db_url,
        admin_users=admin_users,
    )
    log_path = directory / "jupyterhub.log"
    env = dict(os.environ)
    for name in list(env):  # nothing of the test process's own Jupyter or Hub
        if name.startswith(("JUPYTERHUB_", "JPY_", "JUPYTER_SHARE_")):
            del env[name]
    env["PYTHONUNBUFFERED"] = "1"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            hub_command(config),
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    hub = Hub(
        directory=directory,
        url=f"http://127.0.0.1:{port}/",
        port=port,
        hub_port=hub_port,
        proxy_api_port=proxy_api_port,
        service_url=f"http://127.0.0.1:{service_port}",
        db_url=db_url,
        password=password,
        admin_token=admin_token,
        process=process,
        log_path=log_path,
        users=tuple(users),
        groups=dict(GROUPS if groups is None else groups),
    )
    try:
        return wait_ready(hub, timeout)
    except BaseException:
        hub.stop()
        raise


@contextmanager
def running_hub(directory, **kw) -> Iterator[Hub]:
    """`start_hub(directory, **kw)`, stopped at exit; raises HubError at exit if processes
    of the Hub had to be killed."""
    hub = start_hub(directory, **kw)
    try:
        yield hub
    finally:
        killed = hub.stop()
    if killed:
        raise HubError(f"JupyterHub left processes behind: {killed}\n{hub.log()[-5000:]}")


def require_proxy() -> None:
    """configurable-http-proxy (npm) must be there in CI; elsewhere the Hub's tests are
    skipped without it, as the PostgreSQL tests are without PostgreSQL."""
    if shutil.which("configurable-http-proxy"):
        return
    if os.environ.get("CI"):
        pytest.fail(
            "configurable-http-proxy must be installed in CI (.ci/run installs it with npm)"
        )
    pytest.skip("configurable-http-proxy is not installed: npm install -g configurable-http-proxy")


@pytest.fixture(scope="module")
def hub(request, tmp_path_factory) -> Iterator[Hub]:
    """A running JupyterHub for the tests of one module (users alice, bob, carol; group
    class-2026 of bob and carol). Its share store is SQLite, or PostgreSQL with
    `@pytest.mark.parametrize("hub", ["postgresql"], indirect=True)`."""
    require_proxy()
    backend = getattr(request, "param", "sqlite")
    directory = tmp_path_factory.mktemp("hub")
    if backend == "sqlite":
        db_url = None
    elif backend == "postgresql":
        from . import postgres

        server = request.getfixturevalue("postgres_server")
        db_url = postgres.fresh_database(server, f"share_hub_{os.getpid()}_{secrets.token_hex(4)}")
    else:
        raise ValueError(f"hub backend {backend!r}: use 'sqlite' or 'postgresql'")
    with running_hub(directory, db_url=db_url) as running:
        yield running
