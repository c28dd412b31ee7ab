"""The rules of containers: a running server's container (made on first use, its spec kept
current, marked stopped when its server is gone), and under JupyterHub the Hub's servers and
shares, which mirror the grants (`containers.Containers`, the port: under JupyterHub
hub.service.containers.HubContainers)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .. import liveness
from ..model import (
    OWNER,
    Conflict,
    Kind,
    NotFound,
    Principal,
    Resource,
    ShareError,
    new_resource_id,
)
from .base import ServiceBase, log


class ContainerRules(ServiceBase):
    def ensure_container(self, owner: str, name: str, spec: dict[str, Any]) -> Resource:
        """The resource of a running server: found by owner and name, its spec kept current."""
        existing = self.store.find_resource(owner, Kind.SESSION, name)
        if existing is not None:
            self._keep_spec_current(existing, spec)
            return existing
        now = self.clock()
        resource = Resource(
            id=new_resource_id(),
            kind=Kind.SESSION,
            name=name,
            owner=owner,
            spec=spec,
            created_at=now,
            updated_at=now,
        )
        try:
            self.store.create_resource(resource, self._audit("create", owner, resource))
        except Conflict:  # created by a concurrent request
            found = self.store.find_resource(owner, Kind.SESSION, name)
            if found is None:  # and deleted since
                raise
            return found
        self._event("create", owner, resource)
        return resource

    def _keep_spec_current(self, session: Resource, spec: dict[str, Any]) -> None:
        """A container's spec as its server reports it now; each change is a start or a stop
        in its history."""
        if session.spec == spec:
            return
        stopping = (
            spec.get("state") == liveness.STOPPED and session.spec.get("state") != liveness.STOPPED
        )
        session.spec = spec
        session.updated_at = self.clock()
        action = "stop" if stopping else "start"
        self.store.update_resource(session, self._audit(action, session.owner, session))

    def container_started(self, owner: str, name: str, spec: dict[str, Any]) -> None:
        """A restarted server's container shows as running again, if it was ever made (it is
        made on first use, not for every server that starts)."""
        existing = self.store.find_resource(owner, Kind.SESSION, name)
        if existing is not None:
            self._keep_spec_current(existing, spec)

    def container_stopped(self, resource_id: str, started_at: str) -> bool:
        """The server that started at `started_at` no longer runs: its container shows as
        stopped (audited as "stop"). Nothing changes when another start took its place since,
        or it is already stopped. Whether anything changed."""
        resource = self.store.get_resource(resource_id)
        if (
            resource is None
            or resource.kind != Kind.SESSION
            or resource.spec.get("started_at") != started_at
            or resource.spec.get("state") == liveness.STOPPED
        ):
            return False
        seen = resource.updated_at
        resource.spec = {
            **resource.spec,
            "state": liveness.STOPPED,
            "stopped_at": self.clock().isoformat(timespec="seconds") + "Z",
        }
        resource.updated_at = self.clock()
        try:
            # Only if nothing wrote it since it was read: a restart may have just said running.
            self.store.update_resource(
                resource, self._audit("stop", resource.owner, resource), if_updated_at=seen
            )
        except (Conflict, NotFound):
            return False
        self._event("stop", resource.owner, resource)
        return True

    def sweep_stopped(
        self, hostname: str, probe: Callable[[dict[str, Any]], str]
    ) -> builtins.list[str]:
        """Containers on `hostname` recorded as running whose server is gone without saying
        so (killed, or the machine restarted): marked stopped when `probe` says so. The ids
        marked."""
        marked = []
        for resource in self.store.resources_of_kind(Kind.SESSION):
            spec = resource.spec
            if spec.get("hostname") != hostname or spec.get("state") == liveness.STOPPED:
                continue
            if probe(spec) == liveness.STOPPED and self.container_stopped(
                resource.id, str(spec.get("started_at"))
            ):
                marked.append(resource.id)
        return marked

    # -- containers under JupyterHub ---------------------------------------------------------

    def _with_hub_access(
        self,
        resource: Resource,
        after: Callable[[set[Principal]], set[Principal]],
        write: Callable[[], Any],
        all_at_hub: bool = False,
    ) -> Any:
        """`write` a change of who may use a container, the Hub's shares first (real access):
        they become what `after(the principals holding grants now)` needs; if the Hub refuses,
        nothing is written, and if the write fails, the Hub's shares are put back. The Hub's
        shares are taken to be what the grants imply (one call to the Hub per share added or
        ended), or, with `all_at_hub`, read from the Hub. Not a container under JupyterHub:
        just `write`."""
        if (
            resource.kind != Kind.SESSION
            or self.containers is None
            or not self.containers.mirrors_grants
        ):
            return write()
        held = self._principals_on(resource, self.clock())
        current = None if all_at_hub else self.containers.wanted(resource, held)
        undo = self.containers.sync(resource, after(held), current=current)
        try:
            return write()
        except BaseException:
            try:
                undo()
            except ShareError as e:
                log.error(
                    "jupyter_share: the Hub's side of a failed change could not be undone: %s", e
                )
            raise

    def _server_container(self, owner: str, server_name: str, spec: dict[str, Any]) -> Resource:
        assert self.containers is not None  # Hub mode only
        return self.ensure_container(owner, self.containers.label(server_name), spec)

    def hub_container(self, owner: str, server_name: str) -> Resource:
        """The resource of one of the owner's servers at the Hub (404 if it has none)."""
        assert self.containers is not None, "under JupyterHub only"
        spec = self.containers.servers_of(owner).get(server_name)
        if spec is None:  # a server made since the Hub was last asked?
            spec = self.containers.servers_of(owner, fresh=True).get(server_name)
        if spec is None:
            raise NotFound(
                f"you have no server named {server_name!r}"
                if server_name
                else "you have no default server"
            )
        return self._server_container(owner, server_name, spec)

    def sync_servers(self, owner: str) -> None:
        """List the owner's servers at the Hub as their containers."""
        assert self.containers is not None, "under JupyterHub only"
        for server_name, spec in self.containers.servers_of(owner).items():
            self._server_container(owner, server_name, spec)

    def _principals_on(self, resource: Resource, now: datetime) -> set[Principal]:
        return {g.principal for g in self.store.live_grants(resource.id, now)}

    #: How old a difference between the Hub and the store must be before a merge settles it:
    #: a share or revoke in flight (here or in another replica) makes one for a moment.
    SETTLE = timedelta(seconds=30)

    def _settled(self, since: datetime | None, now: datetime) -> bool:
        """A difference that is no share or revoke in flight: older than SETTLE, or undated
        (a Hub that does not say when a share was made)."""
        return since is None or since <= now - self.SETTLE

    # The grants decide who may use a server; the Hub's shares are their mirror (the door the
    # Hub opens), and a merge only ever narrows access to what the grants give. A share the
    # grants do not explain (made at the Hub directly, a redeemed share code, or the share a
    # member kept after leaving a granted group) is never adopted as a grant: it is taken back
    # once settled. A grant whose share the Hub ended is dropped once settled, and its share is
    # never made again by a merge.

    def merge_hub_shares(self, user: str) -> None:
        """Make the store and the Hub agree about the servers shared with `user`: a share no
        grant explains is taken back, a user grant whose share the Hub ended is dropped, and a
        server shared with one of the user's groups gets the user's own Hub share (the Hub lets
        tokens in only through those) while the group's share is there. Differences younger
        than SETTLE are left alone; a Hub that does not answer leaves all as is."""
        assert self.containers is not None, "under JupyterHub only"
        try:
            at_hub = self.containers.shared_with(user)
            principal = Principal.user(user)
            now = self.clock()
            seen = set()
            for owner, server_name, spec, since in at_hub:
                if owner == user:
                    continue
                resource = self._server_container(owner, server_name, spec)
                seen.add(resource.id)
                if self.access_of(user, resource, now) is None and self._settled(since, now):
                    self.containers.unshare_user(resource, user)  # no grant gives it
            held, _ = self.store.list_resources(
                user,
                self.principals_of(user),
                Kind.SESSION,
                owned=False,
                shared=True,
                now=now,
                offset=0,
                limit=1000,
            )
            groups = {Principal.group(g) for g in self.directory.groups_of(user)}
            for resource in held:
                if resource.id in seen:
                    continue
                own = self.store.get_grant(resource.id, principal, now)
                if own is not None:
                    if self._settled(own.created_at, now):
                        self._drop_unshared(resource, principal, now)  # the Hub ended it
                elif any(
                    user in self.containers.members(g.name)
                    for g in groups & self.containers.shares_of(resource)
                ):
                    # Through a group the Hub still shares, whose members (as the sync reads
                    # them) include the user: the member's own share, the door the Hub opens.
                    self.containers.share_with_user(resource, user)
        except ShareError as e:
            log.warning("jupyter_share: listing without the Hub's shares: %s", e)

    def merge_server_shares(self, resource: Resource) -> None:
        """As `merge_hub_shares`, for everyone the Hub lets into one server: a grant whose share
        the Hub ended is dropped once settled; then, when no share at the Hub is in flight, the
        Hub's shares follow the grants whose share the Hub still holds (members who joined a
        granted group get theirs, shares no grant explains are taken back, and a share the Hub
        ended is not made again)."""
        assert self.containers is not None, "under JupyterHub only"
        try:
            dated = self.containers.dated_shares_of(resource)
            at_hub = set(dated)
            now = self.clock()
            grants = {g.principal: g for g in self.store.live_grants(resource.id, now)}
            for principal in set(grants) - at_hub:
                if self._settled(grants[principal].created_at, now):
                    self._drop_unshared(resource, principal, now)
            if all(self._settled(since, now) for since in dated.values()):
                present = {p for p in self._principals_on(resource, now) if p in at_hub}
                self.containers.sync(resource, present, current=at_hub)
        except ShareError as e:
            log.warning("jupyter_share: the access list without the Hub's shares: %s", e)

    def _drop_unshared(self, resource: Resource, principal: Principal, now: datetime) -> None:
        existing = self.store.get_grant(resource.id, principal, now)
        if existing is None:
            return
        try:
            self.store.delete_grant(
                resource.id,
                principal,
                self._audit("revoke", "jupyterhub", resource, principal, existing.permission),
            )
        except NotFound:  # revoked meanwhile
            return
        self._event("revoke", "jupyterhub", resource, str(principal), existing.permission.label)

    def guest_access(self, user: str, server_name: str, guest: str) -> str | None:
        """What `guest` may do in the caller's own server `server_name` now, as its owner's
        server asks before letting them in: the grants' access (their groups as the Hub says
        now, not as a token cache remembers), and only while the Hub still lets them in through
        their own share (an admin's revoke at the Hub holds at once, before the merge drops
        the grant). None: not at all."""
        assert self.containers is not None, "under JupyterHub only"
        resource = self.hub_container(user, server_name)
        if guest == user:
            return OWNER
        access = self.access_of(guest, resource)
        if access is None or Principal.user(guest) not in self.containers.shares_of(
            resource, recent=True
        ):
            return None
        return access
