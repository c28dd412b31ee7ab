"""View guests watch a document live, read-only: with jupyter-collaboration installed, a view
guest joins the document's room (jupyter_server_ydoc's `YDocWebSocketHandler`) and receives
every change as it happens, but the server drops what would change the document:

    kept     sync step 1 (the client says what it has; the server answers with the rest)
             awareness (who is there, their cursor: the owner sees who is watching)
    dropped  sync step 2 and updates (the client's changes), raw messages (saving), and
             anything else

The check is made on every message against the guest's permission *now*, so lowering edit to
view makes the room read-only for them at once; revoking closes the socket
(`guest_activity`).

Raised back to edit, a client whose changes were dropped is asked to sync again (the server
sends it sync step 1; it answers with all it has that the room lacks): a Yjs client numbers its
changes one after another, and the room holds back any change of a client until it has that
client's earlier ones, so without this his edits after the raise would never show. What he
kept from his view-only time comes in with them (a view guest's JupyterLab writes nothing but
the room's id into the document's state; edit lets him change anything anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from tornado import web

from .model import Permission
from .service.guests import handler_name, may_change_documents

if TYPE_CHECKING:
    from jupyter_server.base.handlers import JupyterHandler

ROOM_HANDLER = "jupyter_server_ydoc.handlers.YDocWebSocketHandler"
# y-protocols message types (the first var-uint of a message) and sync steps (the second).
_SYNC, _AWARENESS = 0, 1
_SYNC_STEP1 = 0


def _var_uints(message: bytes, count: int) -> list[int]:
    """The first `count` var-uints of `message` (y-protocols' encoding); fewer if it ends."""
    values, value, shift = [], 0, 0
    for byte in message:
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            values.append(value)
            if len(values) == count:
                break
            value, shift = 0, 0
        else:
            shift += 7
            if shift > 63:
                break
    return values


def changes_nothing(message: Any) -> bool:
    """Whether a client's room message only reads (sync step 1) or says who is there
    (awareness)."""
    if not isinstance(message, (bytes, bytearray)):
        return False
    head = _var_uints(bytes(message), 2)
    return head[:1] == [_AWARENESS] or head == [_SYNC, _SYNC_STEP1]


def hold_to_permission(
    handler: web.RequestHandler, permission_now: Callable[[], Permission | None]
) -> None:
    """Make a guest's room socket drop the messages that would change the document whenever
    their permission is below edit."""
    if handler_name(type(handler)) != ROOM_HANDLER:
        return
    original = handler.on_message  # type: ignore[attr-defined]
    # The room handler is a JupyterHandler, whose `log` is the server's.
    log: logging.Logger = getattr(handler, "log", None) or logging.getLogger(__name__)
    dropped = 0
    behind = False  # changes were dropped since the client last synced

    def on_message(message: Any) -> Any:
        nonlocal dropped, behind
        permission = permission_now()
        if may_change_documents(permission):
            if behind:
                behind = False
                _ask_to_sync(handler)
            return original(message)
        if changes_nothing(message):
            return original(message)
        dropped += 1
        behind = True
        if dropped == 1 or dropped % 100 == 0:
            log.info(
                "jupyter_share: dropped %d change(s) a view guest sent to %s",
                dropped,
                handler.request.path,
            )
        return None

    handler.on_message = on_message  # type: ignore[attr-defined]


def _ask_to_sync(handler: web.RequestHandler) -> None:
    """Send the client sync step 1 of the room's document (y-protocols): it answers with
    every change of its own that the room does not have."""
    ydoc = getattr(getattr(handler, "room", None), "ydoc", None)
    if ydoc is None:
        return
    # jupyter-collaboration's CRDT library: installed with it only (this runs in its rooms
    # only), so missing where mypy runs without it; typed where it is installed.
    from pycrdt import create_sync_message  # type: ignore[import-not-found, unused-ignore]

    try:
        handler.write_message(create_sync_message(ydoc), binary=True)  # type: ignore[attr-defined]
    except Exception:  # closed meanwhile: a new connection syncs anyway
        # The room handler is a JupyterHandler, whose `log` is the server's.
        cast("JupyterHandler", handler).log.debug(
            "jupyter_share: could not ask %s to sync", handler.request.path
        )
