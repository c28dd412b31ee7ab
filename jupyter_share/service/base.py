"""What every part of the rules stands on: the ports the service is given, who the caller is,
what they hold (`access_of`), finding a resource the caller may act on (`_resolve`: 404 if they
cannot see it, 403 if they hold less), and the audit row and event of a change."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypedDict

from .. import contract
from ..containers import Containers
from ..directory import Directory
from ..model import (
    OWNER,
    AuditEntry,
    Forbidden,
    Grant,
    InvalidInput,
    Kind,
    NotFound,
    Permission,
    Principal,
    Resource,
    is_resource_id,
    utcnow,
)
from ..store import ShareStore

log = logging.getLogger("jupyter_share.service")

#: Called once per change with the event's data (see events/change.yaml).
EventSink = Callable[[dict[str, str | None]], None]


class Me(TypedDict):
    username: str
    groups: list[str]


class DirectoryMatches(TypedDict):
    users: list[str]
    groups: list[str]


def _rank(access: str | None) -> int:
    """Order access levels: none < view < edit < manage < owner."""
    if access is None:
        return 0
    if access == OWNER:
        return len(Permission) + 1
    return int(Permission.parse(access))


def holds(access: str | None, need: str) -> bool:
    """Whether `access` ("owner", a permission's label, or None) is at least `need`: for a
    surface that shows what only some may see (the access list: manage) without asking."""
    return _rank(access) >= _rank(need)


def expiry_entries(now: datetime) -> Callable[[Grant, Kind], AuditEntry]:
    """The audit row of a grant that ended at its expiry (`ShareStore.purge_expired`): the
    action `expire`, by `system`."""

    def entry(grant: Grant, kind: Kind) -> AuditEntry:
        return AuditEntry(
            resource_id=grant.resource_id,
            kind=kind,
            at=now,
            actor="system",
            action="expire",
            principal=str(grant.principal),
            permission=grant.permission.label,
        )

    return entry


class ServiceBase:
    def __init__(
        self,
        store: ShareStore,
        directory: Directory,
        emit: EventSink | None = None,
        capture_environment: Callable[[], dict[str, Any]] | None = None,
        clock: Callable[[], datetime] = utcnow,
        containers: Containers | None = None,
        history_retention: timedelta | None = None,
    ):
        self.store = store
        #: How long history rows are kept (`purge_history`); None: for ever.
        self.history_retention = history_retention
        self.directory = directory
        #: The containers port (`containers.Containers`): under JupyterHub the Hub's servers
        #: and sharing API; standalone this server and its personal links (or None).
        self.containers = containers
        self.emit = emit or (lambda data: None)
        self.capture_environment = capture_environment
        self.clock = clock

    @property
    def mirrored(self) -> bool:
        """Whether a container's door is kept apart from its grants and follows them (the
        Hub's shares); standalone the door is the personal link, written with the grant."""
        return self.containers is not None and self.containers.mirrors_grants

    # -- who the caller is ------------------------------------------------------------------

    def principals_of(self, user: str) -> list[Principal]:
        return [Principal.user(user)] + [Principal.group(g) for g in self.directory.groups_of(user)]

    def me(self, user: str) -> Me:
        return {"username": user, "groups": sorted(self.directory.groups_of(user))}

    def my_grant(self, user: str, kind: Kind, resource_id: str) -> Grant | None:
        """The caller's own live user grant on a resource (anyone may see their own), or None."""
        return self.store.get_grant(resource_id, Principal.user(user), self.clock())

    def search_directory(self, user: str, query: Any) -> DirectoryMatches:
        if query is not None and not isinstance(query, str):
            raise InvalidInput("q must be a string", field="q")
        contract.no_nul(query, "q")
        users, groups = self.directory.search((query or "").strip(), limit=20)
        return {"users": users, "groups": groups}

    # -- access ---------------------------------------------------------------------------

    def access_of(self, user: str, resource: Resource, now: datetime | None = None) -> str | None:
        """The caller's effective access: "owner", a permission label, or None."""
        if resource.owner == user:
            return OWNER
        held = self.store.grants_for_principals(
            [resource.id], self.principals_of(user), now or self.clock()
        )
        best = max((g.permission for g in held.get(resource.id, [])), default=None)
        return best.label if best else None

    def _resolve(self, user: str, kind: Kind, resource_id: str, need: str) -> tuple[Resource, str]:
        """The resource if the caller holds at least `need`: 404 if they cannot see it, 403 if
        they see it but hold less."""
        resource = self.store.get_resource(resource_id) if is_resource_id(resource_id) else None
        access = self.access_of(user, resource) if resource and resource.kind == kind else None
        if resource is None or access is None:
            raise NotFound(f"no {kind.noun} {resource_id!r}")
        if _rank(access) < _rank(need):
            needed = "its owner" if need == OWNER else f"'{need}' permission"
            raise Forbidden(f"you hold '{access}' on this {kind.noun}; this needs {needed}")
        return resource, access

    # -- resources ------------------------------------------------------------------------

    def _event(
        self,
        action: str,
        actor: str,
        resource: Resource,
        principal: str | None = None,
        permission: str | None = None,
    ) -> None:
        try:
            self.emit(
                {
                    "action": action,
                    "kind": resource.kind.value,
                    "resource_id": resource.id,
                    "resource_name": resource.name,
                    "owner": resource.owner,
                    "actor": actor,
                    "principal": principal,
                    "permission": permission,
                }
            )
        except Exception:  # an event sink must never undo a committed change
            log.exception("jupyter_share: could not emit the %s event", action)

    def _audit(
        self,
        action: str,
        actor: str,
        resource: Resource,
        principal: Principal | None = None,
        permission: Permission | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            resource_id=resource.id,
            kind=resource.kind,
            at=self.clock(),
            actor=actor,
            action=action,
            principal=str(principal) if principal else None,
            permission=permission.label if permission else None,
        )
