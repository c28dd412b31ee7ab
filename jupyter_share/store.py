"""The store port: resources, grants, audit rows and known users, persisted with SQLAlchemy.

`ShareStore` is the interface the service depends on; `SQLStore` implements it on SQLite (the
embedded default: WAL, busy timeout, foreign keys, `BEGIN IMMEDIATE` for writes so concurrent
writers queue instead of failing) and on PostgreSQL (psycopg 3) with the same SQL. Every write
method takes the audit entry of its change and writes both in one transaction.

Requests are answered in a few milliseconds, and most of that is Python, not the database: the
statements of the hot paths are built once with bound parameters, a list is one statement
(`list_page`), and `reading()` lets the service put the reads of one request in one transaction.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from . import migrations
from .model import (
    AccessRequest,
    AuditEntry,
    Conflict,
    Grant,
    Kind,
    Link,
    NotFound,
    Permission,
    Principal,
    PrincipalType,
    Resource,
    utcnow,
)

if TYPE_CHECKING:
    import psycopg  # the PostgreSQL driver: an optional dependency, imported where it is used

log = logging.getLogger(__name__)

metadata = MetaData()

# The tables as the newest schema has them; `migrations` builds and upgrades them.
resources = Table(
    "resources",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("spec", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("owner", "kind", "name", name="uq_resources_owner_kind_name"),
    Index("ix_resources_owner_kind_created", "owner", "kind", "created_at"),
)

grants = Table(
    "grants",
    metadata,
    Column(
        "resource_id", String(32), ForeignKey("resources.id", ondelete="CASCADE"), nullable=False
    ),
    Column("principal_type", String(8), nullable=False),
    Column("principal_name", String(128), nullable=False),
    Column("permission", Integer, nullable=False),
    Column("granted_by", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=True),
    PrimaryKeyConstraint("resource_id", "principal_type", "principal_name", name="pk_grants"),
    Index("ix_grants_principal", "principal_type", "principal_name", "resource_id"),
    Index("ix_grants_expires_at", "expires_at"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String(32), nullable=False),
    Column("kind", String(16), nullable=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("principal", String(140), nullable=True),
    Column("permission", String(16), nullable=True),
    Column("address", String(64), nullable=True),
    Index("ix_audit_resource", "resource_id", "id"),
    Index("ix_audit_at", "at"),
)

links = Table(
    "links",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("resource_id", String(32), nullable=False),
    Column("principal_type", String(8), nullable=False),
    Column("principal_name", String(128), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_links_grant", "resource_id", "principal_type", "principal_name"),
)

requests = Table(
    "requests",
    metadata,
    Column(
        "resource_id", String(32), ForeignKey("resources.id", ondelete="CASCADE"), nullable=False
    ),
    Column("requester", String(128), nullable=False),
    Column("permission", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    PrimaryKeyConstraint("resource_id", "requester", name="pk_requests"),
    Index("ix_requests_requester", "requester"),
)

users = Table(
    "users",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
)


class ShareStore(abc.ABC):
    """What the service needs from persistence. Datetimes are naive UTC."""

    @abc.abstractmethod
    def create_resource(self, resource: Resource, entry: AuditEntry) -> Resource:
        """Insert; raise Conflict if the owner has one of this kind and name."""

    @abc.abstractmethod
    def get_resource(self, resource_id: str) -> Resource | None: ...

    @abc.abstractmethod
    def find_resource(self, owner: str, kind: Kind, name: str) -> Resource | None: ...

    @abc.abstractmethod
    def update_resource(
        self, resource: Resource, entry: AuditEntry, if_updated_at: datetime | None = None
    ) -> Resource:
        """Write name, description, spec and updated_at; raise Conflict on a duplicate name,
        or when `if_updated_at` is given and the stored row was updated since."""

    @abc.abstractmethod
    def delete_resource(self, resource_id: str, entry: AuditEntry) -> None:
        """Delete the resource and its grants."""

    @abc.abstractmethod
    def list_resources(
        self,
        user: str,
        principals: Sequence[Principal],
        kind: Kind | None,
        owned: bool,
        shared: bool,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[Resource], int]:
        """Resources `user` owns (if owned) or any of `principals` holds a live grant on
        (if shared, excluding the user's own), newest first, and their total."""

    def list_page(
        self,
        user: str,
        principals: Sequence[Principal],
        kind: Kind | None,
        owned: bool,
        shared: bool,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[Resource], int, dict[str, list[Grant]], dict[str, int]]:
        """`list_resources`, with what a list shows of each item: the live grants that
        `principals` hold on the items `user` does not own (if shared), and every item's
        number of live grants. A store may answer it in one statement; this default asks
        the other methods."""
        items, total = self.list_resources(
            user, principals, kind, owned, shared, now, offset, limit
        )
        held = (
            self.grants_for_principals([r.id for r in items if r.owner != user], principals, now)
            if shared
            else {}
        )
        counts = self.share_counts([r.id for r in items], now)
        return items, total, held, counts

    @abc.abstractmethod
    def resources_of_kind(self, kind: Kind, limit: int = 10_000) -> list[Resource]:
        """Every resource of `kind`, whoever owns it (for the server's own housekeeping)."""

    @abc.abstractmethod
    def live_grants(self, resource_id: str, now: datetime) -> list[Grant]: ...

    @abc.abstractmethod
    def grants_for_principals(
        self, resource_ids: Sequence[str], principals: Sequence[Principal], now: datetime
    ) -> dict[str, list[Grant]]:
        """The live grants that any of `principals` holds on each of `resource_ids`."""

    @abc.abstractmethod
    def share_counts(self, resource_ids: Sequence[str], now: datetime) -> dict[str, int]: ...

    @abc.abstractmethod
    def get_grant(self, resource_id: str, principal: Principal, now: datetime) -> Grant | None:
        """The principal's live grant on the resource, if any."""

    @abc.abstractmethod
    def put_grant(self, grant: Grant, entry: AuditEntry, link: Link | None = None) -> bool:
        """Insert or replace the principal's grant; True if there was no live one before.
        A new grant drops the links of an old, expired one; `link`, if given with a new grant,
        is stored with it."""

    @abc.abstractmethod
    def replace_link(self, link: Link, entry: AuditEntry) -> None:
        """Store `link` as the only link of its grantee on its resource."""

    @abc.abstractmethod
    def get_link(self, link_id: str) -> Link | None: ...

    @abc.abstractmethod
    def live_links(self, link_ids: Sequence[str], now: datetime) -> dict[str, Permission]:
        """For each link whose grant is live: the grant's permission."""

    @abc.abstractmethod
    def delete_grant(self, resource_id: str, principal: Principal, entry: AuditEntry) -> bool: ...

    @abc.abstractmethod
    def purge_expired(self, now: datetime) -> list[Grant]:
        """Delete the grants that expired by `now`, each with an `expire` audit row."""

    @abc.abstractmethod
    def history(
        self,
        resource_id: str,
        offset: int = 0,
        limit: int = 1000,
        people: Sequence[str] | None = None,
        principals: Sequence[str] | None = None,
        actions: Sequence[str] | None = None,
    ) -> tuple[list[AuditEntry], int]:
        """A page of a resource's rows, oldest first, and how many match. `people`: only
        rows whose actor is one of these names or whose principal is one of these
        (`user:NAME`, `group:NAME`); `principals`: only rows whose principal is one of these;
        `actions`: only rows of these actions. None: no such filter."""

    def add_history(self, entry: AuditEntry) -> None:
        """Add a row that comes with no other change (a sign-in by personal link)."""
        raise NotImplementedError

    def purge_history(self, before: datetime) -> int:
        """Delete the rows older than `before`, except each grantee's last `share` row on a
        resource that still exists (it says who made the grant: `ShareService.share` asks);
        how many went."""
        return 0

    def grantees(
        self, resource_ids: Sequence[str], now: datetime, per_resource: int
    ) -> dict[str, list[Grant]]:
        """Up to `per_resource` live grants of each resource, users first, by name."""
        found: dict[str, list[Grant]] = {}
        for rid in resource_ids:
            live = sorted(
                self.live_grants(rid, now),
                key=lambda g: (g.principal.type != PrincipalType.USER, g.principal.name),
            )
            if live:
                found[rid] = live[:per_resource]
        return found

    # -- requests for more ------------------------------------------------------------------

    @abc.abstractmethod
    def put_request(self, request: AccessRequest, entry: AuditEntry) -> None:
        """Open a request; raise Conflict if the user has an open one on the resource, NotFound
        if the resource is gone."""

    @abc.abstractmethod
    def get_request(self, resource_id: str, requester: str) -> AccessRequest | None: ...

    @abc.abstractmethod
    def open_requests(self, resource_id: str) -> list[AccessRequest]:
        """The open requests on a resource, oldest first."""

    @abc.abstractmethod
    def close_request(self, resource_id: str, requester: str, entry: AuditEntry) -> bool:
        """Close (delete) an open request with the audit row of how it closed; False if there
        was none."""

    @abc.abstractmethod
    def requests_to_decide(
        self, user: str, principals: Sequence[Principal], now: datetime, limit: int
    ) -> list[tuple[AccessRequest, Resource]]:
        """Open requests on the resources `user` owns or that any of `principals` holds a live
        manage grant on (not the user's own requests), oldest first."""

    @abc.abstractmethod
    def requests_by(self, requester: str, limit: int) -> list[tuple[AccessRequest, Resource]]:
        """The user's own open requests, oldest first."""

    @abc.abstractmethod
    def touch_user(self, name: str, now: datetime) -> None:
        """Remember that `name` uses this store (the standalone directory lists them)."""

    @abc.abstractmethod
    def known_users(self, prefix: str = "", limit: int = 50) -> list[str]: ...

    @abc.abstractmethod
    def user_is_known(self, name: str) -> bool: ...

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections."""

    def change_marker(self) -> Hashable | None:
        """A value that changes whenever anyone (this process or another on the same store)
        commits a change, or None when the store cannot tell cheaply: answers computed
        under one marker may be reused while it stays the same (`answers.AnswerCache`)."""
        return None

    async def change_marker_async(self) -> Hashable | None:
        """`change_marker`, on the event loop without blocking it."""
        return None

    def next_expiry(self, now: datetime) -> datetime | None:
        """When the first grant still live at `now` expires (None: none does)."""
        return None

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """A context in which this thread's reads share one transaction (a consistent view
        and one round of connect/BEGIN/COMMIT instead of one per read). Writes inside it
        are not seen by its reads. The default does nothing."""
        return nullcontext()


def _duplicate_name(resource: Resource) -> Conflict:
    article = "an" if resource.kind.noun[0] in "aeiou" else "a"
    return Conflict(
        f"{resource.owner} already has {article} {resource.kind.noun} named {resource.name!r}",
        field="name",
    )


def _row_to_resource(row: Sequence[Any]) -> Resource:
    rid, kind, name, owner, description, spec, created_at, updated_at = row[:8]
    return Resource(
        rid, _KINDS[kind], name, owner, description or "", spec or {}, created_at, updated_at
    )


def _row_to_grant(row: Sequence[Any]) -> Grant:
    resource_id, principal_type, principal_name, permission, granted_by, created_at, expires_at = (
        row[:7]
    )
    return Grant(
        resource_id,
        Principal(_PRINCIPAL_TYPES[principal_type], principal_name),
        _PERMISSIONS[permission],
        granted_by,
        created_at,
        expires_at,
    )


def _link_key(resource_id: str, principal: Principal) -> tuple[ColumnElement[bool], ...]:
    return (
        links.c.resource_id == resource_id,
        links.c.principal_type == principal.type.value,
        links.c.principal_name == principal.name,
    )


def _lock_resource(conn: Connection, resource_id: str) -> bool:
    """Lock the resource's row for this write transaction (FOR UPDATE on PostgreSQL; SQLite
    writers hold the database's write lock already); False if it does not exist."""
    return conn.execute(_LOCK_RESOURCE, {"id": resource_id}).first() is not None


