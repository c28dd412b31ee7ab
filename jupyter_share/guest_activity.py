"""What guests hold open and what they started in the owner's container, so that when their
access ends or shrinks nothing of theirs goes on: their websockets are closed, and the
kernels and terminals they started (and nobody else did) are stopped.

A kernel or terminal is the guest's when it appeared while the guest's request to start one
was answered (a guest's `POST /api/kernels`, `/api/sessions` or `/api/terminals`, or a
`PATCH /api/sessions/ID` that changes a session's kernel).

It also keeps each guest's presence, for the owner and managers (`GET sessions/current/guests`):
when they signed in, their last request, the address it came from, and their open websockets by
kind. Presence is about *now*: it lives in this server's memory only, starts empty when the
server starts, and a guest's entry goes when their access ends. Each change worth showing
(signed in, started a kernel or terminal, a websocket opened or closed, went idle, active
again, gone) is told to
`on_presence` (the app emits it as a `jupyter_share/presence` event).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tornado import web
from tornado.websocket import WebSocketHandler

from .model import Permission, utcnow
from .service.guests import Guest, handler_name, refused_on_socket

log = logging.getLogger(__name__)

#: (handler class, method) of the requests that may start a kernel, or a terminal.
_STARTS_KERNEL = frozenset(
    {
        ("jupyter_server.services.kernels.handlers.MainKernelHandler", "POST"),
        ("jupyter_server.services.sessions.handlers.SessionRootHandler", "POST"),
        ("jupyter_server.services.sessions.handlers.SessionHandler", "PATCH"),
    }
)
_STARTS_TERMINAL = frozenset(
    {("jupyter_server_terminals.api_handlers.TerminalRootHandler", "POST")}
)


@dataclass
class Started:
    kernels: set[str] = field(default_factory=set)
    terminals: set[str] = field(default_factory=set)


#: The kind of an open websocket, by handler class (anything else: "other").
SOCKET_KINDS = {
    "jupyter_server.services.kernels.websocket.KernelWebsocketHandler": "kernel",
    "jupyter_server_terminals.handlers.TermSocket": "terminal",
    "jupyter_server_ydoc.handlers.YDocWebSocketHandler": "document",
    "jupyter_server.services.events.handlers.SubscribeWebsocket": "events",
    "jupyter_lsp.handlers.LanguageServerWebSocketHandler": "language-server",
}
SOCKET_KIND_NAMES = ("kernel", "terminal", "document", "events", "language-server", "other")

#: A guest with no open websocket is "in now" while their last request is this recent (seconds).
#: JupyterLab polls the server every few seconds while its tab is shown.
IDLE_AFTER = 60.0


def socket_kind(handler: WebSocketHandler) -> str:
    return SOCKET_KINDS.get(handler_name(type(handler)), "other")


def socket_target(handler: WebSocketHandler) -> str | None:
    """What an open websocket is about: a kernel id, a terminal name, a document's room."""
    kind = socket_kind(handler)
    if kind == "kernel":
        return handler.path_kwargs.get("kernel_id")
    if kind in ("terminal", "document"):
        args = list(handler.path_args) + list(handler.path_kwargs.values())
        return str(args[0]) if args else None
    return None


def is_open(handler: WebSocketHandler) -> bool:
    connection = getattr(handler, "ws_connection", None)
    return connection is not None and not connection.is_closing()


@dataclass
class Presence:
    """One guest (one link) in this container, as this server saw them."""

    link_id: str
    username: str
    permission: Permission
    #: When they signed in by their link, or first came in since this server started.
    signed_in_at: datetime
    #: Their last request (a websocket's messages do not count; an open one keeps them in).
    last_active_at: datetime
    #: The client address of their last request (`X-Forwarded-For` if the server trusts it).
    address: str
    _last_active: float = field(default_factory=time.monotonic, repr=False)
    #: Whether they were "in now" when last looked at (to tell when it changes).
    _was_in: bool = field(default=True, repr=False)


