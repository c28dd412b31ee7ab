"""The sessions port under JupyterHub: containers are the users' servers, and sharing one
grants access through the Hub's own sharing API (`/hub/api/shares/...`, JupyterHub >= 5.5.1).

The service calls `grant` before it stores a grant and `revoke` before it deletes one, and
undoes the Hub's side when the store refuses, so that the Hub's share and the grant are made
or undone together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from ...model import Principal, PrincipalType, Resource
from .directory import _Expiring
from .hubapi import HubAPI

log = logging.getLogger(__name__)


#: The name under which a user's default (unnamed) server is listed.
DEFAULT_SERVER_LABEL = "default server"


def server_label(server_name: str) -> str:
    return server_name or DEFAULT_SERVER_LABEL


def server_spec(owner: str, server_name: str, model: dict | None) -> dict:
    """What a container's resource says about it: stable fields only (each change is a row of
    history)."""
    model = model or {}
    running = bool(model.get("ready")) or model.get("pending") == "spawn"
    return {
        "server_name": server_name,
        "url": model.get("full_url")
        or model.get("url")
        or f"/user/{owner}/{server_name}".rstrip("/") + "/",
        # As standalone (liveness.py): the Hub lists stopped servers too, and says which.
        "state": "running" if running else "stopped",
    }


def _hub_time(value: str | None) -> datetime | None:
    """A timestamp of the Hub's API as naive UTC, as the store keeps them; None if absent."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def _target(principal: Principal) -> dict:
    return (
        {"user": principal.name}
        if principal.type == PrincipalType.USER
        else {"group": principal.name}
    )


