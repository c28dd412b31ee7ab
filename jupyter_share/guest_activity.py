"""What guests hold open and what they started in the owner's container, so that when their
access ends or shrinks nothing of theirs goes on: their websockets are closed, and the
kernels and terminals they started (and nobody else did) are stopped.

A kernel or terminal is the guest's when it appeared while the guest's request to start one
was answered (a guest's `POST /api/kernels`, `/api/sessions` or `/api/terminals`, or a
`PATCH /api/sessions/ID` that changes a session's kernel).
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from tornado import web
from tornado.websocket import WebSocketHandler

from .guests import Guest, handler_name, refused_on_socket

log = logging.getLogger(__name__)

#: (handler class, method) of the requests that may start a kernel, or a terminal.
_STARTS_KERNEL = frozenset(
    {("jupyter_server.services.kernels.handlers.MainKernelHandler", "POST"),
     ("jupyter_server.services.sessions.handlers.SessionRootHandler", "POST"),
     ("jupyter_server.services.sessions.handlers.SessionHandler", "PATCH")}
)
_STARTS_TERMINAL = frozenset({("jupyter_server_terminals.api_handlers.TerminalRootHandler", "POST")})


@dataclass
class Started:
    kernels: set[str] = field(default_factory=set)
    terminals: set[str] = field(default_factory=set)


class GuestActivity:
    """Open websockets and started kernels and terminals, by link id."""

    def __init__(self, serverapp: Any):
        self.serverapp = serverapp
        self._sockets: dict[str, "weakref.WeakSet[WebSocketHandler]"] = {}
        self._started: dict[str, Started] = {}

    # -- kernels and terminals --------------------------------------------------------------

    def _kernel_ids(self) -> set[str]:
        return set(self.serverapp.kernel_manager.list_kernel_ids())

    def _terminal_names(self) -> set[str]:
        manager = self.serverapp.web_app.settings.get("terminal_manager")
        return {t["name"] for t in manager.list()} if manager is not None else set()

    def admitted(self, guest: Guest, handler: web.RequestHandler) -> None:
        """A guest's request is about to run: keep their websocket, or watch what it starts."""
        if isinstance(handler, WebSocketHandler):
            self._sockets.setdefault(guest.link_id, weakref.WeakSet()).add(handler)
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

        handler.on_finish = record  # type: ignore[method-assign]

    def started_by(self, link_id: str) -> Started:
        """What this guest started that still runs."""
        started = self._started.get(link_id, Started())
        return Started(started.kernels & self._kernel_ids(), started.terminals & self._terminal_names())

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
            log.info("jupyter_share: stopped %d kernel(s) and %d terminal(s) a guest started",
                     len(started.kernels), len(started.terminals))
        return started

    # -- following access -------------------------------------------------------------------

    def link_ids(self) -> list[str]:
        """The links whose guests hold something here now."""
        for link_id in [k for k, v in self._sockets.items() if not v]:
            del self._sockets[link_id]
        return sorted(set(self._sockets) | set(self._started))

    async def follow(self, guests: dict[str, Optional[Guest]]) -> int:
        """Close the websockets of guests whose access ended (None) or no longer covers them,
        and stop what guests whose access ended started. Returns how many sockets closed."""
        closed = 0
        for link_id, guest in guests.items():
            for handler in list(self._sockets.get(link_id, ())):
                if guest is None or refused_on_socket(guest, type(handler)):
                    reason = "access revoked" if guest is None else "access changed"
                    log.info("jupyter_share: closing a websocket of a guest (%s): %s", reason, handler.request.path)
                    try:
                        handler.close(4403, reason)
                    except Exception:  # already closing
                        log.debug("closing a guest websocket failed", exc_info=True)
                    closed += 1
            if guest is None:
                await self.stop_started(link_id)
        return closed
