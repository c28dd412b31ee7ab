"""Whether the server of a container (a standalone session resource) is still running.

A session resource outlives its server: the store keeps it, with its grants, so that a
restarted server (same owner and `ShareApp.session_name`) finds it again. Lists show whether
its server answers now, cheaply and without asking the server anything: the session's spec
names its host and URL, and on the machine that lists, a TCP connection to that address is
refused at once when nothing listens there any more.

- `running`: something accepts connections at the server's address (its server, or a server
  that took the same port since; the name then says whose);
- `stopped`: the address refuses connections, or names no port;
A server records its own stop in its session's spec (`state`, `stopped_at`); a server that
was killed is found gone by the others on its machine (`ShareService.sweep_stopped`, every
`ShareApp.liveness_interval` seconds), which record it.

- `unknown`: the server is on another machine, or listens on a UNIX socket, or did not
  answer within `TIMEOUT` (a filtered port): nothing is claimed.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

RUNNING, STOPPED, UNKNOWN = "running", "stopped", "unknown"
#: Seconds a connection may take; a local refusal takes microseconds.
TIMEOUT = 0.3


def container_state(
    spec: Mapping[str, Any], hostname: str | None = None, timeout: float = TIMEOUT
) -> str:
    """`running`, `stopped` or `unknown` for a standalone session's spec: `stopped` when its
    server recorded so (a clean stop, or a sweep that found it gone), else as probed."""
    if spec.get("state") == STOPPED:
        return STOPPED
    url = str(spec.get("url") or "")
    if spec.get("hostname") != (hostname or socket.gethostname()) or not url:
        return UNKNOWN
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return UNKNOWN
    if parts.scheme not in ("http", "https") or not port:
        return UNKNOWN
    host = parts.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return RUNNING
    except ConnectionRefusedError:
        return STOPPED
    except OSError:  # a timeout, an unknown name, an unreachable network
        return UNKNOWN
