"""How answers look for people: tables, times, a resource's badges, progress lines."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..model import Kind

if TYPE_CHECKING:
    from ..model import ResourceView


def when(value: datetime | None) -> str:
    """A stored (naive UTC) time for a table."""
    return value.strftime("%Y-%m-%d %H:%M:%S") + "Z" if value else ""


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) if c is not None else "" for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def sharing(view: ResourceView) -> str:
    """The grey badge: "shared (N)" where the caller may count the grants."""
    if view.share_count:
        return f"shared ({view.share_count})"
    return ""


def resource_table(views: Sequence[ResourceView]) -> str:
    """Rows of resources; with containers, a STATE column says whether each one's server
    runs (`liveness`: running, stopped, or unknown for a server on another machine)."""
    from ..liveness import container_state

    expiring = any(v.expires_at for v in views)
    sessions = any(v.resource.kind == Kind.SESSION for v in views)
    headers = ["NAME", "KIND", "OWNER", "ACCESS", "SHARING"] + (["STATE"] if sessions else [])
    headers += (["EXPIRES"] if expiring else []) + ["ID"]
    rows = []
    for v in views:
        r = v.resource
        row = [r.name, r.kind.value, r.owner, v.access, sharing(v)]
        if sessions:
            row.append(container_state(r.spec) if r.kind == Kind.SESSION else "")
        if expiring:
            row.append(when(v.expires_at))
        rows.append(row + [r.id])
    return table(headers, rows)


def environment_summary(env: dict) -> str:
    parts = [f"Python {env.get('python', '?')} on {env.get('platform', '?')}"]
    parts.append(f"{len(env.get('packages') or [])} pip packages")
    if env.get("conda"):
        parts.append(f"{len(env['conda'].get('packages') or [])} conda packages")
    if env.get("kernelspecs"):
        parts.append("kernels " + ", ".join(k.get("name", "?") for k in env["kernelspecs"]))
    if env.get("captured_at"):
        parts.append(f"captured {env['captured_at']}")
    return "; ".join(parts)


def paging_note(shown: int, offset: int | None, total: int) -> None:
    first = offset or 0
    if first + shown < total:
        print(f"({shown} of {total} shown: use --offset {first + shown} for more)", file=sys.stderr)


def progress(data: dict, seen: list) -> None:
    """One line per step and count, to stderr (stdout keeps the answer, e.g. --json)."""
    key = (data.get("state"), data.get("step"), data.get("done"))
    if seen and seen[-1] == key:
        return
    seen.append(key)
    count = f" {data['done']}/{data['total']}" if data.get("total") else ""
    print(f"[{data.get('step')}{count}] {data.get('message', '')}", file=sys.stderr, flush=True)
