"""The store port: what the rules read and write, whatever holds it.

Every write method takes the audit entry of its change, chosen by the service, and writes
both in one transaction.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Hashable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import TYPE_CHECKING

from ..model import (
    AccessRequest,
    AuditEntry,
    Grant,
    Kind,
    Link,
    Permission,
    Principal,
    PrincipalType,
    Resource,
)

if TYPE_CHECKING:
    from .changefeed import ChangeFeed, Listener


class ShareStore(abc.ABC):
    """What the service needs from persistence. Datetimes are naive UTC."""

    @abc.abstractmethod
    def create_resource(self, resource: Resource, entry: AuditEntry) -> Resource:
        """Insert; raise Conflict if the owner has one of this kind and name."""

    @abc.abstractmethod
    def get_resource(self, resource_id: str) -> Resource | None: ...

    @abc.abstractmethod
    def find_resource(self, owner: str, kind: Kind, name: str) -> Resource | None: ...

    @abc.abstractmethod
    def update_resource(
        self, resource: Resource, entry: AuditEntry, if_updated_at: datetime | None = None
    ) -> Resource:
        """Write name, description, spec and updated_at; raise Conflict on a duplicate name,
        or when `if_updated_at` is given and the stored row was updated since."""

    @abc.abstractmethod
    def delete_resource(self, resource_id: str, entry: AuditEntry) -> None:
        """Delete the resource and its grants."""

    @abc.abstractmethod
    def list_resources(
        self,
        user: str,
        principals: Sequence[Principal],
        kind: Kind | None,
        owned: bool,
        shared: bool,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[Resource], int]:
        """Resources `user` owns (if owned) or any of `principals` holds a live grant on
        (if shared, excluding the user's own), newest first, and their total."""

    def list_page(
        self,
        user: str,
        principals: Sequence[Principal],
        kind: Kind | None,
        owned: bool,
        shared: bool,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[Resource], int, dict[str, list[Grant]], dict[str, int]]:
        """`list_resources`, with what a list shows of each item: the live grants that
        `principals` hold on the items `user` does not own (if shared), and every item's
        number of live grants. A store may answer it in one statement; this default asks
        the other methods."""
        items, total = self.list_resources(
            user, principals, kind, owned, shared, now, offset, limit
        )
        held = (
            self.grants_for_principals([r.id for r in items if r.owner != user], principals, now)
            if shared
            else {}
        )
        counts = self.share_counts([r.id for r in items], now)
        return items, total, held, counts

    @abc.abstractmethod
    def resources_of_kind(self, kind: Kind, limit: int = 10_000) -> list[Resource]:
        """Every resource of `kind`, whoever owns it (for the server's own housekeeping)."""

    @abc.abstractmethod
    def live_grants(self, resource_id: str, now: datetime) -> list[Grant]: ...

    @abc.abstractmethod
    def grants_for_principals(
        self, resource_ids: Sequence[str], principals: Sequence[Principal], now: datetime
    ) -> dict[str, list[Grant]]:
        """The live grants that any of `principals` holds on each of `resource_ids`."""

    @abc.abstractmethod
    def share_counts(self, resource_ids: Sequence[str], now: datetime) -> dict[str, int]: ...

    @abc.abstractmethod
    def get_grant(self, resource_id: str, principal: Principal, now: datetime) -> Grant | None:
        """The principal's live grant on the resource, if any."""

    @abc.abstractmethod
    def put_grant(
        self,
        grant: Grant,
        entry: AuditEntry,
        link: Link | None = None,
        changed: AuditEntry | None = None,
    ) -> bool:
        """Insert or replace the principal's grant; True if there was no live one before.
        A new grant drops the links of an old, expired one; `link`, if given with a new grant,
        is stored with it. The audit row is `entry` for a new grant, `changed` (if given) for
        one that was there already, as the write finds it (a concurrent share may have made
        it meanwhile)."""

    @abc.abstractmethod
    def replace_link(self, link: Link, entry: AuditEntry) -> None:
        """Store `link` as the only link of its grantee on its resource."""

    @abc.abstractmethod
    def get_link(self, link_id: str) -> Link | None: ...

    @abc.abstractmethod
    def live_links(self, link_ids: Sequence[str], now: datetime) -> dict[str, Permission]:
        """For each link whose grant is live: the grant's permission."""

    @abc.abstractmethod
    def delete_grant(self, resource_id: str, principal: Principal, entry: AuditEntry) -> bool: ...

    @abc.abstractmethod
    def purge_expired(
        self, now: datetime, entry: Callable[[Grant, Kind], AuditEntry]
    ) -> list[Grant]:
        """Delete the grants that expired by `now`, each with the audit row `entry(grant, the
        resource's kind)` (the service's)."""

    @abc.abstractmethod
    def history(
        self,
        resource_id: str,
        offset: int = 0,
        limit: int = 1000,
        people: Sequence[str] | None = None,
        principals: Sequence[str] | None = None,
        actions: Sequence[str] | None = None,
    ) -> tuple[list[AuditEntry], int]:
        """A page of a resource's rows, oldest first, and how many match. `people`: only
        rows whose actor is one of these names or whose principal is one of these
        (`user:NAME`, `group:NAME`); `principals`: only rows whose principal is one of these;
        `actions`: only rows of these actions. None: no such filter."""

    def add_history(self, entry: AuditEntry) -> None:
        """Add a row that comes with no other change (a sign-in by personal link)."""
        raise NotImplementedError

    def purge_history(self, before: datetime, keep_last: Sequence[str]) -> int:
        """Delete the rows older than `before`, except each grantee's last row of each action
        in `keep_last` on a resource that still exists (the service keeps who made a grant);
        how many went."""
        return 0

    def grantees(
        self, resource_ids: Sequence[str], now: datetime, per_resource: int
    ) -> dict[str, list[Grant]]:
        """Up to `per_resource` live grants of each resource, users first, by name."""
        found: dict[str, list[Grant]] = {}
        for rid in resource_ids:
            live = sorted(
                self.live_grants(rid, now),
                key=lambda g: (g.principal.type != PrincipalType.USER, g.principal.name),
            )
            if live:
                found[rid] = live[:per_resource]
        return found

    # -- requests for more ------------------------------------------------------------------

    @abc.abstractmethod
    def put_request(self, request: AccessRequest, entry: AuditEntry) -> None:
        """Open a request; raise Conflict if the user has an open one on the resource, NotFound
        if the resource is gone."""

    @abc.abstractmethod
    def get_request(self, resource_id: str, requester: str) -> AccessRequest | None: ...

    @abc.abstractmethod
    def open_requests(self, resource_id: str) -> list[AccessRequest]:
        """The open requests on a resource, oldest first."""

    @abc.abstractmethod
    def close_request(self, resource_id: str, requester: str, entry: AuditEntry) -> bool:
        """Close (delete) an open request with the audit row of how it closed; False if there
        was none."""

    @abc.abstractmethod
    def requests_to_decide(
        self,
        user: str,
        principals: Sequence[Principal],
        now: datetime,
        limit: int,
        deciders: Permission,
    ) -> list[tuple[AccessRequest, Resource]]:
        """Open requests on the resources `user` owns or that any of `principals` holds a live
        grant of at least `deciders` on (not the user's own requests), oldest first."""

    @abc.abstractmethod
    def requests_by(self, requester: str, limit: int) -> list[tuple[AccessRequest, Resource]]:
        """The user's own open requests, oldest first."""

    @abc.abstractmethod
    def touch_user(self, name: str, now: datetime) -> None:
        """Remember that `name` uses this store (the standalone directory lists them)."""

    @abc.abstractmethod
    def known_users(self, prefix: str = "", limit: int = 50) -> list[str]: ...

    @abc.abstractmethod
    def user_is_known(self, name: str) -> bool: ...

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections."""

    def change_marker(self) -> Hashable | None:
        """A value that changes whenever anyone (this process or another on the same store)
        commits a change, or None when the store cannot tell cheaply: answers computed
        under one marker may be reused while it stays the same (`answers.AnswerCache`)."""
        return None

    async def change_marker_async(self) -> Hashable | None:
        """`change_marker`, on the event loop without blocking it."""
        return None

    def change_feed(self, listener: Listener, interval: float = 0.15) -> ChangeFeed | None:
        """A watcher (`changefeed.ChangeFeed`, not started) that hands `listener` every change
        committed by anyone, or None when nobody else can change the store or it cannot tell
        (the event streams then hear only this process's changes)."""
        return None

    def next_expiry(self, now: datetime) -> datetime | None:
        """When the first grant still live at `now` expires (None: none does)."""
        return None

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """A context in which this thread's reads share one transaction (a consistent view
        and one round of connect/BEGIN/COMMIT instead of one per read). Writes inside it
        are not seen by its reads. The default does nothing."""
        return nullcontext()