def _audit_values(entry: AuditEntry) -> dict[str, Any]:
    return {
        "resource_id": entry.resource_id,
        "kind": entry.kind.value if entry.kind else None,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "principal": entry.principal,
        "permission": entry.permission,
        "address": entry.address,
    }


def _row_to_request(row: Sequence[Any]) -> AccessRequest:
    resource_id, requester, permission, message, created_at = row[:5]
    return AccessRequest(
        resource_id, requester, _PERMISSIONS[permission], message or "", created_at
    )


def _link_values(link: Link) -> dict[str, Any]:
    return {
        "id": link.id,
        "resource_id": link.resource_id,
        "principal_type": "user",
        "principal_name": link.username,
        "secret_hash": link.secret_hash,
        "created_by": link.created_by,
        "created_at": link.created_at,
    }


def _resource_values(resource: Resource) -> dict[str, Any]:
    return {
        "name": resource.name,
        "description": resource.description,
        "spec": resource.spec,
        "updated_at": resource.updated_at,
    }


# -- statements built once --------------------------------------------------------------------
# Building a statement costs more than running it on an indexed table (and a new statement
# object means a new cache key); the hot ones are built here once, with bound parameters.

_KINDS = {k.value: k for k in Kind}
_PERMISSIONS = {int(p): p for p in Permission}
_PRINCIPAL_TYPES = {t.value: t for t in PrincipalType}

