"""Who is in a container now, as its server answers `GET sessions/current/guests`: the guests
that `GuestActivity` holds in memory, with what they have open, kept to those the service
says the caller may see (`ShareService.guests_in`: the owner and managers; guests whose access
still lives).

Presence is about now: it lives in the server's memory, starts empty when the server starts,
and is not written to the store (the resource's history has the sign-ins that matter later).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from .guest_activity import GuestActivity
from .model import Permission

log = logging.getLogger(__name__)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds") + "Z"


async def _kernel_paths(serverapp: Any) -> dict[str, str]:
    """The path of each kernel's session (the notebook or console a kernel runs for)."""
    manager = getattr(serverapp, "session_manager", None)
    if manager is None:
        return {}
    try:
        sessions = await manager.list_sessions()
    except Exception:
        log.debug("listing sessions failed", exc_info=True)
        return {}
    return {
        s["kernel"]["id"]: s.get("path") or s.get("name") or "" for s in sessions if s.get("kernel")
    }


def _room_path(serverapp: Any, room: str) -> str:
    """A collaboration room `format:type:file_id` as its file's path, where jupyter-collaboration
    keeps file ids; else the room as it is."""
    file_ids = serverapp.web_app.settings.get("file_id_manager")
    parts = room.split(":", 2)
    if file_ids is not None and len(parts) == 3:
        try:
            path = file_ids.get_path(parts[2])
            if path:
                return str(path)
        except Exception:
            log.debug("no path for room %s", room, exc_info=True)
    return room


async def guests_now(
    serverapp: Any,
    activity: GuestActivity,
    permissions: dict[str, Permission],
    idle_after: float | None = None,
) -> list[dict]:
    """The presence answer's items: each guest seen since the server started whose name is in
    `permissions` (what the service allows to show), by name."""
    kernel_paths = await _kernel_paths(serverapp)
    items = []
    for presence in activity.present():
        permission = permissions.get(presence.username)
        if permission is None:
            continue
        held = activity.what_is_open(presence.link_id)
        documents = {kernel_paths[k] for k in held["kernels"] if kernel_paths.get(k)}
        documents |= {_room_path(serverapp, room) for room in held["rooms"]}
        items.append(
            {
                "username": presence.username,
                "permission": permission.label,
                "in_now": activity.in_now(presence),
                "signed_in_at": _iso(presence.signed_in_at),
                "last_active_at": _iso(presence.last_active_at),
                "address": presence.address,
                "sockets": held["sockets"],
                "kernels": held["kernels"],
                "terminals": held["terminals"],
                "documents": sorted(documents),
            }
        )
    return items
