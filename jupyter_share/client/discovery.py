"""Finding the server: from the environment a kernel or script runs in, or a server's runtime
file on this machine (the order is in `jupyter_share.client`'s docstring)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from .errors import NoServerFound

API_PATH = "jupyter-share/api/v1/"

_ANY_HOST = {"", "*", "0.0.0.0", "::", "[::]"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _connectable(url: str) -> str:
    """`url` with a wildcard bind address replaced by loopback, and ending in a slash."""
    parts = urlsplit(url)
    host = parts.hostname if parts.hostname is not None else ""
    netloc = parts.netloc
    if host in _ANY_HOST:
        loopback = "[::1]" if host in ("::", "[::]") else "127.0.0.1"
        netloc = loopback + (f":{parts.port}" if parts.port else "")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


#: How every API base ends: `{base_url}jupyter-share/api/v1/` on a Jupyter server, and
#: `/services/NAME/api/v1/` on the JupyterHub service.
_API_SUFFIX = "/api/v1/"


def _api_url(server_url: str) -> str:
    """The API base for a server URL; a URL that already points at an API (a server's or the
    hub service's) is kept."""
    url = _connectable(server_url)
    return url if url.endswith(_API_SUFFIX) else url + API_PATH


def _running_servers(runtime_dir: str | None = None) -> list[dict]:
    # jupyter_server is heavy to import; only this way of finding the server needs it.
    from jupyter_server.serverapp import list_running_servers

    return list(list_running_servers(runtime_dir))


def _server_url(info: dict) -> str:
    if info.get("sock"):
        return f"http://localhost{info.get('base_url') or '/'}"
    return info["url"]


def _runtime_dir() -> str:
    from jupyter_core.paths import jupyter_runtime_dir

    return jupyter_runtime_dir()


class FoundServer:
    """Where a server was found: its URL, token, unix socket (if any), and how it was found."""

    def __init__(self, url: str, token: str | None, found_by: str, sock: str | None = None):
        self.url = url
        self.token = token
        self.found_by = found_by
        self.sock = sock


def find_server(environ: dict | None = None) -> FoundServer:
    """The server this code runs under, found as the module docstring says; `NoServerFound`
    says what was tried when nothing fits."""
    env = os.environ if environ is None else environ
    tried = []

    url = env.get("JUPYTER_SHARE_URL")
    if url:
        return FoundServer(url, env.get("JUPYTER_SHARE_TOKEN") or None, "JUPYTER_SHARE_URL")
    tried.append("JUPYTER_SHARE_URL is not set")

    hub_url, hub_token = env.get("JUPYTERHUB_SERVICE_URL"), env.get("JUPYTERHUB_API_TOKEN")
    if hub_url and hub_token:
        return FoundServer(hub_url, hub_token, "JUPYTERHUB_SERVICE_URL")
    if hub_url or hub_token:
        missing = "JUPYTERHUB_API_TOKEN" if hub_url else "JUPYTERHUB_SERVICE_URL"
        tried.append(f"JupyterHub: {missing} is not set")
    else:
        tried.append("JUPYTERHUB_SERVICE_URL and JUPYTERHUB_API_TOKEN are not set")

    parent = env.get("JPY_PARENT_PID")
    if parent:
        runtime_dir = _runtime_dir()
        try:
            pid = int(parent)
        except ValueError:
            tried.append(f"JPY_PARENT_PID={parent!r} is not a process id")
        else:
            for info in _running_servers(runtime_dir):
                if info.get("pid") == pid:
                    return FoundServer(
                        _server_url(info),
                        info.get("token") or None,
                        f"the runtime file of server pid {pid}",
                        sock=info.get("sock") or None,
                    )
            tried.append(
                f"no running server with pid {pid} (JPY_PARENT_PID) has a runtime file in {runtime_dir}"
            )
    else:
        tried.append(
            "JPY_PARENT_PID is not set (this code does not run in a kernel that a Jupyter server started)"
        )

    raise NoServerFound(
        "cannot find the Jupyter server to talk to: "
        + "; ".join(tried)
        + ". Pass ShareClient(url=..., token=...) or set JUPYTER_SHARE_URL and JUPYTER_SHARE_TOKEN."
    )


def _token_for(url: str) -> str | None:
    """The token of a running server on this machine at `url`, from its runtime file."""
    wanted = _api_url(url)
    try:
        servers = _running_servers()
    except Exception:  # no runtime dir, unreadable files: no token, and the server says 401
        return None
    for info in servers:
        if info.get("url") and _api_url(info["url"]) == wanted:
            return info.get("token") or None
    return None
