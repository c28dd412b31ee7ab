"""The store port on SQL (`SQLStore`): resources, grants and their links, history and known
users; the requests for more are in `access_requests.py`. The same SQL on both databases:
what differs is in the two implementations, `sqlite.SQLiteStore` and `postgres.PostgresStore`.

Requests are answered in a few milliseconds, and most of that is Python, not the database: the
statements of the hot paths are built once with bound parameters (`statements.py`), a list is
one statement (`list_page`), and `reading()` lets the service put the reads of one request in
one transaction. The audit entry of every write comes from the service, which chooses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..model import (
    AuditEntry,
    Conflict,
    Grant,
    Kind,
    Link,
    NotFound,
    Permission,
    Principal,
    Resource,
)
from .access_requests import AccessRequestQueries
from .port import ShareStore
from .schema import audit, grants, links, requests, resources, users
from .statements import (
    _DELETE_LINKS_OF_GRANT,
    _GET_GRANT,
    _GET_LIVE_GRANT,
    _GET_RESOURCE,
    _GRANTEES,
    _INSERT_AUDIT,
    _INSERT_GRANT,
    _INSERT_LINK,
    _LIVE_GRANTS,
    _LIVE_LINKS,
    _SHARE_COUNTS,
    _UPDATE_GRANT,
    _USER_IS_KNOWN,
    _cached,
    _duplicate_name,
    _grant_params,
    _held_on_statement,
    _link_key,
    _link_values,
    _list_page_statement,
    _list_statements,
    _lock_resource,
    _principal_params,
    _row_to_grant,
    _row_to_resource,
    audit_values,
    resource_values,
)


class SQLStore(AccessRequestQueries, ShareStore):
    """The store in SQL, shared by its two implementations, `SQLiteStore` and `PostgresStore`.

    `SQLStore(url)` opens the one the URL names (as `pathlib.Path()` makes a `PosixPath` or a
    `WindowsPath`): `urls.store_class_for` decides, `UnsupportedStoreURL` says no. So it is
    the default `store_class` of both apps, and what the tests open."""

    def __new__(cls, url: str, *args: Any, **kwargs: Any) -> SQLStore:
        if cls is SQLStore:
            from .urls import store_class_for  # it imports the implementations, which import this

            return super().__new__(store_class_for(url))
        return super().__new__(cls)

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
                        **resource_values(resource),
                    )
                )
                conn.execute(insert(audit).values(**audit_values(entry)))
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
                    update(resources).where(where).values(**resource_values(resource))
                )
                if not changed.rowcount and if_updated_at is not None:
                    raise Conflict(f"this {resource.kind.noun} was changed meanwhile")
                if not changed.rowcount:
                    raise NotFound(f"this {resource.kind.noun} was deleted meanwhile")
                conn.execute(insert(audit).values(**audit_values(entry)))
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
            conn.execute(insert(audit).values(**audit_values(entry)))

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

    def put_grant(
        self,
        grant: Grant,
        entry: AuditEntry,
        link: Link | None = None,
        changed: AuditEntry | None = None,
    ) -> bool:
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
            # What happened, not what the caller saw before: a concurrent share may have
            # made the grant meanwhile.
            written = entry if created or changed is None else changed
            conn.execute(_INSERT_AUDIT, audit_values(written))
        return created

    def replace_link(self, link: Link, entry: AuditEntry) -> None:
        with self._write() as conn:
            conn.execute(
                delete(links).where(*_link_key(link.resource_id, Principal.user(link.username)))
            )
            conn.execute(insert(links).values(**_link_values(link)))
            conn.execute(insert(audit).values(**audit_values(entry)))

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
                conn.execute(insert(audit).values(**audit_values(entry)))
        return bool(result.rowcount)

    def purge_expired(
        self, now: datetime, entry: Callable[[Grant, Kind], AuditEntry]
    ) -> list[Grant]:
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
                conn.execute(insert(audit).values(**audit_values(entry(grant, Kind(row.kind)))))
        return swept

    # -- requests for more -------------------------------------------------------------------

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
            conn.execute(_INSERT_AUDIT, audit_values(entry))

    def purge_history(self, before: datetime, keep_last: Sequence[str]) -> int:
        kept = (
            select(func.max(audit.c.id))
            .where(
                audit.c.action.in_(list(keep_last)),
                audit.c.resource_id.in_(select(resources.c.id)),
            )
            .group_by(audit.c.resource_id, audit.c.principal, audit.c.action)
        )
        with self._write() as conn:
            result = conn.execute(delete(audit).where(audit.c.at < before, audit.c.id.not_in(kept)))
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
