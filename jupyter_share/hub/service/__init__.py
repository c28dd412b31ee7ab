"""The share service process (`jupyter-share-service`, `python -m jupyter_share.hub.service`),
managed by JupyterHub: it owns the store and serves REST API v1 over the same rules as the
server extension, with the Hub's directory and containers ports:

- `app`: `ShareServiceApp`, its configuration and wiring;
- `handlers`: the REST API for Hub users with a token;
- `restarts`: re-keying a server by restarting it through the Hub;
- `containers`, `directory`, `hubapi`: the ports, over the Hub's REST API.
"""

from __future__ import annotations

from .app import ShareServiceApp, main
from .restarts import RESTART_DELAY, RESTART_SCOPES, ServerRestarts

__all__ = ["RESTART_DELAY", "RESTART_SCOPES", "ServerRestarts", "ShareServiceApp", "main"]
