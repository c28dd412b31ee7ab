"""The store port: resources, grants, audit rows and known users, persisted with SQLAlchemy.

`ShareStore` is the interface the service depends on; `SQLStore` implements it on SQLite (the
embedded default: WAL, busy timeout, foreign keys, `BEGIN IMMEDIATE` for writes so concurrent
writers queue instead of failing) and on PostgreSQL (psycopg 3) with the same SQL. Every write
method takes the audit entry of its change and writes both in one transaction.
"""

from __future__ import annotations

import abc
import logging
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Iterable, Iterator, Optional, Sequence

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
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

from . import migrations
from .model import (
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
)

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
    Column("resource_id", String(32), ForeignKey("resources.id", ondelete="CASCADE"), nullable=False),
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
    Index("ix_audit_resource", "resource_id", "id"),
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
    def get_resource(self, resource_id: str) -> Optional[Resource]: ...

    @abc.abstractmethod
    def find_resource(self, owner: str, kind: Kind, name: str) -> Optional[Resource]: ...

    @abc.abstractmethod
    def update_resource(self, resource: Resource, entry: AuditEntry) -> Resource:
        """Write name, description, spec and updated_at; raise Conflict on a duplicate name."""

    @abc.abstractmethod
    def delete_resource(self, resource_id: str, entry: AuditEntry) -> None:
        """Delete the resource and its grants."""

    @abc.abstractmethod
    def list_resources(
        self,
        user: str,
        principals: Sequence[Principal],
        kind: Optional[Kind],
        owned: bool,
        shared: bool,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[Resource], int]:
        """Resources `user` owns (if owned) or any of `principals` holds a live grant on
        (if shared, excluding the user's own), newest first, and their total."""

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
    def get_grant(self, resource_id: str, principal: Principal, now: datetime) -> Optional[Grant]:
        """The principal's live grant on the resource, if any."""

    @abc.abstractmethod
    def put_grant(self, grant: Grant, entry: AuditEntry, link: Optional[Link] = None) -> bool:
        """Insert or replace the principal's grant; True if there was no live one before.
        A new grant drops the links of an old, expired one; `link`, if given with a new grant,
        is stored with it."""

    @abc.abstractmethod
    def replace_link(self, link: Link, entry: AuditEntry) -> None:
        """Store `link` as the only link of its grantee on its resource."""

    @abc.abstractmethod
    def get_link(self, link_id: str) -> Optional[Link]: ...

    @abc.abstractmethod
    def live_links(self, link_ids: Sequence[str], now: datetime) -> dict[str, Permission]:
        """For each link whose grant is live: the grant's permission."""

    @abc.abstractmethod
    def delete_grant(self, resource_id: str, principal: Principal, entry: AuditEntry) -> bool: ...

    @abc.abstractmethod
    def purge_expired(self, now: datetime) -> list[Grant]:
        """Delete the grants that expired by `now`, each with an `expire` audit row."""

    @abc.abstractmethod
    def history(self, resource_id: str, offset: int = 0, limit: int = 1000) -> tuple[list[AuditEntry], int]: ...

    @abc.abstractmethod
    def touch_user(self, name: str, now: datetime) -> None:
        """Remember that `name` uses this store (the standalone directory lists them)."""

    @abc.abstractmethod
    def known_users(self, prefix: str = "", limit: int = 50) -> list[str]: ...

    @abc.abstractmethod
    def user_is_known(self, name: str) -> bool: ...

    def close(self) -> None:
        """Release connections."""


def _duplicate_name(resource: Resource) -> Conflict:
    article = "an" if resource.kind.noun[0] in "aeiou" else "a"
    return Conflict(f"{resource.owner} already has {article} {resource.kind.noun} named {resource.name!r}", field="name")


