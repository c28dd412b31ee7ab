"""The store on SQLite (`SQLiteStore`), the embedded default: a file under the Jupyter data
dir, shared by the servers of one machine.

What SQLite needs that PostgreSQL does not: WAL and a busy timeout, so that readers never wait
and writers of other processes queue; `BEGIN IMMEDIATE` for writes, and one lock for the
writers of this process; a change marker (`data_version`) and a watcher that polls it
(`changefeed.SQLiteFeed`), since SQLite has no notifications. An in-memory store (`sqlite://`)
has one connection in one process: nobody else can change it, so it has neither.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import event
from sqlalchemy.engine import Connection

from .changefeed import ChangeFeed, Listener, SQLiteFeed
from .changes import MarkerConnection
from .queries import SQLStore


def use_wal(dbapi_conn: sqlite3.Connection, timeout: float) -> None:
    """Put an SQLite file in WAL mode. The conversion takes the file exclusively and SQLite
    does not run the busy handler for it, so servers opening a fresh store together can be
    told "database is locked" at once: retry within the busy timeout. WAL is a property of
    the file, so once converted this is one read and takes no lock."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            if dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            # A refused conversion may also just answer the old mode.
            if dbapi_conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal":
                return
            refusal = sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            refusal = err
        if time.monotonic() + pause > deadline:
            raise refusal
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


class SQLiteStore(SQLStore):
    """The store in an SQLite file (or in memory): `sqlite:///PATH`, `sqlite://`."""

    backend: ClassVar[str] = "sqlite"
    #: Changes when any other connection, in any process, commits (it reads the WAL index in
    #: shared memory: microseconds).
    _marker_sql = "PRAGMA data_version"

    @property
    def path(self) -> str | None:
        """The file, or None for a store in memory."""
        database = self.url.database
        return None if database in (None, "", ":memory:") else database

    def _engine_options(self, busy_timeout_ms: int) -> dict[str, Any]:
        return {"connect_args": {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}}

    def _configure(self, busy_timeout_ms: int) -> None:
        # This process's writers queue here, woken at once, rather than in SQLite's busy
        # handler, which polls with sleeps of 1 to 100 ms. (Other processes still wait in the
        # busy handler.)
        self._write_lock = threading.Lock()
        path = self.path
        if path is not None:  # SQLite makes the file, not its folder
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            # Take transaction control from the driver so writes can BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            if path is not None:
                use_wal(dbapi_conn, busy_timeout_ms / 1000)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # A write takes the lock up front: a deferred transaction that upgrades to a
            # writer can fail with "database is locked" without waiting on busy_timeout.
            mode = "IMMEDIATE" if conn.get_execution_options().get("share_write") else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

    # -- seeing changes ------------------------------------------------------------------------

    def change_marker(self) -> Hashable | None:
        """`data_version`, with the marker's connection: it is counted per connection. None
        for a store in memory, which only its one connection changes."""
        if self.path is None:
            return None
        return super().change_marker()

    def _connect_marker(self) -> MarkerConnection:
        assert self.path is not None  # `change_marker` asks only for a file
        return sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)

    def _read_marker(self, conn: MarkerConnection) -> Hashable:
        return (self._marker_generation, conn.execute(self._marker_sql).fetchone()[0])

    def change_feed(self, listener: Listener, interval: float = 0.15) -> ChangeFeed | None:
        path = self.path
        return SQLiteFeed(path, listener, interval) if path is not None else None
