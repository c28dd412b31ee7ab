"""The directory port under JupyterHub: the Hub's users and groups, asked through its API and
kept for a few seconds (every request asks for the caller's groups).

A user's groups decide access (group grants), so they are asked of the Hub itself and kept
only `membership_seconds`: never taken from the Hub's answer about a token, which HubAuth keeps
for minutes, so that a member who leaves a group loses its access within seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ...directory import Directory
from .hubapi import HubAPI


class _Expiring:
    """A small thread-safe cache of answers for `ttl` seconds."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
        value = compute()
        with self._lock:
            if len(self._values) > 10_000:
                self._values.clear()
            self._values[key] = (now, value)
        return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._values[key] = (time.monotonic(), value)

    def forget(self, key: Any = None) -> None:
        with self._lock:
            if key is None:
                self._values.clear()
            else:
                self._values.pop(key, None)


class HubDirectory(Directory):
    def __init__(
        self, hub: HubAPI, cache_seconds: float = 5.0, membership_seconds: float = 2.0, **_: Any
    ):
        self.hub = hub
        self._cache = _Expiring(cache_seconds)
        self._groups = _Expiring(membership_seconds)

    def note_caller(self, name: str, groups: list[str] | None = None) -> None:
        """What the Hub said of a caller when it checked their token: they exist. Their groups
        in that answer are not kept: it may be minutes old (HubAuth's cache)."""
        self._cache.put(("user", name), {"name": name})

    def _user(self, name: str) -> dict | None:
        return self._cache.get(("user", name), lambda: self.hub.user(name))

    def user_exists(self, name: str) -> bool:
        return self._user(name) is not None

    def group_exists(self, name: str) -> bool:
        return self._cache.get(("group", name), lambda: self.hub.group(name)) is not None

    def groups_of(self, user: str) -> list[str]:
        """The user's groups as the Hub said at most `membership_seconds` ago."""
        model = self._groups.get(user, lambda: self.hub.user(user))
        return sorted(model.get("groups") or []) if model else []

    def search(self, prefix: str, limit: int = 20) -> tuple[list[str], list[str]]:
        # The Hub filters users by substring; the picker completes prefixes.
        users = self._cache.get(
            ("users", prefix), lambda: [u["name"] for u in self.hub.users(prefix, limit=200)]
        )
        users = sorted(u for u in users if u.startswith(prefix))[:limit]
        groups = [g for g in self.group_names() if g.startswith(prefix)][:limit]
        return users, groups

    def user_names(self) -> list[str]:
        return self._cache.get(
            ("users", ""), lambda: sorted(u["name"] for u in self.hub.users(limit=200))
        )

    def group_names(self) -> list[str]:
        return self._cache.get(("groups",), lambda: sorted(g["name"] for g in self.hub.groups()))