def _row_to_resource(row) -> Resource:
    return Resource(
        id=row.id,
        kind=Kind(row.kind),
        name=row.name,
        owner=row.owner,
        description=row.description or "",
        spec=row.spec or {},
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _row_to_grant(row) -> Grant:
    return Grant(
        resource_id=row.resource_id,
        principal=Principal(PrincipalType(row.principal_type), row.principal_name),
        permission=Permission(row.permission),
        granted_by=row.granted_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _link_key(resource_id: str, principal: Principal):
    return (
        links.c.resource_id == resource_id,
        links.c.principal_type == principal.type.value,
        links.c.principal_name == principal.name,
    )


def _lock_resource(conn: Connection, resource_id: str) -> bool:
    """Lock the resource's row for this write transaction (FOR UPDATE on PostgreSQL; SQLite
    writers hold the database's write lock already); False if it does not exist."""
    found = conn.execute(select(resources.c.id).where(resources.c.id == resource_id).with_for_update()).first()
    return found is not None


def _live(now: datetime):
    return or_(grants.c.expires_at.is_(None), grants.c.expires_at > now)


def _principal_clause(principals: Iterable[Principal]):
    return or_(
        *(
            and_(grants.c.principal_type == p.type.value, grants.c.principal_name == p.name)
            for p in principals
        )
    )


def _audit_values(entry: AuditEntry) -> dict:
    return {
        "resource_id": entry.resource_id,
        "kind": entry.kind.value if entry.kind else None,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "principal": entry.principal,
        "permission": entry.permission,
    }


def _link_values(link: Link) -> dict:
    return {
        "id": link.id,
        "resource_id": link.resource_id,
        "principal_type": "user",
        "principal_name": link.username,
        "secret_hash": link.secret_hash,
        "created_by": link.created_by,
        "created_at": link.created_at,
    }


def _resource_values(resource: Resource) -> dict:
    return {
        "name": resource.name,
        "description": resource.description,
        "spec": resource.spec,
        "updated_at": resource.updated_at,
    }


class SQLStore(ShareStore):
    """The store on any SQLAlchemy URL; tested on SQLite and PostgreSQL."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False):
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.url.get_backend_name() == "postgresql" and self.url.get_driver_name() in ("", "psycopg2"):
            # psycopg 3 is the driver we ship and test.
            self.url = self.url.set(drivername="postgresql+psycopg")
        kwargs: dict = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            self._configure_sqlite(busy_timeout_ms)
        migrations.upgrade(self.engine)

    def _configure_sqlite(self, busy_timeout_ms: int) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # Take transaction control from the driver so writes can BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            if self.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn):
            # A write takes the lock up front: a deferred transaction that upgrades to a
            # writer can fail with "database is locked" without waiting on busy_timeout.
            mode = "IMMEDIATE" if conn.get_execution_options().get("share_write") else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(share_write=True)
            with conn.begin():
                yield conn

    def close(self) -> None:
        self.engine.dispose()

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

    def get_resource(self, resource_id: str) -> Optional[Resource]:
        with self._read() as conn:
            row = conn.execute(select(resources).where(resources.c.id == resource_id)).first()
        return _row_to_resource(row) if row else None

    def find_resource(self, owner: str, kind: Kind, name: str) -> Optional[Resource]:
        with self._read() as conn:
            row = conn.execute(
                select(resources).where(
                    resources.c.owner == owner, resources.c.kind == kind.value, resources.c.name == name
                )
            ).first()
        return _row_to_resource(row) if row else None

    def update_resource(self, resource: Resource, entry: AuditEntry) -> Resource:
        try:
            with self._write() as conn:
                changed = conn.execute(
                    update(resources)
                    .where(resources.c.id == resource.id)
                    .values(**_resource_values(resource))
                )
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
            conn.execute(delete(grants).where(grants.c.resource_id == resource_id))
            conn.execute(delete(resources).where(resources.c.id == resource_id))
            conn.execute(insert(audit).values(**_audit_values(entry)))

    def list_resources(self, user, principals, kind, owned, shared, now, offset, limit):
        conditions = []
        if owned:
            conditions.append(resources.c.owner == user)
        if shared and principals:
            shared_ids = select(grants.c.resource_id).where(_principal_clause(principals), _live(now))
            conditions.append(and_(resources.c.id.in_(shared_ids), resources.c.owner != user))
        if not conditions:
            return [], 0
        where = [or_(*conditions)]
        if kind is not None:
            where.append(resources.c.kind == kind.value)
        with self._read() as conn:
            total = conn.execute(select(func.count()).select_from(resources).where(*where)).scalar_one()
            rows = conn.execute(
                select(resources)
                .where(*where)
                .order_by(resources.c.created_at.desc(), resources.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        return [_row_to_resource(r) for r in rows], total

    # -- grants ----------------------------------------------------------------------------

    def live_grants(self, resource_id: str, now: datetime) -> list[Grant]:
        with self._read() as conn:
            rows = conn.execute(
                select(grants)
                .where(grants.c.resource_id == resource_id, _live(now))
                .order_by(grants.c.created_at, grants.c.principal_type, grants.c.principal_name)
            ).all()
        return [_row_to_grant(r) for r in rows]

    def grants_for_principals(self, resource_ids, principals, now):
        found: dict[str, list[Grant]] = {}
        if not resource_ids or not principals:
            return found
        with self._read() as conn:
            rows = conn.execute(
                select(grants).where(
                    grants.c.resource_id.in_(list(resource_ids)), _principal_clause(principals), _live(now)
                )
            ).all()
        for row in rows:
            found.setdefault(row.resource_id, []).append(_row_to_grant(row))
        return found

    def share_counts(self, resource_ids, now):
        if not resource_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                select(grants.c.resource_id, func.count())
                .where(grants.c.resource_id.in_(list(resource_ids)), _live(now))
                .group_by(grants.c.resource_id)
            ).all()
        return {rid: count for rid, count in rows}

    def get_grant(self, resource_id, principal, now):
        with self._read() as conn:
            row = conn.execute(
                select(grants).where(
                    grants.c.resource_id == resource_id,
                    grants.c.principal_type == principal.type.value,
                    grants.c.principal_name == principal.name,
                    _live(now),
                )
            ).first()
        return _row_to_grant(row) if row else None

    def put_grant(self, grant: Grant, entry: AuditEntry, link: Optional[Link] = None) -> bool:
        key = (
            grants.c.resource_id == grant.resource_id,
            grants.c.principal_type == grant.principal.type.value,
            grants.c.principal_name == grant.principal.name,
        )
        with self._write() as conn:
            # Grant writes on one resource queue on its row (PostgreSQL; SQLite's write lock
            # already serialises them): two shares of one new grant would both insert.
            if not _lock_resource(conn, grant.resource_id):
                raise NotFound("this resource was deleted meanwhile")
            existing = conn.execute(select(grants).where(*key)).first()
            values = {
                "permission": int(grant.permission),
                "granted_by": grant.granted_by,
                "expires_at": grant.expires_at,
            }
            created = existing is None or (
                existing.expires_at is not None and existing.expires_at <= grant.created_at
            )
            if existing is None:
                conn.execute(
                    insert(grants).values(
                        resource_id=grant.resource_id,
                        principal_type=grant.principal.type.value,
                        principal_name=grant.principal.name,
                        created_at=grant.created_at,
                        **values,
                    )
                )
            else:
                if created:  # an expired grant not yet purged: this is a new grant
                    values["created_at"] = grant.created_at
                    conn.execute(delete(links).where(*_link_key(grant.resource_id, grant.principal)))
                conn.execute(update(grants).where(*key).values(**values))
            if link is not None and created:
                conn.execute(insert(links).values(**_link_values(link)))
            if entry.action in ("share", "change"):
                # What happened, not what the caller saw before: a concurrent share may have
                # made the grant meanwhile.
                entry = replace(entry, action="share" if created else "change")
            conn.execute(insert(audit).values(**_audit_values(entry)))
        return created

    def replace_link(self, link: Link, entry: AuditEntry) -> None:
        with self._write() as conn:
            conn.execute(delete(links).where(*_link_key(link.resource_id, Principal.user(link.username))))
            conn.execute(insert(links).values(**_link_values(link)))
            conn.execute(insert(audit).values(**_audit_values(entry)))

    def get_link(self, link_id: str) -> Optional[Link]:
        with self._read() as conn:
            row = conn.execute(select(links).where(links.c.id == link_id)).first()
        if row is None:
            return None
        return Link(row.id, row.resource_id, row.principal_name, row.secret_hash, row.created_by, row.created_at)

    def live_links(self, link_ids, now):
        if not link_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                select(links.c.id, grants.c.permission)
                .join(
                    grants,
                    and_(
                        grants.c.resource_id == links.c.resource_id,
                        grants.c.principal_type == links.c.principal_type,
                        grants.c.principal_name == links.c.principal_name,
                    ),
                )
                .where(links.c.id.in_(list(link_ids)), _live(now))
            ).all()
        return {row.id: Permission(row.permission) for row in rows}

    def delete_grant(self, resource_id, principal, entry):
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

    def purge_expired(self, now):
        with self._write() as conn:
            rows = conn.execute(
                select(grants, resources.c.kind)
                .join(resources, resources.c.id == grants.c.resource_id)
                .where(grants.c.expires_at.is_not(None), grants.c.expires_at <= now)
                # One order for every sweep: they lock the same resources in the same order.
                .order_by(grants.c.resource_id, grants.c.principal_type, grants.c.principal_name)
            ).all()
            purged, swept = [_row_to_grant(r) for r in rows], []
            for row, grant in zip(rows, purged):
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

    # -- audit and users -------------------------------------------------------------------

    def history(self, resource_id, offset=0, limit=1000):
        with self._read() as conn:
            total = conn.execute(
                select(func.count()).select_from(audit).where(audit.c.resource_id == resource_id)
            ).scalar_one()
            rows = conn.execute(
                select(audit)
                .where(audit.c.resource_id == resource_id)
                .order_by(audit.c.id)
                .offset(offset)
                .limit(limit)
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
            )
            for r in rows
        ]
        return entries, total

    def touch_user(self, name, now):
        try:
            with self._write() as conn:
                changed = conn.execute(update(users).where(users.c.name == name).values(last_seen=now))
                if not changed.rowcount:
                    conn.execute(insert(users).values(name=name, first_seen=now, last_seen=now))
        except IntegrityError:
            pass  # another server recorded the same user at the same moment

    def known_users(self, prefix="", limit=50):
        query = select(users.c.name).order_by(users.c.name).limit(limit)
        if prefix:
            # Range, not LIKE: no wildcard escaping, and it uses the primary key index.
            query = query.where(users.c.name >= prefix, users.c.name < prefix + "\U0010ffff")
        with self._read() as conn:
            return [r.name for r in conn.execute(query)]

    def user_is_known(self, name):
        with self._read() as conn:
            return conn.execute(select(users.c.name).where(users.c.name == name)).first() is not None
