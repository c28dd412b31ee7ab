"""The store: resources, grants, audit rows, requests and known users, persisted with SQLAlchemy.

`ShareStore` (`port.py`) is the interface the service depends on. It has two implementations,
chosen by the URL (`urls.py`): `SQLiteStore` (`sqlite:///PATH`, the embedded default) and
`PostgresStore` (`postgresql://...`). `SQLStore(url)` opens the one its URL names. By
responsibility:

- `schema.py`, `migrations.py`: the tables, and the numbered steps that build and upgrade them;
- `port.py`: the port;
- `connection.py`: the engine and transactions, shared by both;
- `queries.py`, `access_requests.py`, `statements.py`: the port in SQL, shared by both
  (`SQLStore`);
- `sqlite.py`, `postgres.py`: what each database needs of its own (SQLite: WAL, the busy
  timeout, one writer at a time; PostgreSQL: the driver, an asynchronous change marker),
  and how each sees changes made elsewhere;
- `changes.py`, `changefeed.py`: seeing changes made by any process (the change marker the
  answer cache compares; the watchers that feed the event streams: SQLite's `data_version`,
  PostgreSQL's LISTEN/NOTIFY).

The store writes what it is told: which audit entry a change gets is the service's choice.
"""

from .connection import SQLConnection, UnsupportedStoreURL
from .port import ShareStore
from .postgres import PostgresStore
from .queries import SQLStore
from .schema import audit, grants, links, metadata, requests, resources, users
from .sqlite import SQLiteStore, use_wal
from .urls import IMPLEMENTATIONS, open_store, store_class_for

__all__ = [
    "IMPLEMENTATIONS",
    "PostgresStore",
    "SQLConnection",
    "SQLStore",
    "SQLiteStore",
    "ShareStore",
    "UnsupportedStoreURL",
    "audit",
    "grants",
    "links",
    "metadata",
    "open_store",
    "requests",
    "resources",
    "store_class_for",
    "use_wal",
    "users",
]
