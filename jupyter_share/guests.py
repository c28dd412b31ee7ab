"""What a guest (a neighbour signed in by a personal link) may do in the owner's container.

Two checks, so that a handler which never asks the authorizer is still covered:
`request_refusal` looks at every guest request (method and path) as it is authenticated, and
`authorizer_allows` answers jupyter_server's authorizer questions (action, resource).

    view    read files, notebooks, kernelspecs, sessions and saved output; nothing that writes,
            starts or runs anything; of the share API only /me, shared-with-me and leaving
    edit    everything a user does (files, kernels, terminals), but not shutting the server down,
            nor the owner's settings and config
    manage  edit, and may share the container with others (each with their own link)
"""

from __future__ import annotations

import logging
import re
import weakref
from dataclasses import dataclass
from typing import Optional

from tornado.websocket import WebSocketHandler

from .model import Permission

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Paths relative to the server's base_url.
_SHARE_API = re.compile(r"^jupyter-share/api/v1/(.*)$")
_GUEST_SHARE_READS = re.compile(r"^(me|shared-with-me|sessions/current)$")
_GUEST_CONTAINER = re.compile(r"^sessions/current(/.*)?$")
_SHUTDOWN = re.compile(r"^api/shutdown/?$")
# Connections that run code or watch the owner's activity live; all GET requests.
_LIVE_CHANNELS = re.compile(
    r"^(api/kernels/[^/]+/channels|terminals/websocket/.*|api/events/subscribe|api/collaboration/room/.*|lsp/ws/.*)/?$"
)
# The owner's own preferences.
_OWNER_SETTINGS = re.compile(r"^(lab/api/settings|api/config)(/.*)?$")


@dataclass(frozen=True)
class Guest:
    username: str
    owner: str
    permission: Permission
    link_id: str

    def describe(self) -> str:
        return f"{self.owner}'s container, {self.permission.label} only" if self.permission == Permission.VIEW else f"{self.owner}'s container, {self.permission.label}"


def relative_path(path: str, base_url: str) -> str:
    """A request's path relative to the server's base_url, as the rules here read paths."""
    return path[len(base_url):] if path.startswith(base_url) else path.lstrip("/")


def request_refusal(guest: Guest, method: str, path: str, hub: bool = False) -> Optional[str]:
    """Why `guest` may not make this request, or None if the request may go on. Under
    JupyterHub (`hub`) guests share from their own server: of the share API only /me."""
    method = method.upper()
    share = _SHARE_API.match(path)
    if share:
        rest = share.group(1).rstrip("/")
        if hub:
            if method in READ_METHODS and rest == "me":
                return None
            return "guests share from their own server: this one offers them /me only"
        if method in READ_METHODS and _GUEST_SHARE_READS.match(rest):
            return None
        if _GUEST_CONTAINER.match(rest) and "/grants" in rest:
            # Leaving (any level) and sharing this container (manage): the service's rules decide.
            return None
        return "guests share from their own server: this container offers them /me, shared-with-me and its own grants"
    if _SHUTDOWN.match(path):
        return "only the owner can shut this server down"
    if method not in READ_METHODS and _OWNER_SETTINGS.match(path):
        return "the settings belong to the container's owner"
    if guest.permission >= Permission.EDIT:
        return None
    if method not in READ_METHODS:
        return "view only: you cannot change anything here"
    if _LIVE_CHANNELS.match(path):
        return "view only: you cannot run code or open terminals here"
    return None


def authorizer_allows(guest: Guest, action: str, resource: str) -> bool:
    """jupyter_server's question: may this guest do `action` (read, write, execute) on `resource`?"""
    if resource == "share":
        return True  # the share handlers apply the rules for this guest themselves
    if resource == "server":
        return False  # shutting down
    if resource == "config" and action != "read":
        return False
    if guest.permission >= Permission.EDIT:
        return True
    return action == "read"


class GuestConnections:
    """Open websockets of guests, so that a revoked or lowered guest loses them at once."""

    def __init__(self) -> None:
        self._open: dict[str, "weakref.WeakSet[WebSocketHandler]"] = {}

    def add(self, link_id: str, handler: WebSocketHandler) -> None:
        self._open.setdefault(link_id, weakref.WeakSet()).add(handler)

    def link_ids(self) -> list[str]:
        for link_id in [k for k, v in self._open.items() if not v]:
            del self._open[link_id]
        return list(self._open)

    def close_refused(self, guests: dict[str, Optional[Guest]], base_url: str, hub: bool = False) -> int:
        """Close each open websocket whose guest is gone (None) or may no longer hold it."""
        closed = 0
        for link_id, guest in guests.items():
            for handler in list(self._open.get(link_id, ())):
                path = relative_path(handler.request.path, base_url)
                if guest is None or request_refusal(guest, "GET", path, hub):
                    reason = "access revoked" if guest is None else "access changed"
                    log.info("jupyter_share: closing a websocket of a guest (%s): %s", reason, path)
                    try:
                        handler.close(4403, reason)
                    except Exception:  # already closing
                        log.debug("closing a guest websocket failed", exc_info=True)
                    closed += 1
        return closed
