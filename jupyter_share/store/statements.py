"""The SQL of the store's queries and the mapping between rows and the model's types.

Building a statement costs more than running it on an indexed table (and a new statement
object means a new cache key): the hot ones are built once here, with bound parameters, and
those of several shapes once per shape (`_cached`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import (
    DateTime,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from ..model import (
    AccessRequest,
    AuditEntry,
    Conflict,
    Grant,
    Kind,
    Link,
    Permission,
    Principal,
    PrincipalType,
    Resource,
)
from .schema import audit, grants, links, resources, users


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


def audit_values(entry: AuditEntry) -> dict[str, Any]:
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


def resource_values(resource: Resource) -> dict[str, Any]:
    return {
        "name": resource.name,
        "description": resource.description,
        "spec": resource.spec,
        "updated_at": resource.updated_at,
    }


# -- statements built once --------------------------------------------------------------------


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
