"""The store's connection to its database: the engine, transactions, and what a URL must be.

`SQLConnection` is what both implementations share: the engine of their URL, the schema
brought up to date, `reading()` (the reads of one request in one transaction) and writes.
What differs by database is asked of the implementation through a few hooks
(`_engine_options`, `_configure`, `_write_lock`, the change marker's in `changes.py`):
SQLite's in `sqlite.py`, PostgreSQL's in `postgres.py`.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ClassVar

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from . import migrations
from .changes import ChangeTracking

#: What to write instead, said by every refusal of a URL.
URL_FORMS = (
    "sqlite:///PATH (a file; sqlite:// keeps it in memory) or "
    "postgresql://USER:PASSWORD@HOST/DATABASE (psycopg 3)"
)


class UnsupportedStoreURL(ValueError):
    """A store URL that no implementation opens, or not the one this implementation opens. Its
    message names the URL without its password, and the forms that work."""


def parse_store_url(url: str | URL) -> URL:
    """The parsed URL, or `UnsupportedStoreURL` saying what was expected (without echoing a
    string that may hold a password: an unparsable one is not shown)."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise UnsupportedStoreURL(
            f"the store URL is not a database URL: give {URL_FORMS}"
        ) from None


def shown(url: URL) -> str:
    """The URL for a message or a log line: its password hidden."""
    return url.render_as_string(hide_password=True)


class SQLConnection(ChangeTracking):
    """The engine of a URL of this implementation's database, its schema brought up to date,
    and transactions."""

    #: SQLAlchemy's name of the database this implementation opens (a URL's scheme before
    #: any `+driver`).
    backend: ClassVar[str]
    #: What writers of this process queue on before they start (none by default; SQLite's
    #: own lock, see `sqlite.py`).
    _write_lock: AbstractContextManager[Any] = nullcontext()

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False):
        parsed = parse_store_url(url)
        if parsed.get_backend_name() != self.backend:
            raise UnsupportedStoreURL(
                f"{type(self).__name__} opens {self.backend} URLs only, not {shown(parsed)}: "
                f"give a {self.backend} URL, or leave store_class to jupyter_share.store.SQLStore "
                "(it opens the store the URL names)"
            )
        self.url = self._driver_url(parsed)
        self.engine: Engine = create_engine(
            self.url, echo=echo, future=True, **self._engine_options(busy_timeout_ms)
        )
        # The connection of this thread's `reading()` block, if one is open.
        self._local = threading.local()
        self._configure(busy_timeout_ms)
        migrations.upgrade(self.engine)
        self._track_changes()

    # -- what each database says ---------------------------------------------------------------

    def _driver_url(self, url: URL) -> URL:
        """The URL with the driver this implementation uses."""
        return url

    @abc.abstractmethod
    def _engine_options(self, busy_timeout_ms: int) -> dict[str, Any]:
        """`create_engine`'s options for this database."""

    def _configure(self, busy_timeout_ms: int) -> None:  # noqa: B027 (optional hook)
        """Set up the engine before the schema is upgraded (its events, locks)."""

    # -- transactions --------------------------------------------------------------------------

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
        with self._write_lock:
            with self.engine.connect() as conn:
                conn = conn.execution_options(share_write=True)
                with conn.begin():
                    yield conn

    def close(self) -> None:
        self.engine.dispose()
        self._close_markers()
