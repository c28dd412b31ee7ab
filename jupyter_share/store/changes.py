"""Seeing that the store changed, cheaply: the change marker that the answer cache
(`answers.py`) compares before reusing an answer. The watchers that hand each change to the
event streams are in `changefeed.py`; PostgreSQL's NOTIFY trigger is migration v5.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy.engine import URL, Engine

if TYPE_CHECKING:
    import psycopg  # the PostgreSQL driver: an optional dependency, imported where it is used

log = logging.getLogger(__name__)


class _MarkerCursor(Protocol):
    def fetchone(self) -> Any: ...


class _MarkerConnection(Protocol):
    """The change marker's connection: sqlite3's or psycopg's, both run SQL on themselves."""

    def execute(self, sql: str, /) -> _MarkerCursor: ...

    def close(self) -> None: ...


class ChangeTracking:
    """The change marker of a store (`ShareStore.change_marker`), read on a connection of its
    own: a mixin of `SQLConnection`, whose engine and URL it reads."""

    url: URL
    engine: Engine
    is_sqlite: bool

    def _track_changes(self) -> None:
        # How changes are seen (`change_marker`); an in-memory SQLite store has no other connections.
        if self.is_sqlite:
            self._marker_kind = (
                "sqlite" if self.url.database not in (None, "", ":memory:") else None
            )
            self._marker_sql = "PRAGMA data_version"
        else:
            self._marker_kind = (
                "postgresql" if self.url.get_backend_name() == "postgresql" else None
            )
            self._marker_sql = "SELECT pg_current_wal_insert_lsn()"
        self._marker_lock = threading.Lock()
        self._marker_conn: _MarkerConnection | None = None
        self._marker_generation = 0
        self._marker_retry_at = 0.0
        self._async_marker_conn: psycopg.AsyncConnection[Any] | None = None
        self._marker_next: asyncio.Future[str | None] | None = (
            None  # the read that has not started yet
        )
        self._marker_rounds: asyncio.Lock | None = None

    def _close_markers(self) -> None:
        self._close_async_marker()
        with self._marker_lock:
            if self._marker_conn is not None:
                self._marker_conn.close()
                self._marker_conn = None

    # -- change detection --------------------------------------------------------------------

    def change_marker(self) -> Hashable | None:
        """On a connection of its own, outside the pool and any transaction:
        - SQLite: `data_version`, which changes when any other connection, in any process,
          commits (microseconds: it reads the WAL index in shared memory);
        - PostgreSQL: the WAL insert position, which moves with every commit (and with other
          activity of the cluster, which only costs a reuse). Read before an answer is
          computed, a change committed meanwhile moves it past the answer's marker.
        data_version is counted per connection, so SQLite's marker names the connection too."""
        if self._marker_kind is None or time.monotonic() < self._marker_retry_at:
            return None
        with self._marker_lock:
            try:
                if self._marker_conn is None:
                    self._marker_conn = self._connect_marker()
                    self._marker_generation += 1
                value = self._marker_conn.execute(self._marker_sql).fetchone()[0]
            except Exception as e:  # the store's own calls report it; here it only means no reuse
                self._marker_failed(e)
                with contextlib.suppress(Exception):
                    if self._marker_conn is not None:
                        self._marker_conn.close()
                self._marker_conn = None
                return None
        # data_version is counted per connection; the WAL position is the cluster's.
        return (self._marker_generation, value) if self._marker_kind == "sqlite" else str(value)

    async def change_marker_async(self) -> Hashable | None:
        """`change_marker`, for the event loop: PostgreSQL's is read on an asynchronous
        connection of its own, so the loop neither blocks on the network nor hands the
        request to a worker thread."""
        if self._marker_kind != "postgresql":
            return self.change_marker()
        if time.monotonic() < self._marker_retry_at:
            return None
        # Callers share reads: all who ask while one is under way get the next one, which
        # starts after each of them asked (so it sees any change committed before).
        if self._marker_next is None:
            self._marker_next = asyncio.get_running_loop().create_future()
            asyncio.ensure_future(self._marker_round(self._marker_next))
        return await asyncio.shield(self._marker_next)

    async def _marker_round(self, result: asyncio.Future[str | None]) -> None:
        if self._marker_rounds is None:
            self._marker_rounds = asyncio.Lock()
        async with self._marker_rounds:  # one read at a time
            if self._marker_next is result:
                self._marker_next = None  # who asks from now on waits for the next read
            value = None
            try:
                if self._async_marker_conn is None:
                    self._async_marker_conn = await self._connect_async_marker()
                cursor = await self._async_marker_conn.execute(self._marker_sql)
                row = await cursor.fetchone()
                value = str(row[0]) if row is not None else None
            except Exception as e:
                self._marker_failed(e)
                self._close_async_marker()
            finally:
                result.set_result(value)

    async def _connect_async_marker(self) -> psycopg.AsyncConnection[Any]:
        import psycopg  # the PostgreSQL driver we ship

        _, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        return await psycopg.AsyncConnection.connect(**cparams, autocommit=True)

    def _close_async_marker(self) -> None:
        conn, self._async_marker_conn = self._async_marker_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.pgconn.finish()  # closes the socket without the loop

    def _marker_failed(self, error: Exception) -> None:
        log.warning(
            "jupyter_share: could not read the store's change marker (%s); not reusing answers for 30 s",
            error,
        )
        self._marker_retry_at = time.monotonic() + 30

    def _connect_marker(self) -> _MarkerConnection:
        if self._marker_kind == "sqlite":
            assert self.url.database is not None  # _marker_kind is "sqlite" only for a file
            return sqlite3.connect(self.url.database, check_same_thread=False, isolation_level=None)
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        conn = self.engine.dialect.connect(*cargs, **cparams)
        conn.autocommit = True
        # psycopg's connection, which runs SQL on itself (PEP 249 does not say so).
        return cast(_MarkerConnection, conn)
