"""The store's requests for more (`ShareStore.put_request` and the rest), on SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from ..model import AccessRequest, AuditEntry, Conflict, NotFound, Permission, Principal, Resource
from .connection import SQLConnection
from .schema import grants, requests, resources
from .statements import (
    _INSERT_AUDIT,
    _LIVE,
    _held,
    _lock_resource,
    _principal_params,
    _row_to_request,
    _row_to_resource,
    audit_values,
)


class AccessRequestQueries(SQLConnection):
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
                conn.execute(_INSERT_AUDIT, audit_values(entry))
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
                conn.execute(_INSERT_AUDIT, audit_values(entry))
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
        self,
        user: str,
        principals: Sequence[Principal],
        now: datetime,
        limit: int,
        deciders: Permission,
    ) -> list[tuple[AccessRequest, Resource]]:
        params = _principal_params(principals)
        managed = []
        if params["p_users"] or params["p_groups"]:
            managed.append(
                resources.c.id.in_(
                    select(grants.c.resource_id).where(
                        _held(bool(params["p_users"]), bool(params["p_groups"])),
                        grants.c.permission >= int(deciders),
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
