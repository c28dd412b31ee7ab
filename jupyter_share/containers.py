"""The containers port (docs/architecture.md, "Ports and their implementations"): which
running servers are containers, and the door through which a grantee comes in.

Two implementations, chosen by configuration (`ShareApp.containers_class`,
`ShareServiceApp.containers_class`):
- standalone, `LocalContainers`: the container is the server answering; its door is the
  personal link, written with the grant in one transaction (`sessions.PersonalLinks`), so
  there is nothing to keep in step with the grants;
- under JupyterHub, `jupyter_share.hub.service.containers.HubContainers`: the users' servers,
  whose door is the Hub's own share, made or undone with the grant (`mirrors_grants`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from .model import Link, Permission, Principal, Resource
from .sessions import PersonalLinks
from .store import ShareStore


class Containers(Protocol):
    """The containers as the rules (`service.ShareService`) use them."""

    #: Whether a container's door is kept apart from its grants and must follow them (the
    #: Hub's shares): the service then mirrors every change of access to it.
    mirrors_grants: bool

    def label(self, server_name: str) -> str: ...

    def servers_of(self, owner: str, fresh: bool = False) -> dict[str, dict[str, Any]]: ...

    def members(self, group: str) -> set[str]: ...

    def wanted(self, resource: Resource, principals: Iterable[Principal]) -> set[Principal]: ...

    def sync(
        self,
        resource: Resource,
        principals: Iterable[Principal],
        current: set[Principal] | None = None,
    ) -> Callable[[], None]: ...

    def share_with_user(self, resource: Resource, user: str) -> None: ...

    def unshare_user(self, resource: Resource, user: str) -> None: ...

    def shares_of(self, resource: Resource, recent: bool = False) -> set[Principal]: ...

    def dated_shares_of(self, resource: Resource) -> dict[Principal, datetime | None]: ...

    def shared_with(self, user: str) -> list[tuple[str, str, dict[str, Any], datetime | None]]: ...

    def forget_shares(self) -> None:
        """Forget what is kept about who may open a container: its grants changed."""


def _nothing() -> None:
    return None


class LocalContainers:
    """Standalone: the container is this server, registered by its own `ShareApp`; a grantee
    comes in by a personal link, which the store writes and deletes with the grant. Nothing is
    mirrored, so the Hub-side calls answer "no other door"."""

    mirrors_grants = False

    def __init__(self, store: ShareStore, clock: Callable[[], datetime]):
        self.links = PersonalLinks(store, clock)

    # -- the door: personal links ----------------------------------------------------------

    def verify(self, token: str) -> Link | None:
        return self.links.verify(token)

    def permissions(self, link_ids: Sequence[str], fresh: bool = False) -> dict[str, Permission]:
        return self.links.permissions(link_ids, fresh=fresh)

    def forget_shares(self) -> None:
        self.links.forget()

    # -- the port as the rules see it --------------------------------------------------------

    def label(self, server_name: str) -> str:
        return server_name

    def servers_of(self, owner: str, fresh: bool = False) -> dict[str, dict[str, Any]]:
        # Each server registers its own container when it starts (`ShareService.container_started`).
        return {}

    def members(self, group: str) -> set[str]:
        return set()

    def wanted(self, resource: Resource, principals: Iterable[Principal]) -> set[Principal]:
        return set(principals)

    def sync(
        self,
        resource: Resource,
        principals: Iterable[Principal],
        current: set[Principal] | None = None,
    ) -> Callable[[], None]:
        return _nothing

    def share_with_user(self, resource: Resource, user: str) -> None:
        return None

    def unshare_user(self, resource: Resource, user: str) -> None:
        return None

    def shares_of(self, resource: Resource, recent: bool = False) -> set[Principal]:
        return set()

    def dated_shares_of(self, resource: Resource) -> dict[Principal, datetime | None]:
        return {}

    def shared_with(self, user: str) -> list[tuple[str, str, dict[str, Any], datetime | None]]:
        return []
