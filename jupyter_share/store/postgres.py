"""The store on PostgreSQL (`PostgresStore`), with psycopg 3: for several share service
replicas, or a workstation's servers on one database.

What PostgreSQL needs that SQLite does not: the driver we ship and test named in the URL
(`postgresql://` and `postgresql+psycopg2://` open with psycopg 3); connections checked before
use (a pooled one may have been closed by the server); a change marker (the WAL insert
position) that the event loop reads on an asynchronous connection, never blocking; and a
watcher that LISTENs for migration v5's NOTIFY (`changefeed.PostgresFeed`). Writers queue on
row locks (`FOR UPDATE`), not on a lock of this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy.engine import URL

from .changefeed import ChangeFeed, Listener, PostgresFeed
from .changes import MarkerConnection
from .queries import SQLStore

if TYPE_CHECKING:
    import psycopg  # the PostgreSQL driver: an optional dependency, imported where it is used


class PostgresStore(SQLStore):
    """The store in a PostgreSQL database: `postgresql://USER:PASSWORD@HOST/DATABASE`."""

    backend: ClassVar[str] = "postgresql"
    #: Moves with every commit (and with other activity of the cluster, which only costs a
    #: reuse). Read before an answer is computed, a change committed meanwhile moves it past
    #: the answer's marker.
    _marker_sql = "SELECT pg_current_wal_insert_lsn()"

    def _driver_url(self, url: URL) -> URL:
        if url.get_driver_name() in ("", "psycopg2"):
            return url.set(drivername="postgresql+psycopg")  # psycopg 3: what we ship and test
        return url

    def _engine_options(self, busy_timeout_ms: int) -> dict[str, Any]:
        return {"pool_pre_ping": True}

    def _connect_params(self) -> dict[str, Any]:
        _, params = self.engine.dialect.create_connect_args(self.engine.url)
        return dict(params)

    # -- seeing changes ------------------------------------------------------------------------

    def _track_changes(self) -> None:
        super()._track_changes()
        self._async_marker_conn: psycopg.AsyncConnection[Any] | None = None
        # The read that has not started yet, and one read at a time.
        self._marker_next: asyncio.Future[str | None] | None = None
        self._marker_rounds: asyncio.Lock | None = None

    def _close_markers(self) -> None:
        self._close_async_marker()
        super()._close_markers()

    def _connect_marker(self) -> MarkerConnection:
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        conn = self.engine.dialect.connect(*cargs, **cparams)
        conn.autocommit = True
        # psycopg's connection, which runs SQL on itself (PEP 249 does not say so).
        return cast(MarkerConnection, conn)

    def _read_marker(self, conn: MarkerConnection) -> Hashable:
        # The cluster's position: the same whichever connection reads it.
        return str(conn.execute(self._marker_sql).fetchone()[0])

    async def change_marker_async(self) -> Hashable | None:
        """Read on an asynchronous connection of its own, so the loop neither blocks on the
        network nor hands the request to a worker thread."""
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

        return await psycopg.AsyncConnection.connect(**self._connect_params(), autocommit=True)

    def _close_async_marker(self) -> None:
        conn, self._async_marker_conn = self._async_marker_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.pgconn.finish()  # closes the socket without the loop

    def change_feed(self, listener: Listener, interval: float = 0.15) -> ChangeFeed | None:
        """Notifications come as they are committed: `interval` is not needed."""
        params = self._connect_params()

        def connect() -> psycopg.Connection[Any]:
            import psycopg  # the PostgreSQL driver we ship

            return psycopg.connect(**params, autocommit=True)

        return PostgresFeed(connect, listener)
