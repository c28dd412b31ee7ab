"""Identity and authorization in the owner's container: who a request acts as, through
jupyter_server's own hooks.

The configured identity provider and authorizer stay what they are: `install` replaces a few
methods on each instance, calling the originals, so they keep their exact type, their
configuration and attributes, and anything that inspects or configures them reaches them.
What it adds:

- Whoever the configured provider authenticates is who it says (standalone: the owner, with
  the provider's name, initials, colour and avatar; under JupyterHub the owner or a Hub user
  the share service lets in as a guest, `hooks.authenticated`).
- A request nobody authenticated may carry a guest's credential (a personal link's cookie,
  `hooks.guest`).
- A guest never receives an owner's credential: no login cookie is set and no identity is
  updated for a request that acts as a guest.
- The authorizer never lets a guest act on the server itself or write its config, then asks
  the configured one (guests are held to `guests.refusal` as they are authenticated).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jupyter_server.auth.identity import User
from tornado import web

from .service.guests import ANONYMOUS_FOR_GUESTS, Guest, handler_name

MaybeAwaitable = Any | Awaitable[Any]


@dataclass
class IdentityHooks:
    """What the share extension says about a request's identity."""

    #: (handler, user the configured provider authenticated) -> that user, or refuse (raise).
    authenticated: Callable[[web.RequestHandler, User], MaybeAwaitable]
    #: handler -> the guest User its credential names (admitted), or None.
    guest: Callable[[web.RequestHandler], MaybeAwaitable] | None = None
    #: handler -> forget the guest credential in this browser (logging out).
    clear_guest: Callable[[web.RequestHandler], None] | None = None


async def _maybe_await(value: MaybeAwaitable) -> Any:
    return await value if inspect.isawaitable(value) else value


def guest_of(handler: web.RequestHandler) -> Guest | None:
    """The guest a request acts as (set while it was authenticated), or None."""
    return getattr(handler, "_jupyter_share_guest", None)


def is_owner_request(request: Any) -> bool:
    """Whether the server's own identity provider authenticated this request (the owner, or
    under JupyterHub anyone the Hub authenticated who is not a guest here)."""
    return getattr(request, "_jupyter_share_owner", False)


class _NoGuestCredentials(web.HTTPError):
    def __init__(self) -> None:
        super().__init__(403, "a guest cannot sign in or change identity here")


def _extend_identity_provider(provider: Any, hooks: IdentityHooks) -> None:
    """Put the share behaviour on the configured identity provider instance itself: its
    methods are replaced on the instance, calling the originals, so its type, traits and
    attributes are exactly what was configured."""
    original = {
        name: getattr(provider, name)
        for name in (
            "get_user",
            "set_login_cookie",
            "update_user",
            "persist_user_model",
            "clear_login_cookie",
        )
    }

    async def get_user(handler: web.RequestHandler) -> User | None:
        user = await _maybe_await(original["get_user"](handler))
        if user is not None:
            # The owner's credentials win over a guest cookie in the same browser.
            user = await _maybe_await(hooks.authenticated(handler, user))
            if user is not None and guest_of(handler) is None:
                handler.request._jupyter_share_owner = True  # type: ignore[attr-defined]
            return user
        if hooks.guest is None or handler_name(type(handler)) in ANONYMOUS_FOR_GUESTS:
            return None
        return await _maybe_await(hooks.guest(handler))

    def refused_to_guests(name: str) -> Callable[..., Any]:
        def method(handler: web.RequestHandler, *args: Any) -> Any:
            if guest_of(handler) is not None:
                raise _NoGuestCredentials()
            return original[name](handler, *args)

        return method

    def clear_login_cookie(handler: web.RequestHandler) -> None:
        original["clear_login_cookie"](handler)
        if hooks.clear_guest is not None:
            hooks.clear_guest(handler)

    provider.get_user = get_user
    for name in ("set_login_cookie", "update_user", "persist_user_model"):
        setattr(provider, name, refused_to_guests(name))
    provider.clear_login_cookie = clear_login_cookie
    provider._jupyter_share = hooks


def _extend_authorizer(authorizer: Any) -> None:
    """A guest is held to the guest rules (checked as the request was authenticated) and
    never acts on the server itself; then the configured authorizer decides, as for
    everyone. Replaced on the instance, as for the identity provider."""
    original = authorizer.is_authorized

    def is_authorized(handler: web.RequestHandler, user: User, action: str, resource: str) -> Any:
        guest = guest_of(handler)
        if guest is not None and (
            resource == "server" or (resource == "config" and action != "read")
        ):
            return False
        return original(handler, user, action, resource)

    authorizer.is_authorized = is_authorized
    authorizer._jupyter_share = True


def install(serverapp: Any, hooks: IdentityHooks) -> None:
    """Extend the server's identity provider and authorizer in place (see the module's doc)."""
    provider = serverapp.web_app.settings["identity_provider"]
    if getattr(provider, "_jupyter_share", None) is None:
        _extend_identity_provider(provider, hooks)
    authorizer = serverapp.web_app.settings["authorizer"]
    if not getattr(authorizer, "_jupyter_share", False):
        _extend_authorizer(authorizer)


def owner_user(username: str, display_name: str | None = None) -> User:
    """A jupyter_server User with a name and nothing else (a guest's, as a link names them)."""
    return User(username=username, name=username, display_name=display_name or username)
