"""Watching the store for changes made anywhere: one watcher per process.

Every change to the store writes one audit row in its transaction (`queries.SQLStore`), so "what
changed" is "which audit rows were committed". A watcher hands each new row, once, to its
listeners as a `Change` (ids, names, the action, who: the history's fields, never a secret):

- `SQLiteFeed`: SQLite has no notifications. One thread reads `PRAGMA data_version` every
  `interval` seconds on a connection of its own (it changes when any other connection, in any
  process, commits; reading it costs microseconds: the WAL index is in shared memory) and, when
  it moved, reads the audit rows past the last one seen. SQLite writers are serialised, so ids
  are committed in order and "past the last one seen" misses nothing.
- `PostgresFeed`: a trigger on `audit` (migration v5) NOTIFYs `jupyter_share_changes` with the
  row, delivered at commit; one thread LISTENs on a connection of its own. Ids of concurrent
  transactions may commit out of order, so the notification itself is the change; after a
  lost connection the rows past the last seen are read again (a change committed during the
  gap with a smaller id than one seen is left to the panel's slow poll).

Each store says which watcher it gets (`ShareStore.change_feed`: `SQLiteStore`'s polls,
`PostgresStore`'s listens; an in-memory SQLite store, one connection in one process, has
nobody else to hear from and gets none); `feed_for(store)` asks it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg  # imported when a PostgreSQL store is watched (`PostgresStore.change_feed`)

    from .port import ShareStore

log = logging.getLogger(__name__)

CHANNEL = "jupyter_share_changes"

_ROWS_AFTER = (
    "SELECT id, resource_id, kind, at, actor, action, principal, permission "
    "FROM audit WHERE id > {p} ORDER BY id LIMIT 1000"
)


@dataclass(frozen=True)
class Change:
    """One committed change: one audit row."""

    id: int
    resource_id: str
    kind: str | None
    actor: str
    action: str
    principal: str | None = None
    permission: str | None = None
    at: datetime | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Change:
        at = row[3]
        if isinstance(at, str):  # SQLite's DateTime as sqlite3 returns it
            with contextlib.suppress(ValueError):
                at = datetime.fromisoformat(at)
        return cls(row[0], row[1], row[2], row[4], row[5], row[6], row[7], at)


Listener = Callable[[list[Change]], None]


class ChangeFeed:
    """The port: start a thread that hands committed changes to `listener`, in commit order,
    each once. The listener runs on the watcher's thread (it may read the store)."""

    def __init__(self, listener: Listener):
        self.listener = listener
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_id = 0
        #: Set once the watcher is watching (changes committed after this are delivered).
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _deliver(self, changes: list[Change]) -> None:
        if not changes:
            return
        self.last_id = max(self.last_id, changes[-1].id)
        try:
            self.listener(changes)
        except Exception:  # a listener's failure must not stop the watcher
            log.exception("jupyter_share: a change feed listener failed")

    def _run(self) -> None:
        raise NotImplementedError


class SQLiteFeed(ChangeFeed):
    def __init__(self, path: str, listener: Listener, interval: float = 0.15):
        super().__init__(listener)
        self.path = path
        self.interval = interval

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        version = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                    if not self.ready.is_set():
                        self.last_id = conn.execute(
                            "SELECT coalesce(max(id), 0) FROM audit"
                        ).fetchone()[0]
                        self.ready.set()
                    else:
                        self._catch_up(conn)
                now = conn.execute("PRAGMA data_version").fetchone()[0]
                if now != version:
                    version = now
                    self._catch_up(conn)
            except sqlite3.Error as e:
                log.warning("jupyter_share: watching the store failed (%s); retrying", e)
                with contextlib.suppress(Exception):
                    if conn is not None:
                        conn.close()
                conn = None
                self._stop.wait(1.0)
                continue
            self._stop.wait(self.interval)
        if conn is not None:
            conn.close()

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        while True:
            rows = conn.execute(_ROWS_AFTER.format(p="?"), (self.last_id,)).fetchall()
            self._deliver([Change.from_row(r) for r in rows])
            if len(rows) < 1000:
                return


class PostgresFeed(ChangeFeed):
    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], listener: Listener):
        """`connect`: a new psycopg 3 connection to the store's database."""
        super().__init__(listener)
        self.connect = connect
        self._conn: psycopg.Connection[Any] | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self._conn = self.connect()
                conn.autocommit = True
                conn.execute(f"LISTEN {CHANNEL}")
                if not self.ready.is_set():
                    row = conn.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()
                    assert row is not None  # an aggregate: always one row
                    self.last_id = row[0]
                    self.ready.set()
                else:  # what was committed while the connection was lost
                    rows = conn.execute(_ROWS_AFTER.format(p="%s"), (self.last_id,)).fetchall()
                    self._deliver([Change.from_row(r) for r in rows])
                while not self._stop.is_set():
                    # Each notification as it comes; the generator ends after a second of
                    # listening, to see `stop`.
                    for notification in conn.notifies(timeout=1.0):
                        change = self._parse(notification.payload)
                        if change is not None:
                            self._deliver([change])
                        if self._stop.is_set():
                            break
            except Exception as e:
                if self._stop.is_set():
                    break
                log.warning("jupyter_share: listening to the store failed (%s); retrying", e)
                self._stop.wait(1.0)
            finally:
                with contextlib.suppress(Exception):
                    if self._conn is not None:
                        self._conn.close()
                self._conn = None

    @staticmethod
    def _parse(payload: str) -> Change | None:
        try:
            d = json.loads(payload)
            at = datetime.fromisoformat(d["at"]) if d.get("at") else None
            return Change(
                int(d["id"]),
                d["resource_id"],
                d.get("kind"),
                d["actor"],
                d["action"],
                d.get("principal"),
                d.get("permission"),
                at,
            )
        except (ValueError, KeyError, TypeError):
            log.warning("jupyter_share: ignoring a malformed change notification")
            return None


def feed_for(store: ShareStore, listener: Listener, interval: float = 0.15) -> ChangeFeed | None:
    """The watcher for `store`, not started; None if nobody else can change it (or the store
    cannot be watched)."""
    return store.change_feed(listener, interval)
