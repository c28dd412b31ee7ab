"""Which implementation of the store a URL opens: the one place that maps a `db_url` to its
class (`ShareApp.store_class` and `ShareServiceApp.store_class` default to `SQLStore`, whose
constructor asks here; `open_store` says the same in a function)."""

from __future__ import annotations

from typing import Any

from .connection import URL_FORMS, UnsupportedStoreURL, parse_store_url, shown
from .postgres import PostgresStore
from .queries import SQLStore
from .sqlite import SQLiteStore

#: SQLAlchemy's name of a URL's database (its scheme before any `+driver`) -> the store.
IMPLEMENTATIONS: dict[str, type[SQLStore]] = {
    SQLiteStore.backend: SQLiteStore,
    PostgresStore.backend: PostgresStore,
}


def store_class_for(url: str) -> type[SQLStore]:
    """The implementation that opens `url`; `UnsupportedStoreURL` (a `ValueError` saying
    which URLs work, never the password) for any other."""
    parsed = parse_store_url(url)
    found = IMPLEMENTATIONS.get(parsed.get_backend_name())
    if found is None:
        raise UnsupportedStoreURL(
            f"jupyter_share keeps its store in SQLite or PostgreSQL, not at {shown(parsed)}: "
            f"give {URL_FORMS}"
        )
    return found


def open_store(url: str, **options: Any) -> SQLStore:
    """The store at `url`, opened by its implementation (`options`: `busy_timeout_ms`, `echo`)."""
    return store_class_for(url)(url, **options)
