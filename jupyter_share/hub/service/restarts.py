"""Restarting a user's server through the Hub, so that its API token ends (a revoke with
`rekey=true`): run by the share service."""

from __future__ import annotations

import logging
import time

from jupyterhub.services.auth import HubAuth
from tornado.ioloop import IOLoop

from .containers import HubContainers

#: Seconds between the answer to a revoke with `rekey=true` and stopping the server: the answer
#: travels back through that very server (its owner's request was carried by it).
RESTART_DELAY = 1.0

#: What the service's own token needs to restart a user's server: `servers` (JupyterHub 5), or
#: its two parts that JupyterHub 6 expands it to.
RESTART_SCOPES = ({"servers"}, {"start:servers", "delete:servers"})


class ServerRestarts:
    """Restarts of users' servers that a revoke with `rekey=true` asked for (item 15 of issue
    11): the Hub deletes a server's API token when it stops and makes a new one when it starts,
    so whatever an edit guest copied from the server (its `JUPYTERHUB_API_TOKEN`, which acts as
    the owner at the Hub and here) stops working. One restart at a time per server."""

    def __init__(
        self,
        containers: HubContainers,
        hub_auth: HubAuth,
        log: logging.Logger,
        delay: float = RESTART_DELAY,
    ):
        self.containers = containers
        self.hub_auth = hub_auth
        self.log = log
        self.delay = delay
        self.pending: set[tuple[str, str]] = set()

    def schedule(self, owner: str, server_name: str, user_options: dict | None) -> bool:
        """Restart the server `delay` seconds from now; False if a restart is already on its way."""
        key = (owner, server_name)
        if key in self.pending:
            return False
        self.pending.add(key)
        IOLoop.current().call_later(self.delay, self._restart, owner, server_name, user_options)
        return True

    async def _restart(self, owner: str, server_name: str, user_options: dict | None) -> None:
        loop = IOLoop.current()
        name = f"{owner}/{server_name}"
        started = time.monotonic()
        try:
            await loop.run_in_executor(None, self.containers.stop, owner, server_name)
            self.forget_tokens(owner)
            self.log.info(
                "jupyter_share: re-keying %s: stopped in %.1f s, its API token is void",
                name,
                time.monotonic() - started,
            )
            await loop.run_in_executor(
                None, self.containers.start, owner, server_name, user_options
            )
            self.forget_tokens(owner)
            self.log.info(
                "jupyter_share: re-keying %s: running again with a new API token after %.1f s",
                name,
                time.monotonic() - started,
            )
        except Exception as e:
            self.forget_tokens(owner)
            self.log.error(
                "jupyter_share: re-keying %s failed: %s (its owner can start it at the Hub)",
                name,
                e,
            )
        finally:
            self.pending.discard((owner, server_name))

    def forget_tokens(self, owner: str) -> None:
        """Forget the Hub's answers about the owner's tokens that HubAuth keeps (for
        `auth_cache_seconds`): the old server token must be refused now, not in minutes."""
        cache = getattr(self.hub_auth, "cache", None)
        if cache is None:
            return
        try:  # JupyterHub's _ExpiringDict keeps its entries in .values and .timestamps
            for key, model in list(cache.values.items()):
                if not isinstance(model, dict) or model.get("name") == owner:
                    cache.values.pop(key, None)
                    cache.timestamps.pop(key, None)
        except (AttributeError, KeyError, TypeError):
            self.hub_auth.cache = type(cache)(self.hub_auth.cache_max_age)
