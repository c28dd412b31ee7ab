"""Reusing list answers while the store is unchanged.

Computing a list answer (the query, shaping 50 resources, their JSON) costs several times what
jupyter_server spends on a request of its own; the same caller asking the same list again
mostly gets the same bytes. An answer is reused only while

- nobody has committed a change to the store since it was computed: the store's change marker
  (SQLite's data_version, PostgreSQL's WAL position) is read *before* the answer is computed
  and must be the same when it is reused, whichever server on the store made the change
  (`SQLStore.change_marker`; on the event loop `change_marker_async`, which never blocks it);
- no grant has expired since: an answer is kept until the store's next expiry at the time it
  was computed;

and it is keyed by everything it depends on besides the store: the endpoint, its arguments
as sent, the caller and the caller's groups. What it depends on outside the store (the Hub's
shares, under JupyterHub) rules it out: the share service does not reuse answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import NamedTuple

from .store import ShareStore

#: `AnswerCache.answer` reads the store's marker itself.
_UNREAD = object()


class _Kept(NamedTuple):
    marker: Hashable
    until: datetime | None  # the store's next expiry when computed; None: no grant expires
    body: bytes


class _Flight:
    """An answer being computed."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.body: bytes | None = None


class AnswerCache:
    """The bodies of answers, least recently used first out past `max_bytes` or
    `max_entries` (many tiny answers would otherwise be held by their keys' size)."""

    def __init__(
        self,
        store: ShareStore,
        clock: Callable[[], datetime],
        max_bytes: int = 32 * 1024 * 1024,
        max_entries: int = 4096,
    ):
        self.store = store
        self.clock = clock
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # answers are put from worker threads and read on the loop
        self._flights: dict[Hashable, _Flight] = {}
        self.hits = 0
        self.misses = 0

    def lookup(self, key: Hashable) -> bytes | None:
        """The kept body for `key` if it is still the answer, else None (blocking)."""
        marker = self.store.change_marker()
        return None if marker is None else self._get(key, marker)

    async def lookup_async(self, key: Hashable) -> tuple[bytes | None, Hashable | None]:
        """`lookup` on the event loop (it waits for the store's marker without blocking):
        the kept body or None, and the marker, for `answer` to compute under on a miss."""
        marker = await self.store.change_marker_async()
        return (None if marker is None else self._get(key, marker)), marker

    def answer(
        self, key: Hashable, produce: Callable[[], bytes], marker: Hashable = _UNREAD
    ) -> bytes:
        """The body for `key`: kept, or produced now and kept (blocking: the store is read).
        `marker`: the store's marker read when the caller asked, if it read one."""
        if marker is _UNREAD:
            marker = self.store.change_marker()
        if marker is None:
            return produce()
        body = self._get(key, marker)
        if body is not None:
            return body
        # One computation per answer: callers who ask while it is being computed under the
        # same marker wait for it (the store has not changed since any of them asked).
        with self._lock:
            flight = self._flights.get((key, marker))
            leading = flight is None
            if flight is None:
                flight = self._flights[(key, marker)] = _Flight()
        if not leading:
            flight.done.wait()
            if flight.body is not None:
                self.hits += 1
                return flight.body
            return produce()  # the computation failed: fail (or not) on one's own
        try:
            self.misses += 1
            now = self.clock()
            body = produce()
            # `now` is no later than the service's clock while producing: the bound is safe.
            self._put(key, _Kept(marker, self.store.next_expiry(now), body))
            flight.body = body
            return body
        finally:
            flight.done.set()
            with self._lock:
                del self._flights[(key, marker)]

    def _get(self, key: Hashable, marker: Hashable) -> bytes | None:
        with self._lock:
            kept = self._kept.get(key)
            if (
                kept is None
                or kept.marker != marker
                or (kept.until is not None and self.clock() >= kept.until)
            ):
                return None
            self._kept.move_to_end(key)
            self.hits += 1
            return kept.body

    def _put(self, key: Hashable, kept: _Kept) -> None:
        if len(kept.body) > self.max_bytes // 16:
            return  # one huge answer would push out everything else
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._kept[key] = kept
            self._bytes += len(kept.body)
            while self._bytes > self.max_bytes or len(self._kept) > self.max_entries:
                _, evicted = self._kept.popitem(last=False)
                self._bytes -= len(evicted.body)