_LIVE = or_(grants.c.expires_at.is_(None), grants.c.expires_at > bindparam("now", type_=DateTime))
_GET_RESOURCE = select(resources).where(resources.c.id == bindparam("id"))
_LOCK_RESOURCE = select(resources.c.id).where(resources.c.id == bindparam("id")).with_for_update()
_GRANT_KEY = (
    grants.c.resource_id == bindparam("resource_id"),
    grants.c.principal_type == bindparam("principal_type"),
    grants.c.principal_name == bindparam("principal_name"),
)
_GET_GRANT = select(grants).where(*_GRANT_KEY)
_GET_LIVE_GRANT = select(grants).where(*_GRANT_KEY, _LIVE)
_INSERT_GRANT = insert(grants)
_UPDATE_GRANT = update(grants).where(
    grants.c.resource_id == bindparam("k_resource_id"),
    grants.c.principal_type == bindparam("k_principal_type"),
    grants.c.principal_name == bindparam("k_principal_name"),
)
_INSERT_AUDIT = insert(audit)
_INSERT_LINK = insert(links)
_DELETE_LINKS_OF_GRANT = delete(links).where(
    links.c.resource_id == bindparam("resource_id"),
    links.c.principal_type == bindparam("principal_type"),
    links.c.principal_name == bindparam("principal_name"),
)
_LIVE_GRANTS = (
    select(grants)
    .where(grants.c.resource_id == bindparam("id"), _LIVE)
    .order_by(grants.c.created_at, grants.c.principal_type, grants.c.principal_name)
)
_SHARE_COUNTS = (
    select(grants.c.resource_id, func.count())
    .where(grants.c.resource_id.in_(bindparam("ids", expanding=True)), _LIVE)
    .group_by(grants.c.resource_id)
)
# The live grants of some resources (users first, by name), for the badge of a list. A
# window function (row_number) capped them in SQL but cost SQLite twice the time of this
# (benchmarks/list_grantees.py); the cap is applied while reading the rows.
_GRANTEES = (
    select(grants)
    .where(grants.c.resource_id.in_(bindparam("ids", expanding=True)), _LIVE)
    .order_by(grants.c.resource_id, grants.c.principal_type.desc(), grants.c.principal_name)
)
_USER_IS_KNOWN = select(users.c.name).where(users.c.name == bindparam("name"))
_LIVE_LINKS = (
    select(links.c.id, grants.c.permission)
    .join(
        grants,
        and_(
            grants.c.resource_id == links.c.resource_id,
            grants.c.principal_type == links.c.principal_type,
            grants.c.principal_name == links.c.principal_name,
        ),
    )
    .where(links.c.id.in_(bindparam("ids", expanding=True)), _LIVE)
)


