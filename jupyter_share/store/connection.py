"""The store's connection to its database: the engine, SQLite's settings, and transactions.

On SQLite (the embedded default): WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for
writes so concurrent writers queue instead of failing; on PostgreSQL (psycopg 3) the same SQL.
`reading()` lets the service put the reads of one request in one transaction.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url

from . import migrations
from .changes import ChangeTracking


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


class SQLConnection(ChangeTracking):
    """The engine of any SQLAlchemy URL, its schema brought up to date, and transactions."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False):
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.url.get_backend_name() == "postgresql" and self.url.get_driver_name() in (
            "",
            "psycopg2",
        ):
            # psycopg 3 is the driver we ship and test.
            self.url = self.url.set(drivername="postgresql+psycopg")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        # The connection of this thread's `reading()` block, if one is open.
        self._local = threading.local()
        # SQLite: this process's writers queue here, woken at once, rather than in SQLite's
        # busy handler, which polls with sleeps of 1 to 100 ms. (Other processes still wait
        # in the busy handler; PostgreSQL queues on row locks.)
        self._write_lock: threading.Lock | None = threading.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            self._configure_sqlite(busy_timeout_ms)
        migrations.upgrade(self.engine)
        self._track_changes()

    def _configure_sqlite(self, busy_timeout_ms: int) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            # Take transaction control from the driver so writes can BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            if self.url.database not in (None, "", ":memory:"):
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

    @contextmanager
    def reading(self) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:
            yield  # nested: the outer block's transaction
            return
        with self.engine.connect() as conn:
            with conn.begin():
                self._local.conn = conn
                try:
                    yield
                finally:
                    self._local.conn = None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        shared = getattr(self._local, "conn", None)
        if shared is not None:
            yield shared
            return
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_lock or nullcontext():
            with self.engine.connect() as conn:
                conn = conn.execution_options(share_write=True)
                with conn.begin():
                    yield conn

    def close(self) -> None:
        self.engine.dispose()
        self._close_markers()
