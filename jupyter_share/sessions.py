"""The sessions port, standalone: personal links that give a neighbour real access to this
container under their own name.

A link is `<id>.<secret>`: the id finds the row, the secret (192 random bits) is kept only as a
SHA-256 hash and compared in constant time. A link lives exactly as long as its grant, keeps
working when the grant's permission changes, and dies when the owner issues a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime

from .model import Link, Permission
from .store import ShareStore

#: How long a guest's permission may be served from memory. Changes made through this server
#: clear it at once; this bounds how late a change made elsewhere (another server, the CLI)
#: reaches a guest's next request.
PERMISSION_TTL = 0.5


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_link(resource_id: str, username: str, created_by: str, now: datetime) -> tuple[Link, str]:
    """A new link and its token; the token is shown once and never stored."""
    link_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(24)
    link = Link(link_id, resource_id, username, _hash(secret), created_by, now)
    return link, f"{link_id}.{secret}"


class PersonalLinks:
    """Checks link tokens and answers, fast, what a link's guest may do now."""

    def __init__(self, store: ShareStore, clock):
        self.store = store
        self.clock = clock
        self._cache: dict[str, tuple[float, Permission | None]] = {}
        self._lock = threading.Lock()

    def verify(self, token: str) -> Link | None:
        """The link a token opens, if the token is right and its grant is live."""
        link_id, sep, secret = token.partition(".")
        if not sep or not link_id.isalnum() or len(link_id) > 32 or not secret or len(secret) > 128:
            return None
        link = self.store.get_link(link_id)
        # Compare even when there is no such link, so timing does not tell the two apart.
        expected = link.secret_hash if link else _hash("no such link")
        if not hmac.compare_digest(_hash(secret), expected) or link is None:
            return None
        if self.permissions([link.id], fresh=True).get(link.id) is None:
            return None
        return link

    def permissions(self, link_ids: Sequence[str], fresh: bool = False) -> dict[str, Permission]:
        """The live permission of each link (absent: dead), from a short-lived cache."""
        now = time.monotonic()
        answer: dict[str, Permission] = {}
        missing = []
        with self._lock:
            for link_id in link_ids:
                cached = self._cache.get(link_id)
                if cached and not fresh and now - cached[0] < PERMISSION_TTL:
                    if cached[1] is not None:
                        answer[link_id] = cached[1]
                else:
                    missing.append(link_id)
        if missing:
            live = self.store.live_links(missing, self.clock())
            with self._lock:
                for link_id in missing:
                    self._cache[link_id] = (now, live.get(link_id))
                if len(self._cache) > 10_000:
                    self._cache.clear()
            answer.update(live)
        return answer

    def forget(self) -> None:
        """Drop what is cached: a grant changed."""
        with self._lock:
            self._cache.clear()


class FailedAttempts:
    """Counts wrong links per client; a client with too many in a window is refused for a while.

    Guessing a 192-bit secret is hopeless anyway; this keeps a scanner from filling the logs
    and the database with lookups."""

    def __init__(self, limit: int = 10, window: float = 60.0, max_clients: int = 10_000):
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: dict[str, deque] = {}

    def _recent(self, client: str, now: float) -> deque:
        times = self._failures.get(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, client: str) -> bool:
        return len(self._recent(client, time.monotonic())) >= self.limit

    def failed(self, client: str) -> None:
        now = time.monotonic()
        if len(self._failures) >= self.max_clients and client not in self._failures:
            # Forget the quietest clients rather than grow without bound.
            for stale in [c for c, t in self._failures.items() if not self._recent(c, now)]:
                del self._failures[stale]
            if len(self._failures) >= self.max_clients:
                self._failures.clear()
        times = self._recent(client, now)
        times.append(now)
        self._failures[client] = times
