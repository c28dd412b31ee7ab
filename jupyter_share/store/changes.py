"""Seeing that the store changed, cheaply: the change marker that the answer cache
(`answers.py`) compares before reusing an answer, and the watcher that hands each change to
the event streams (`changefeed.py`). What is shared is here; what the marker is, and which
watcher a store gets, each implementation says (`sqlite.py`, `postgres.py`). PostgreSQL's
NOTIFY trigger is migration v5.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import threading
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .changefeed import ChangeFeed, Listener

log = logging.getLogger(__name__)


class _MarkerCursor(Protocol):
    def fetchone(self) -> Any: ...


class MarkerConnection(Protocol):
    """The change marker's connection: sqlite3's or psycopg's, both run SQL on themselves."""

    def execute(self, sql: str, /) -> _MarkerCursor: ...

    def close(self) -> None: ...


class ChangeTracking(abc.ABC):
    """The change marker of a store (`ShareStore.change_marker`), read on a connection of its
    own, outside the pool and any transaction: a mixin of `SQLConnection`."""

    def _track_changes(self) -> None:
        self._marker_lock = threading.Lock()
        self._marker_conn: MarkerConnection | None = None
        self._marker_generation = 0
        self._marker_retry_at = 0.0

    def _close_markers(self) -> None:
        with self._marker_lock:
            if self._marker_conn is not None:
                self._marker_conn.close()
                self._marker_conn = None

    # -- what each database says ---------------------------------------------------------------

    @abc.abstractmethod
    def _connect_marker(self) -> MarkerConnection:
        """A new connection of the marker's own, in autocommit."""

    @abc.abstractmethod
    def _read_marker(self, conn: MarkerConnection) -> Hashable:
        """The marker, read on `conn` (`self._marker_generation` counts its connections)."""

    @abc.abstractmethod
    def change_feed(self, listener: Listener, interval: float = 0.15) -> ChangeFeed | None:
        """This store's watcher (`changefeed.py`), not started; None if nobody else can
        change it."""

    # -- change detection --------------------------------------------------------------------

    def change_marker(self) -> Hashable | None:
        if time.monotonic() < self._marker_retry_at:
            return None
        with self._marker_lock:
            try:
                if self._marker_conn is None:
                    self._marker_conn = self._connect_marker()
                    self._marker_generation += 1
                return self._read_marker(self._marker_conn)
            except Exception as e:  # the store's own calls report it; here it only means no reuse
                self._marker_failed(e)
                with contextlib.suppress(Exception):
                    if self._marker_conn is not None:
                        self._marker_conn.close()
                self._marker_conn = None
                return None

    async def change_marker_async(self) -> Hashable | None:
        """`change_marker`, for the event loop: one that reads the marker off the loop's
        thread overrides it (PostgreSQL's; SQLite's takes microseconds)."""
        return self.change_marker()

    def _marker_failed(self, error: Exception) -> None:
        log.warning(
            "jupyter_share: could not read the store's change marker (%s); not reusing answers for 30 s",
            error,
        )
        self._marker_retry_at = time.monotonic() + 30
