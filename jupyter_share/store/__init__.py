"""The store: resources, grants, audit rows, requests and known users, persisted with SQLAlchemy.

`ShareStore` (`port.py`) is the interface the service depends on; `SQLStore` implements it on
SQLite and on PostgreSQL with the same SQL. By responsibility:

- `schema.py`, `migrations.py`: the tables, and the numbered steps that build and upgrade them;
- `port.py`: the port;
- `connection.py`: the engine, SQLite's settings (WAL, busy timeout), transactions;
- `queries.py`, `access_requests.py`, `statements.py`: the port's implementation in SQL;
- `changes.py`, `changefeed.py`: seeing changes made by any process (the change marker the
  answer cache compares; the watchers that feed the event streams: SQLite's `data_version`,
  PostgreSQL's LISTEN/NOTIFY).

The store writes what it is told: which audit entry a change gets is the service's choice.
"""

from .connection import SQLConnection, use_wal
from .port import ShareStore
from .queries import SQLStore
from .schema import audit, grants, links, metadata, requests, resources, users

__all__ = [
    "SQLConnection",
    "SQLStore",
    "ShareStore",
    "audit",
    "grants",
    "links",
    "metadata",
    "requests",
    "resources",
    "use_wal",
    "users",
]
