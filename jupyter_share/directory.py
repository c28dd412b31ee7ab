"""The directory port: who exists, and who is in which group.

Standalone, the users are those who have used the store (every server registers its user on
start) plus the configured `ShareApp.users` and group members; the groups are
`ShareApp.groups`. The hub implementation asks the Hub.
"""

from __future__ import annotations

import abc
from typing import Mapping, Sequence

from .store import ShareStore

#: How many names the "did you mean" hint compares against.
HINT_CANDIDATES = 5000


class Directory(abc.ABC):
    @abc.abstractmethod
    def user_exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def group_exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def groups_of(self, user: str) -> list[str]: ...

    @abc.abstractmethod
    def search(self, prefix: str, limit: int = 20) -> tuple[list[str], list[str]]:
        """User names and group names that start with `prefix`, sorted."""

    @abc.abstractmethod
    def user_names(self) -> list[str]:
        """Names to suggest from when a name is not found (may be a sample)."""

    @abc.abstractmethod
    def group_names(self) -> list[str]: ...


class StandaloneDirectory(Directory):
    def __init__(self, store: ShareStore, users: Sequence[str] = (), groups: Mapping[str, Sequence[str]] = ()):
        self.store = store
        self.groups = {name: sorted(set(members)) for name, members in dict(groups).items()}
        self.configured_users = set(users) | {m for members in self.groups.values() for m in members}

    def user_exists(self, name: str) -> bool:
        return name in self.configured_users or self.store.user_is_known(name)

    def group_exists(self, name: str) -> bool:
        return name in self.groups

    def groups_of(self, user: str) -> list[str]:
        return sorted(g for g, members in self.groups.items() if user in members)

    def search(self, prefix: str, limit: int = 20) -> tuple[list[str], list[str]]:
        users = set(self.store.known_users(prefix, limit))
        users |= {u for u in self.configured_users if u.startswith(prefix)}
        groups = [g for g in sorted(self.groups) if g.startswith(prefix)]
        return sorted(users)[:limit], groups[:limit]

    def user_names(self) -> list[str]:
        return sorted(set(self.store.known_users("", HINT_CANDIDATES)) | self.configured_users)

    def group_names(self) -> list[str]:
        return sorted(self.groups)