class HubContainers:
    """The containers port under JupyterHub (`jupyter_share.containers.Containers`).

    `cache_seconds`: how long the Hub's servers and what it shares with whom are kept;
    `membership_seconds`: how long a group's members and who the Hub lets into a server are
    kept for access checks (a change that removes access holds after this)."""

    #: The Hub's shares are the door, apart from the grants: the service keeps them in step.
    mirrors_grants = True

    def __init__(self, hub: HubAPI, cache_seconds: float = 5.0, membership_seconds: float = 2.0):
        self.hub = hub
        self._servers = _Expiring(cache_seconds)
        #: The Hub's answers about what is shared with whom; forgotten at each change made here.
        self._shared = _Expiring(cache_seconds)
        self._members = _Expiring(membership_seconds)
        #: Who the Hub lets into each server, for guests' access checks; forgotten at each
        #: change made here.
        self._doors = _Expiring(membership_seconds)

    # -- which containers exist ----------------------------------------------------------

    @staticmethod
    def label(server_name: str) -> str:
        """The name a server's container is listed under."""
        return server_label(server_name)

    def servers_of(self, owner: str, fresh: bool = False) -> dict[str, dict]:
        """{server name: spec} of the owner's servers, running or stopped."""
        if fresh:
            self._servers.forget(owner)

        def ask() -> dict[str, dict]:
            model = self.hub.user(owner)
            if model is None:
                return {}
            servers = model.get("servers") or {}
            return {name: server_spec(owner, name, server) for name, server in servers.items()}

        return self._servers.get(owner, ask)

    # -- restarting one (re-keying) ------------------------------------------------------

    def running(self, owner: str, server_name: str) -> dict | None:
        """The Hub's model of the server when it runs or is starting (asked now), else None."""
        model = self.hub.server(owner, server_name)
        if model and (model.get("ready") or model.get("pending") == "spawn"):
            return model
        return None

    def stop(self, owner: str, server_name: str, timeout: float = 300.0, poll: float = 0.2) -> None:
        """Stop the server and wait until the Hub says it stopped: the Hub has then deleted the
        server's API token and its OAuth client (with every token issued to it), unless its
        spawner resumes (`Spawner.will_resume`)."""
        self.hub.stop_server(owner, server_name)
        self._until(
            owner,
            server_name,
            lambda m: m is None or (not m.get("ready") and not m.get("pending")),
            timeout,
            poll,
            "stop",
        )

    def start(
        self,
        owner: str,
        server_name: str,
        user_options: dict | None,
        timeout: float = 300.0,
        poll: float = 0.2,
    ) -> None:
        """Start the server with these user options and wait until the Hub says it is ready."""
        self.hub.start_server(owner, server_name, user_options)

        def ready(model: dict | None) -> bool:
            if model is None or (not model.get("ready") and not model.get("pending")):
                raise RuntimeError(
                    f"the Hub did not start {owner}/{server_name} again (see the Hub's log)"
                )
            return bool(model.get("ready"))

        self._until(owner, server_name, ready, timeout, poll, "start")

    def _until(
        self,
        owner: str,
        server_name: str,
        done: Callable[[dict | None], bool],
        timeout: float,
        poll: float,
        what: str,
    ) -> None:
        import time

        deadline = time.monotonic() + timeout
        try:
            while not done(self.hub.server(owner, server_name)):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the Hub did not {what} {owner}/{server_name} within {timeout:g} s"
                    )
                time.sleep(poll)
        finally:
            self._servers.forget(owner)

    # -- real access -----------------------------------------------------------------------

    def members(self, group: str) -> set[str]:
        def ask() -> set[str]:
            model = self.hub.group(group)
            return set(model.get("users") or []) if model else set()

        return self._members.get(group, ask)

    def wanted(self, resource: Resource, principals: Iterable[Principal]) -> set[Principal]:
        """The Hub shares that give these principals access to the server: one per grant, and
        one per member of each group (JupyterHub up to 6.1 lets tokens in through a user's
        own shares only, not their groups')."""
        wanted = set()
        for principal in principals:
            wanted.add(principal)
            if principal.type == PrincipalType.GROUP:
                wanted |= {Principal.user(member) for member in self.members(principal.name)}
        return {p for p in wanted if p != Principal.user(resource.owner)}

    def sync(
        self,
        resource: Resource,
        principals: Iterable[Principal],
        current: set[Principal] | None = None,
    ) -> Callable[[], None]:
        """Make the Hub's shares of the server give exactly these principals access; returns
        what puts back the shares there were. `current`: the Hub's shares as just read, or as
        the grants imply (a change then costs one call to the Hub per share it adds or ends;
        the merges in ShareService find what others changed at the Hub)."""
        server = resource.spec.get("server_name", "")
        before = self.shares_of(resource) if current is None else current
        after = self.wanted(resource, principals)
        if after != before:
            self._shared.forget()
        self._apply(resource.owner, server, before, after)
        return lambda: self._apply(resource.owner, server, after, before)

    def _apply(
        self, owner: str, server: str, before: set[Principal], after: set[Principal]
    ) -> None:
        try:
            for principal in sorted(after - before):
                self.hub.share(owner, server, **_target(principal))
            for principal in sorted(before - after):
                self.hub.unshare(owner, server, **_target(principal))
        finally:
            if after != before:
                self._doors.forget((owner, server))

    def forget_shares(self) -> None:
        """Forget what the Hub shares with whom: a grant on a server changed elsewhere (another
        replica of the service, seen by its change feed); what this one kept may be stale."""
        self._shared.forget()
        self._doors.forget()

    def share_with_user(self, resource: Resource, user: str) -> None:
        server = resource.spec.get("server_name", "")
        self._shared.forget(user)
        try:
            self.hub.share(resource.owner, server, user=user)
        finally:
            self._doors.forget((resource.owner, server))

    def unshare_user(self, resource: Resource, user: str) -> None:
        """End the user's own share of the server at the Hub (one no grant explains)."""
        server = resource.spec.get("server_name", "")
        self._shared.forget(user)
        try:
            self.hub.unshare(resource.owner, server, user=user)
        finally:
            self._doors.forget((resource.owner, server))
        log.info(
            "jupyter_share: took back the Hub's share of %s/%s with %s: no grant gives it",
            resource.owner,
            server,
            user,
        )

    def shares_of(self, resource: Resource, recent: bool = False) -> set[Principal]:
        """Who the Hub lets into the server through a share; `recent`: as the Hub said at
        most `membership_seconds` ago (for access checks), else asked now."""
        if not recent:
            return set(self.dated_shares_of(resource))
        key = (resource.owner, resource.spec.get("server_name", ""))
        return self._doors.get(key, lambda: set(self.dated_shares_of(resource)))

    def dated_shares_of(self, resource: Resource) -> dict[Principal, datetime | None]:
        """Who the Hub lets into the server through a share, and since when (naive UTC)."""
        found: dict[Principal, datetime | None] = {}
        for share in self.hub.shares_of_server(
            resource.owner, resource.spec.get("server_name", "")
        ):
            if share.get("user"):
                found[Principal.user(share["user"]["name"])] = _hub_time(share.get("created_at"))
            elif share.get("group"):
                found[Principal.group(share["group"]["name"])] = _hub_time(share.get("created_at"))
        return found

    def shared_with(self, user: str) -> list[tuple[str, str, dict, datetime | None]]:
        """(owner, server name, spec) of each server the Hub shares with the user directly."""
        return self._shared.get(user, lambda: self._shared_with(user))

    def _shared_with(self, user: str) -> list[tuple[str, str, dict, datetime | None]]:
        found = []
        for share in self.hub.shared_with_user(user):
            server = share.get("server") or {}
            owner = (server.get("user") or {}).get("name")
            if owner:
                name = server.get("name", "")
                found.append(
                    (
                        owner,
                        name,
                        server_spec(owner, name, server),
                        _hub_time(share.get("created_at")),
                    )
                )
        return found