class GuestActivity:
    """Open websockets and started kernels and terminals, by link id."""

    def __init__(
        self,
        serverapp: Any,
        on_presence: Callable[[dict], None] | None = None,
        idle_after: float = IDLE_AFTER,
    ):
        self.serverapp = serverapp
        self._sockets: dict[str, weakref.WeakSet[WebSocketHandler]] = {}
        self._started: dict[str, Started] = {}
        self._presence: dict[str, Presence] = {}
        self.on_presence = on_presence or (lambda change: None)
        self.idle_after = idle_after

    # -- kernels and terminals --------------------------------------------------------------

    def _kernel_ids(self) -> set[str]:
        return set(self.serverapp.kernel_manager.list_kernel_ids())

    def _terminal_names(self) -> set[str]:
        manager = self.serverapp.web_app.settings.get("terminal_manager")
        return {t["name"] for t in manager.list()} if manager is not None else set()

    def admitted(self, guest: Guest, handler: web.RequestHandler) -> None:
        """A guest's request is about to run: keep their websocket, or watch what it starts."""
        self._seen(guest, handler.request.remote_ip or "")
        if isinstance(handler, WebSocketHandler):
            self._sockets.setdefault(guest.link_id, weakref.WeakSet()).add(handler)
            self._follow_socket(guest, handler)
            return
        request = (handler_name(type(handler)), handler.request.method)
        if request not in _STARTS_KERNEL and request not in _STARTS_TERMINAL:
            return
        kernels = request in _STARTS_KERNEL
        list_ids: Callable[[], set[str]] = self._kernel_ids if kernels else self._terminal_names
        before = list_ids()
        on_finish = handler.on_finish

        def record() -> None:
            on_finish()
            if handler.get_status() < 300:
                new = list_ids() - before
                started = self._started.setdefault(guest.link_id, Started())
                (started.kernels if kernels else started.terminals).update(new)
                presence = self._presence.get(guest.link_id)
                if new and presence is not None:
                    self._tell("start", presence, "kernel" if kernels else "terminal")

        handler.on_finish = record  # type: ignore[method-assign]

    def started_by(self, link_id: str) -> Started:
        """What this guest started that still runs."""
        started = self._started.get(link_id, Started())
        return Started(
            started.kernels & self._kernel_ids(), started.terminals & self._terminal_names()
        )

    async def stop_started(self, link_id: str) -> Started:
        """Stop the kernels and terminals the guest started; what was stopped."""
        started = self.started_by(link_id)
        self._started.pop(link_id, None)
        for kernel_id in started.kernels:
            try:
                await self.serverapp.kernel_manager.shutdown_kernel(kernel_id)
            except Exception:  # gone meanwhile
                log.debug("stopping a guest's kernel failed", exc_info=True)
        manager = self.serverapp.web_app.settings.get("terminal_manager")
        for name in started.terminals:
            try:
                await manager.terminate(name, force=True)
            except Exception:
                log.debug("stopping a guest's terminal failed", exc_info=True)
        if started.kernels or started.terminals:
            log.info(
                "jupyter_share: stopped %d kernel(s) and %d terminal(s) a guest started",
                len(started.kernels),
                len(started.terminals),
            )
        return started

    # -- presence ---------------------------------------------------------------------------

    def _tell(self, action: str, presence: Presence, socket: str | None = None) -> None:
        change = {"action": action, "guest": presence.username}
        if socket:
            change["socket"] = socket
        try:
            self.on_presence(change)
        except Exception:
            log.debug("telling a presence change failed", exc_info=True)

    def _seen(self, guest: Guest, address: str) -> None:
        now = utcnow()
        presence = self._presence.get(guest.link_id)
        if presence is None:
            presence = self._presence[guest.link_id] = Presence(
                guest.link_id, guest.username, guest.permission, now, now, address
            )
            self._tell("sign-in", presence)
            return
        was_in = self.in_now(presence)
        presence.last_active_at, presence._last_active = now, time.monotonic()
        presence.permission, presence.address = guest.permission, address or presence.address
        if not was_in:
            presence._was_in = True
            self._tell("active", presence)

    def signed_in(self, guest: Guest, address: str) -> None:
        """A guest opened their link (again): they signed in now."""
        self._presence.pop(guest.link_id, None)  # its sockets stay followed: they are kept apart
        self._seen(guest, address)

    def _follow_socket(self, guest: Guest, handler: WebSocketHandler) -> None:
        """Tell when a guest's websocket opens and closes."""
        kind = socket_kind(handler)
        open_, on_close = handler.open, handler.on_close

        def opened(*args: Any, **kwargs: Any) -> Any:
            result = open_(*args, **kwargs)
            presence = self._presence.get(guest.link_id)
            if presence is not None:
                self._tell("open", presence, kind)
            return result

        def closed() -> None:
            on_close()
            presence = self._presence.get(guest.link_id)
            if presence is not None:
                presence.last_active_at, presence._last_active = utcnow(), time.monotonic()
                self._tell("close", presence, kind)

        handler.open = opened
        handler.on_close = closed  # type: ignore[method-assign]

    def open_sockets(self, link_id: str) -> list[WebSocketHandler]:
        return [h for h in list(self._sockets.get(link_id, ())) if is_open(h)]

    def in_now(self, presence: Presence) -> bool:
        """In the container now: a websocket open, or a request in the last `idle_after` s."""
        return (
            bool(self.open_sockets(presence.link_id))
            or time.monotonic() - presence._last_active < self.idle_after
        )

    def present(self) -> list[Presence]:
        """Every guest seen since this server started whose access has not ended."""
        return sorted(self._presence.values(), key=lambda p: (p.username, p.link_id))

    def what_is_open(self, link_id: str) -> dict:
        """A guest's open websockets by kind, and the kernels, terminals and documents' rooms
        they hold open or started (that still run)."""
        counts = dict.fromkeys(SOCKET_KIND_NAMES, 0)
        held: dict[str, set[str]] = {"kernel": set(), "terminal": set(), "document": set()}
        for handler in self.open_sockets(link_id):
            kind = socket_kind(handler)
            counts[kind] += 1
            target = socket_target(handler)
            if target and kind in held:
                held[kind].add(target)
        started = self.started_by(link_id)
        return {
            "sockets": counts,
            "kernels": sorted(held["kernel"] | started.kernels),
            "terminals": sorted(held["terminal"] | started.terminals),
            "rooms": sorted(held["document"]),
        }

    def check_idle(self) -> None:
        """Tell who went idle since the last look (called periodically)."""
        for presence in list(self._presence.values()):
            if presence._was_in and not self.in_now(presence):
                presence._was_in = False
                self._tell("idle", presence)

    def forget(self, link_id: str) -> None:
        """The guest's access ended: they are gone."""
        presence = self._presence.pop(link_id, None)
        if presence is not None:
            self._tell("gone", presence)

    # -- following access -------------------------------------------------------------------

    def link_ids(self) -> list[str]:
        """The links whose guests hold something here now."""
        for link_id in [k for k, v in self._sockets.items() if not v]:
            del self._sockets[link_id]
        return sorted(set(self._sockets) | set(self._started) | set(self._presence))

    async def follow(self, guests: dict[str, Guest | None]) -> int:
        """Close the websockets of guests whose access ended (None) or no longer covers them,
        and stop what guests whose access ended started. Returns how many sockets closed."""
        closed = 0
        for link_id, guest in guests.items():
            for handler in list(self._sockets.get(link_id, ())):
                if guest is None or refused_on_socket(guest, type(handler)):
                    reason = "access revoked" if guest is None else "access changed"
                    log.info(
                        "jupyter_share: closing a websocket of a guest (%s): %s",
                        reason,
                        handler.request.path,
                    )
                    try:
                        handler.close(4403, reason)
                    except Exception:  # already closing
                        log.debug("closing a guest websocket failed", exc_info=True)
                    closed += 1
            if guest is None:
                await self.stop_started(link_id)
                self.forget(link_id)
            elif link_id in self._presence:
                self._presence[link_id].permission = guest.permission
        self.check_idle()
        return closed