def _held(has_users: bool, has_groups: bool) -> ColumnElement[bool]:
    """Grants of the principals in the parameters `p_users` and `p_groups` (one variant per
    non-empty list: an empty IN would cost the index its use on some planners)."""
    terms = []
    if has_users:
        terms.append(
            and_(
                grants.c.principal_type == "user",
                grants.c.principal_name.in_(bindparam("p_users", expanding=True)),
            )
        )
    if has_groups:
        terms.append(
            and_(
                grants.c.principal_type == "group",
                grants.c.principal_name.in_(bindparam("p_groups", expanding=True)),
            )
        )
    return or_(*terms)


def _principal_params(principals: Iterable[Principal]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {"p_users": [], "p_groups": []}
    for p in principals:
        params["p_users" if p.type == PrincipalType.USER else "p_groups"].append(p.name)
    return params


#: Statements (and tuples of them) of several shapes, each under the key of its shape.
_statement_cache: dict[Hashable, object] = {}

_Statement = TypeVar("_Statement")


def _cached(key: Hashable, build: Callable[[], _Statement]) -> _Statement:
    statement = _statement_cache.get(key)
    if statement is None:
        statement = _statement_cache[key] = build()
    # What `build` made for this key, so of the type it returns.
    return cast(_Statement, statement)


def _held_on_statement(has_users: bool, has_groups: bool) -> Select[Any]:
    return _cached(
        ("held_on", has_users, has_groups),
        lambda: select(grants).where(
            grants.c.resource_id.in_(bindparam("ids", expanding=True)),
            _held(has_users, has_groups),
            _LIVE,
        ),
    )


def _list_statements(
    owned: bool, has_users: bool, has_groups: bool, by_kind: bool
) -> tuple[Select[Any], Select[Any]]:
    """(count, page) of `list_resources` for one shape of the question."""

    def build() -> tuple[Select[Any], Select[Any]]:
        conditions = []
        if owned:
            conditions.append(resources.c.owner == bindparam("user"))
        if has_users or has_groups:
            shared_ids = select(grants.c.resource_id).where(_held(has_users, has_groups), _LIVE)
            conditions.append(
                and_(resources.c.id.in_(shared_ids), resources.c.owner != bindparam("user"))
            )
        where = [or_(*conditions)]
        if by_kind:
            where.append(resources.c.kind == bindparam("kind"))
        count = select(func.count()).select_from(resources).where(*where)
        page = (
            select(resources)
            .where(*where)
            .order_by(resources.c.created_at.desc(), resources.c.id)
            .offset(bindparam("offset"))
            .limit(bindparam("limit"))
        )
        return count, page

    return _cached(("list", owned, has_users, has_groups, by_kind), build)


def _list_page_statement(
    owned: bool, has_users: bool, has_groups: bool, by_kind: bool
) -> Select[Any]:
    """The page of `list_resources` with each item's live grant count and, when shared
    items are asked for, the caller's live grants on each item (LEFT JOIN: one row per
    item and grant, items without one once): all that a list shows, in one statement."""

    def build() -> Select[Any]:
        _, page = _list_statements(owned, has_users, has_groups, by_kind)
        counted = grants.alias("counted")
        share_count = (
            select(func.count())
            .where(
                counted.c.resource_id == resources.c.id,
                or_(
                    counted.c.expires_at.is_(None),
                    counted.c.expires_at > bindparam("now", type_=DateTime),
                ),
            )
            .scalar_subquery()
        )
        paged = page.add_columns(share_count.label("share_count")).subquery("page")
        order = (paged.c.created_at.desc(), paged.c.id)
        if not (has_users or has_groups):
            return select(paged).order_by(*order)
        held = grants.alias("held")
        terms = []
        if has_users:
            terms.append(
                and_(
                    held.c.principal_type == "user",
                    held.c.principal_name.in_(bindparam("p_users", expanding=True)),
                )
            )
        if has_groups:
            terms.append(
                and_(
                    held.c.principal_type == "group",
                    held.c.principal_name.in_(bindparam("p_groups", expanding=True)),
                )
            )
        on = and_(
            held.c.resource_id == paged.c.id,
            or_(*terms),
            or_(held.c.expires_at.is_(None), held.c.expires_at > bindparam("now", type_=DateTime)),
        )
        return select(paged, *held.c).select_from(paged.outerjoin(held, on)).order_by(*order)

    return _cached(("list_page", owned, has_users, has_groups, by_kind), build)


def _grant_params(resource_id: str, principal: Principal) -> dict[str, str]:
    return {
        "resource_id": resource_id,
        "principal_type": principal.type.value,
        "principal_name": principal.name,
    }


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


class _MarkerCursor(Protocol):
    def fetchone(self) -> Any: ...


class _MarkerConnection(Protocol):
    """The change marker's connection: sqlite3's or psycopg's, both run SQL on themselves."""

    def execute(self, sql: str, /) -> _MarkerCursor: ...

    def close(self) -> None: ...


class SQLStore(ShareStore):
    """The store on any SQLAlchemy URL; tested on SQLite and PostgreSQL."""

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

    def next_expiry(self, now: datetime) -> datetime | None:
        with self._read() as conn:
            return conn.execute(
                select(func.min(grants.c.expires_at)).where(grants.c.expires_at > now)
            ).scalar()

    # -- resources -------------------------------------------------------------------------

    def create_resource(self, resource: Resource, entry: AuditEntry) -> Resource:
        try:
            with self._write() as conn:
                conn.execute(
                    insert(resources).values(
                        id=resource.id,
                        kind=resource.kind.value,
                        owner=resource.owner,
                        created_at=resource.created_at,
                        **_resource_values(resource),
                    )
                )
                conn.execute(insert(audit).values(**_audit_values(entry)))
        except IntegrityError:
            raise _duplicate_name(resource) from None
        return resource

    def get_resource(self, resource_id: str) -> Resource | None:
        with self._read() as conn:
            row = conn.execute(_GET_RESOURCE, {"id": resource_id}).first()
        return _row_to_resource(row) if row else None

    def find_resource(self, owner: str, kind: Kind, name: str) -> Resource | None:
        with self._read() as conn:
            row = conn.execute(
                select(resources).where(
                    resources.c.owner == owner,
                    resources.c.kind == kind.value,
                    resources.c.name == name,
                )
            ).first()
        return _row_to_resource(row) if row else None

    def update_resource(
        self, resource: Resource, entry: AuditEntry, if_updated_at: datetime | None = None
    ) -> Resource:
        try:
            with self._write() as conn:
                where = resources.c.id == resource.id
                if if_updated_at is not None:
                    where = and_(where, resources.c.updated_at == if_updated_at)
                changed = conn.execute(
                    update(resources).where(where).values(**_resource_values(resource))
                )
                if not changed.rowcount and if_updated_at is not None:
                    raise Conflict(f"this {resource.kind.noun} was changed meanwhile")
                if not changed.rowcount:
                    raise NotFound(f"this {resource.kind.noun} was deleted meanwhile")
                conn.execute(insert(audit).values(**_audit_values(entry)))
        except IntegrityError:
            raise _duplicate_name(resource) from None
        return resource

    def delete_resource(self, resource_id: str, entry: AuditEntry) -> None:
        with self._write() as conn:
            if not _lock_resource(conn, resource_id):
                raise NotFound("this resource was deleted meanwhile")
            # Explicit, not only ON DELETE CASCADE: PRAGMA foreign_keys may be off in a
            # store opened by another tool.
            conn.execute(delete(links).where(links.c.resource_id == resource_id))
            conn.execute(delete(requests).where(requests.c.resource_id == resource_id))
            conn.execute(delete(grants).where(grants.c.resource_id == resource_id))
            conn.execute(delete(resources).where(resources.c.id == resource_id))
            conn.execute(insert(audit).values(**_audit_values(entry)))

    def resources_of_kind(self, kind: Kind, limit: int = 10_000) -> list[Resource]:
        with self._read() as conn:
            rows = conn.execute(
                select(resources)
                .where(resources.c.kind == kind.value)
                .order_by(resources.c.id)
                .limit(limit)
            ).all()
        return [_row_to_resource(r) for r in rows]

    def list_resources(
        self,
        user: str,
        principals: Sequence[Principal],
        kind: Kind | None,
        owned: bool,
        shared: bool,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[Resource], int]:
        params: dict[str, object] = dict(_principal_params(principals if shared else ()))
        has_users, has_groups = bool(params["p_users"]), bool(params["p_groups"])
        if not owned and not (has_users or has_groups):
            return [], 0
        count, page = _list_statements(owned, has_users, has_groups, kind is not None)
        params.update(user=user, now=now, offset=offset, limit=limit)
        if kind is not None:
            params["kind"] = kind.value
        with self._read() as conn:
            rows = conn.execute(page, params).all()
            if len(rows) < limit and (rows or not offset):
                total = offset + len(rows)  # the last page: its end is the total
            else:
                total = conn.execute(count, params).scalar_one()
        return [_row_to_resource(r) for r in rows], total

    def list_page(
        self,
        user: str,
        principals: Sequence[Principal],
        kind: Kind | None,
        owned: bool,
        shared: bool,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[Resource], int, dict[str, list[Grant]], dict[str, int]]:
        params: dict[str, object] = dict(_principal_params(principals if shared else ()))
        has_users, has_groups = bool(params["p_users"]), bool(params["p_groups"])
        if not owned and not (has_users or has_groups):
            return [], 0, {}, {}
        count, _ = _list_statements(owned, has_users, has_groups, kind is not None)
        statement = _list_page_statement(owned, has_users, has_groups, kind is not None)
        params.update(user=user, now=now, offset=offset, limit=limit)
        if kind is not None:
            params["kind"] = kind.value
        items: list[Resource] = []
        held: dict[str, list[Grant]] = {}
        counts: dict[str, int] = {}
        with self._read() as conn:
            rows = conn.execute(statement, params).all()
            for row in rows:
                rid = row[0]
                if rid not in counts:
                    items.append(_row_to_resource(row))
                    counts[rid] = row[8]
                if len(row) > 9 and row[9] is not None and row[3] != user:
                    held.setdefault(rid, []).append(_row_to_grant(row[9:]))
            if len(items) < limit and (items or not offset):
                total = offset + len(items)  # the last page: its end is the total
            else:
                total = conn.execute(count, params).scalar_one()
        return items, total, held, counts

    # -- grants ----------------------------------------------------------------------------

    def live_grants(self, resource_id: str, now: datetime) -> list[Grant]:
        with self._read() as conn:
            rows = conn.execute(_LIVE_GRANTS, {"id": resource_id, "now": now}).all()
        return [_row_to_grant(r) for r in rows]

    def grants_for_principals(
        self, resource_ids: Sequence[str], principals: Sequence[Principal], now: datetime
    ) -> dict[str, list[Grant]]:
        found: dict[str, list[Grant]] = {}
        if not resource_ids or not principals:
            return found
        params: dict[str, object] = dict(_principal_params(principals))
        statement = _held_on_statement(bool(params["p_users"]), bool(params["p_groups"]))
        params.update(ids=list(resource_ids), now=now)
        with self._read() as conn:
            rows = conn.execute(statement, params).all()
        for row in rows:
            found.setdefault(row.resource_id, []).append(_row_to_grant(row))
        return found

    def share_counts(self, resource_ids: Sequence[str], now: datetime) -> dict[str, int]:
        if not resource_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(_SHARE_COUNTS, {"ids": list(resource_ids), "now": now}).all()
        return {rid: count for rid, count in rows}

    def get_grant(self, resource_id: str, principal: Principal, now: datetime) -> Grant | None:
        with self._read() as conn:
            row = conn.execute(
                _GET_LIVE_GRANT, {**_grant_params(resource_id, principal), "now": now}
            ).first()
        return _row_to_grant(row) if row else None

    def put_grant(self, grant: Grant, entry: AuditEntry, link: Link | None = None) -> bool:
        key = _grant_params(grant.resource_id, grant.principal)
        with self._write() as conn:
            # Grant writes on one resource queue on its row (PostgreSQL; SQLite's write lock
            # already serialises them): two shares of one new grant would both insert.
            if not _lock_resource(conn, grant.resource_id):
                raise NotFound("this resource was deleted meanwhile")
            existing = conn.execute(_GET_GRANT, key).first()
            values = {
                "permission": int(grant.permission),
                "granted_by": grant.granted_by,
                "expires_at": grant.expires_at,
            }
            created = existing is None or (
                existing.expires_at is not None and existing.expires_at <= grant.created_at
            )
            if existing is None:
                conn.execute(_INSERT_GRANT, {**key, "created_at": grant.created_at, **values})
            else:
                if created:  # an expired grant not yet purged: this is a new grant
                    values["created_at"] = grant.created_at
                    conn.execute(_DELETE_LINKS_OF_GRANT, key)
                # The UPDATE differs by its SET columns: two shapes.
                columns = tuple(values)
                statement = _cached(
                    ("update_grant", columns),
                    lambda: _UPDATE_GRANT.values({c: bindparam(c) for c in columns}),
                )
                conn.execute(statement, {"k_" + k: v for k, v in key.items()} | values)
            if link is not None and created:
                conn.execute(_INSERT_LINK, _link_values(link))
            if entry.action in ("share", "change"):
                # What happened, not what the caller saw before: a concurrent share may have
                # made the grant meanwhile.
                entry = replace(entry, action="share" if created else "change")
            conn.execute(_INSERT_AUDIT, _audit_values(entry))
        return created

    def replace_link(self, link: Link, entry: AuditEntry) -> None:
        with self._write() as conn:
            conn.execute(
                delete(links).where(*_link_key(link.resource_id, Principal.user(link.username)))
            )
            conn.execute(insert(links).values(**_link_values(link)))
            conn.execute(insert(audit).values(**_audit_values(entry)))

    def get_link(self, link_id: str) -> Link | None:
        with self._read() as conn:
            row = conn.execute(select(links).where(links.c.id == link_id)).first()
        if row is None:
            return None
        return Link(
            row.id,
            row.resource_id,
            row.principal_name,
            row.secret_hash,
            row.created_by,
            row.created_at,
        )

    def live_links(self, link_ids: Sequence[str], now: datetime) -> dict[str, Permission]:
        if not link_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(_LIVE_LINKS, {"ids": list(link_ids), "now": now}).all()
        return {row.id: Permission(row.permission) for row in rows}

    def delete_grant(self, resource_id: str, principal: Principal, entry: AuditEntry) -> bool:
        with self._write() as conn:
            _lock_resource(conn, resource_id)
            conn.execute(delete(links).where(*_link_key(resource_id, principal)))
            result = conn.execute(
                delete(grants).where(
                    grants.c.resource_id == resource_id,
                    grants.c.principal_type == principal.type.value,
                    grants.c.principal_name == principal.name,
                )
            )
            if result.rowcount:
                conn.execute(insert(audit).values(**_audit_values(entry)))
        return bool(result.rowcount)

    def purge_expired(self, now: datetime) -> list[Grant]:
        with self._write() as conn:
            rows = conn.execute(
                select(grants, resources.c.kind)
                .join(resources, resources.c.id == grants.c.resource_id)
                .where(grants.c.expires_at.is_not(None), grants.c.expires_at <= now)
                # One order for every sweep: they lock the same resources in the same order.
                .order_by(grants.c.resource_id, grants.c.principal_type, grants.c.principal_name)
            ).all()
            purged, swept = [_row_to_grant(r) for r in rows], []
            for row, grant in zip(rows, purged, strict=False):
                _lock_resource(conn, grant.resource_id)
                deleted = conn.execute(
                    delete(grants).where(
                        grants.c.resource_id == grant.resource_id,
                        grants.c.principal_type == grant.principal.type.value,
                        grants.c.principal_name == grant.principal.name,
                        grants.c.expires_at <= now,
                    )
                )
                if not deleted.rowcount:
                    continue  # another server's sweep (or a renewal) came first
                conn.execute(delete(links).where(*_link_key(grant.resource_id, grant.principal)))
                swept.append(grant)
                conn.execute(
                    insert(audit).values(
                        **_audit_values(
                            AuditEntry(
                                resource_id=grant.resource_id,
                                kind=Kind(row.kind),
                                at=now,
                                actor="system",
                                action="expire",
                                principal=str(grant.principal),
                                permission=grant.permission.label,
                            )
                        )
                    )
                )
        return swept

    # -- requests for more -------------------------------------------------------------------

    def put_request(self, request: AccessRequest, entry: AuditEntry) -> None:
        try:
            with self._write() as conn:
                if not _lock_resource(conn, request.resource_id):
                    raise NotFound("this resource was deleted meanwhile")
                conn.execute(
                    insert(requests).values(
                        resource_id=request.resource_id,
                        requester=request.requester,
                        permission=int(request.permission),
                        message=request.message,
                        created_at=request.created_at,
                    )
                )
                conn.execute(_INSERT_AUDIT, _audit_values(entry))
        except IntegrityError:
            raise Conflict(
                "you have an open request on this already: withdraw it to ask again",
                field="permission",
            ) from None

    def get_request(self, resource_id: str, requester: str) -> AccessRequest | None:
        with self._read() as conn:
            row = conn.execute(
                select(requests).where(
                    requests.c.resource_id == resource_id, requests.c.requester == requester
                )
            ).first()
        return _row_to_request(row) if row else None

    def open_requests(self, resource_id: str) -> list[AccessRequest]:
        with self._read() as conn:
            rows = conn.execute(
                select(requests)
                .where(requests.c.resource_id == resource_id)
                .order_by(requests.c.created_at, requests.c.requester)
            ).all()
        return [_row_to_request(r) for r in rows]

    def close_request(self, resource_id: str, requester: str, entry: AuditEntry) -> bool:
        with self._write() as conn:
            result = conn.execute(
                delete(requests).where(
                    requests.c.resource_id == resource_id, requests.c.requester == requester
                )
            )
            if result.rowcount:
                conn.execute(_INSERT_AUDIT, _audit_values(entry))
        return bool(result.rowcount)

    def _requests_joined(
        self, where: ColumnElement[bool], params: dict[str, object], limit: int
    ) -> list[tuple[AccessRequest, Resource]]:
        statement = (
            select(requests, resources)
            .join(resources, resources.c.id == requests.c.resource_id)
            .where(where)
            .order_by(requests.c.created_at, requests.c.resource_id, requests.c.requester)
            .limit(limit)
        )
        with self._read() as conn:
            rows = conn.execute(statement, params).all()
        width = len(requests.c)
        return [(_row_to_request(r), _row_to_resource(r[width:])) for r in rows]

    def requests_to_decide(
        self, user: str, principals: Sequence[Principal], now: datetime, limit: int
    ) -> list[tuple[AccessRequest, Resource]]:
        params = _principal_params(principals)
        managed = []
        if params["p_users"] or params["p_groups"]:
            managed.append(
                resources.c.id.in_(
                    select(grants.c.resource_id).where(
                        _held(bool(params["p_users"]), bool(params["p_groups"])),
                        grants.c.permission >= int(Permission.MANAGE),
                        _LIVE,
                    )
                )
            )
        where = and_(
            or_(resources.c.owner == bindparam("user"), *managed),
            requests.c.requester != bindparam("user"),
        )
        return self._requests_joined(where, {**params, "user": user, "now": now}, limit)

    def requests_by(self, requester: str, limit: int) -> list[tuple[AccessRequest, Resource]]:
        return self._requests_joined(
            requests.c.requester == bindparam("user"), {"user": requester}, limit
        )

    # -- audit and users -------------------------------------------------------------------

    def history(
        self,
        resource_id: str,
        offset: int = 0,
        limit: int = 1000,
        people: Sequence[str] | None = None,
        principals: Sequence[str] | None = None,
        actions: Sequence[str] | None = None,
    ) -> tuple[list[AuditEntry], int]:
        where = [audit.c.resource_id == resource_id]
        if people is not None:
            names = [p for p in people if ":" not in p]
            where.append(or_(audit.c.actor.in_(names), audit.c.principal.in_(list(people))))
        if principals is not None:
            where.append(audit.c.principal.in_(list(principals)))
        if actions is not None:
            where.append(audit.c.action.in_(list(actions)))
        with self._read() as conn:
            total = conn.execute(select(func.count()).select_from(audit).where(*where)).scalar_one()
            rows = conn.execute(
                select(audit).where(*where).order_by(audit.c.id).offset(offset).limit(limit)
            ).all()
        entries = [
            AuditEntry(
                resource_id=r.resource_id,
                kind=Kind(r.kind) if r.kind else None,
                at=r.at,
                actor=r.actor,
                action=r.action,
                principal=r.principal,
                permission=r.permission,
                address=r.address,
            )
            for r in rows
        ]
        return entries, total

    def add_history(self, entry: AuditEntry) -> None:
        with self._write() as conn:
            conn.execute(_INSERT_AUDIT, _audit_values(entry))

    def purge_history(self, before: datetime) -> int:
        last_shares = (
            select(func.max(audit.c.id))
            .where(audit.c.action == "share", audit.c.resource_id.in_(select(resources.c.id)))
            .group_by(audit.c.resource_id, audit.c.principal)
        )
        with self._write() as conn:
            result = conn.execute(
                delete(audit).where(audit.c.at < before, audit.c.id.not_in(last_shares))
            )
        return result.rowcount or 0

    def grantees(
        self, resource_ids: Sequence[str], now: datetime, per_resource: int
    ) -> dict[str, list[Grant]]:
        if not resource_ids:
            return {}
        found: dict[str, list[Grant]] = {}
        with self._read() as conn:
            for row in conn.execute(_GRANTEES, {"ids": list(resource_ids), "now": now}):
                listed = found.setdefault(row[0], [])
                if len(listed) < per_resource:
                    listed.append(_row_to_grant(row))
        return found

    def touch_user(self, name: str, now: datetime) -> None:
        try:
            with self._write() as conn:
                changed = conn.execute(
                    update(users).where(users.c.name == name).values(last_seen=now)
                )
                if not changed.rowcount:
                    conn.execute(insert(users).values(name=name, first_seen=now, last_seen=now))
        except IntegrityError:
            pass  # another server recorded the same user at the same moment

    def known_users(self, prefix: str = "", limit: int = 50) -> list[str]:
        query = select(users.c.name).order_by(users.c.name).limit(limit)
        if prefix:
            # Range, not LIKE: no wildcard escaping, and it uses the primary key index.
            query = query.where(users.c.name >= prefix, users.c.name < prefix + "\U0010ffff")
        with self._read() as conn:
            return [r.name for r in conn.execute(query)]

    def user_is_known(self, name: str) -> bool:
        with self._read() as conn:
            return conn.execute(_USER_IS_KNOWN, {"name": name}).first() is not None

    # -- bulk loading ----------------------------------------------------------------------

    def bulk_load(
        self,
        new_resources: Iterable[Resource] = (),
        new_grants: Iterable[Grant] = (),
        entries: Iterable[AuditEntry] = (),
        user_names: Iterable[str] = (),
        now: datetime | None = None,
        batch: int = 20_000,
    ) -> None:
        """Insert many rows in batches, each row as `create_resource`, `put_grant`,
        `touch_user` and the audit write it: for seeding benchmarks. No rules, checks or
        events; the caller answers for a consistent store (grants after their resources)."""

        def chunks(values: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
            rows = []
            for value in values:
                rows.append(value)
                if len(rows) >= batch:
                    yield rows
                    rows = []
            if rows:
                yield rows

        def resource_row(r: Resource) -> dict[str, Any]:
            return {
                "id": r.id,
                "kind": r.kind.value,
                "owner": r.owner,
                "created_at": r.created_at,
                **_resource_values(r),
            }

        def grant_row(g: Grant) -> dict[str, Any]:
            return {
                "resource_id": g.resource_id,
                "principal_type": g.principal.type.value,
                "principal_name": g.principal.name,
                "permission": int(g.permission),
                "granted_by": g.granted_by,
                "created_at": g.created_at,
                "expires_at": g.expires_at,
            }

        stamp = now or utcnow()
        plan = [
            (resources, (resource_row(r) for r in new_resources)),
            (grants, (grant_row(g) for g in new_grants)),
            (audit, (_audit_values(e) for e in entries)),
            (users, ({"name": n, "first_seen": stamp, "last_seen": stamp} for n in user_names)),
        ]
        with self.engine.connect() as conn:
            conn = conn.execution_options(share_write=True)
            if self.is_sqlite:
                # A big page cache for the index inserts, on this connection only.
                with conn.begin():
                    conn.exec_driver_sql("PRAGMA cache_size=-262144")
            for table, values in plan:
                for rows in chunks(values):
                    with conn.begin():
                        conn.execute(insert(table), rows)
            if self.is_sqlite:
                with conn.begin():
                    conn.exec_driver_sql("PRAGMA cache_size=-2000")
            else:
                # The planner statistics autovacuum would gather on a store that grew slowly.
                with conn.begin():
                    conn.exec_driver_sql("ANALYZE resources, grants, audit, users")
