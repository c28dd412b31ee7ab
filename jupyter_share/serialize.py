"""The JSON (and CSV) of every answer: resources, grants, history, requests and pages. One
serializer for the REST API, the Hub's share service and the CLI's `--json`, so they answer
alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .model import AuditEntry, Grant, Kind, Page, RequestView, ResourceView


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


def environment_summary(spec: dict) -> dict | None:
    """What a list shows of an image's captured environment (the whole of it comes with the
    image itself, or as a file from `environment`)."""
    env = spec.get("environment")
    if not isinstance(env, dict):
        return None
    return {
        "python": env.get("python"),
        "packages": len(env.get("packages") or []),
        "kernelspecs": len(env.get("kernelspecs") or []),
        "captured_at": env.get("captured_at"),
    }


def grantee_json(grant: Grant) -> dict:
    return {
        "principal": str(grant.principal),
        "kind": grant.principal.type.value,
        "name": grant.principal.name,
        "permission": grant.permission.label,
    }


def resource_list_json(view: ResourceView) -> dict:
    """A resource as a list shows it: its spec without the captured environment (a summary
    of it instead), with who holds access where the caller may list grants."""
    return resource_json(view, listed=True)


def resource_json(view: ResourceView, listed: bool = False) -> dict:
    r = view.resource
    spec = r.spec
    if listed and r.kind == Kind.IMAGE and "environment" in spec:
        spec = {k: v for k, v in spec.items() if k != "environment"}
    data = {
        "id": r.id,
        "kind": r.kind.value,
        "name": r.name,
        "description": r.description,
        "owner": r.owner,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
        "spec": spec,
        "access": view.access,
        "shared": view.shared,
        "share_count": view.share_count,
        "grantees": (
            [grantee_json(g) for g in view.grantees] if view.grantees is not None else None
        ),
    }
    if r.kind == Kind.IMAGE:
        data["environment"] = environment_summary(r.spec)
    if view.access != "owner":
        data["shared_at"] = iso(view.shared_at)
        data["expires_at"] = iso(view.expires_at)
    return data


def grant_json(grant: Grant) -> dict:
    return {
        "principal": str(grant.principal),
        "kind": grant.principal.type.value,
        "name": grant.principal.name,
        "permission": grant.permission.label,
        "granted_by": grant.granted_by,
        "created_at": iso(grant.created_at),
        "expires_at": iso(grant.expires_at),
    }


def audit_json(entry: AuditEntry) -> dict:
    return {
        "at": iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "principal": entry.principal,
        "permission": entry.permission,
        "address": entry.address,
    }


#: The columns of a history export, in order (`audit_json`'s keys).
HISTORY_COLUMNS = ("at", "actor", "action", "principal", "permission", "address")


def history_csv(entries: list[AuditEntry]) -> str:
    """History rows as CSV, a header first. A cell that a spreadsheet would run as a formula
    (=, +, -, @ first) is quoted with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HISTORY_COLUMNS)
    for entry in entries:
        row = audit_json(entry)
        writer.writerow(
            [
                "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else (v or "")
                for v in (row[c] for c in HISTORY_COLUMNS)
            ]
        )
    return out.getvalue()


def request_json(view: RequestView) -> dict:
    r, resource = view.request, view.resource
    return {
        "kind": resource.kind.value,
        "resource_id": resource.id,
        "resource_name": resource.name,
        "owner": resource.owner,
        "requester": r.requester,
        "permission": r.permission.label,
        "message": r.message,
        "created_at": iso(r.created_at),
        "holds": view.holds,
    }


def page_json(page: Page, shape: Callable[[Any], dict]) -> dict:
    return {"items": [shape(item) for item in page.items], "total": page.total}


# -- handlers ------------------------------------------------------------------------------


def me_json(
    username: str,
    groups: list[str] | set[str],
    display_name: str | None,
    mode: str,
    guest: dict[str, Any] | None = None,
    launched_from: str | None = None,
) -> dict[str, Any]:
    """The answer of `GET /me`, wherever it is made: the server's own API, a user server under
    JupyterHub, and `jupyter share whoami --json`."""
    me: dict[str, Any] = {
        "username": username,
        "display_name": display_name or username,
        "mode": mode,
        "groups": sorted(groups),
    }
    if launched_from:
        me["launched_from"] = launched_from
    if guest is not None:
        me["guest"] = guest
    return me
