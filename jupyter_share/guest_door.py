"""Letting a guest into the owner's server, in either mode (a personal link standalone, a Hub
share under JupyterHub): the request is marked as the guest's, held to what the guest guard
allows (`guests.refusal`), served without the server's token, and followed, so that what the
guest holds open ends or narrows when their access does."""

from __future__ import annotations

from tornado import web

from .guest_activity import GuestActivity
from .readonly_rooms import hold_to_permission
from .service.guests import Guest, refusal

_GUEST_CLASSES: dict[type, type] = {}


def _without_token(cls: type) -> type:
    """`cls` with no server token for its templates and page config (`JupyterHandler.token`):
    a guest's request renders none, whatever its length or its template."""
    if cls not in _GUEST_CLASSES:
        _GUEST_CLASSES[cls] = type(
            cls.__name__,
            (cls,),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "token": property(lambda self: None),
            },
        )
    return _GUEST_CLASSES[cls]


class GuestDoor:
    def __init__(self, activity: GuestActivity):
        self.activity = activity
        #: Each guest's permission as last checked, by link id (see `readonly_rooms`).
        self._permissions: dict = {}

    def admit(self, handler: web.RequestHandler, guest: Guest, hub: bool = False) -> None:
        """Mark the request as the guest's, refuse (403) what they may not do, and follow what
        they open and start, to end it when their access ends or shrinks."""
        # Marks that `auth.guest_of` reads; tornado's classes do not declare them.
        handler._jupyter_share_guest = guest  # type: ignore[attr-defined]
        handler.request._jupyter_share_guest = guest  # type: ignore[attr-defined]
        why = refusal(guest, handler, hub)
        if why:
            # Signed in, but not for this: error pages and logs may read current_user.
            handler.current_user = None
            raise web.HTTPError(403, why)
        # A whole answer or none: parts of a file could carry a secret past the mask, piece by
        # piece (secret_filter masks what it sees together).
        for name in ("Range", "If-Range"):
            if name in handler.request.headers:
                del handler.request.headers[name]
        handler.__class__ = _without_token(type(handler))
        self.activity.admitted(guest, handler)
        # A view guest's document rooms drop their changes, following their permission now.
        self._permissions[guest.link_id] = guest.permission
        hold_to_permission(handler, lambda: self._permissions.get(guest.link_id))

    def follow(self, guests: dict) -> None:
        """Each guest's permission as just checked (None: their access ended)."""
        for link_id, guest in guests.items():
            if guest is None:
                self._permissions.pop(link_id, None)
            else:
                self._permissions[link_id] = guest.permission
