"""Seeding a store fast, for the benchmarks only (`seeding.py`): many rows in batches, each
row as `SQLStore.create_resource`, `put_grant`, `touch_user` and the audit write it. No rules,
checks or events: it is no part of the product's store, which writes one change at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from jupyter_share.model import AuditEntry, Grant, Resource, utcnow
from jupyter_share.store import SQLiteStore, SQLStore, audit, grants, resources, users
from jupyter_share.store.statements import audit_values, resource_values


def bulk_load(
    store: SQLStore,
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
            **resource_values(r),
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
        (audit, (audit_values(e) for e in entries)),
        (users, ({"name": n, "first_seen": stamp, "last_seen": stamp} for n in user_names)),
    ]
    with store.engine.connect() as conn:
        conn = conn.execution_options(share_write=True)
        if isinstance(store, SQLiteStore):
            # A big page cache for the index inserts, on this connection only.
            with conn.begin():
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
        for table, values in plan:
            for rows in chunks(values):
                with conn.begin():
                    conn.execute(insert(table), rows)
        if isinstance(store, SQLiteStore):
            with conn.begin():
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
        else:
            # The planner statistics autovacuum would gather on a store that grew slowly.
            with conn.begin():
                conn.exec_driver_sql("ANALYZE resources, grants, audit, users")
