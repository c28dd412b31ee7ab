"""Identity and authorization in the owner's container: who a request acts as, through
jupyter_server's own hooks.

The configured identity provider and authorizer stay what they are: `install` mixes a small
class into each instance's own class, so they are still instances of the configured classes,
keep their configuration and attributes, and anything that inspects or configures them
reaches them. What the mixins add:

- Whoever the configured provider authenticates is who it says (standalone: the owner, with
  the provider's name, initials, colour and avatar; under JupyterHub the owner or a Hub user
  the share service lets in as a guest, `hooks.authenticated`).
- A request nobody authenticated may carry a guest's credential (a personal link's cookie,
  `hooks.guest`).
- A guest never receives an owner's credential: no login cookie is set and no identity is
  updated for a request that acts as a guest.
- The authorizer holds guests to `guests.refusal` before asking the configured one.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional, Union

from jupyter_server.auth.identity import User
from tornado import web

from .guests import ANONYMOUS_FOR_GUESTS, Guest, handler_name

MaybeAwaitable = Union[Any, Awaitable[Any]]


@dataclass
class IdentityHooks:
    """What the share extension says about a request's identity."""

    #: (handler, user the configured provider authenticated) -> that user, or refuse (raise).
    authenticated: Callable[[web.RequestHandler, User], MaybeAwaitable]
    #: handler -> the guest User its credential names (admitted), or None.
    guest: Optional[Callable[[web.RequestHandler], MaybeAwaitable]] = None
    #: handler -> forget the guest credential in this browser (logging out).
    clear_guest: Optional[Callable[[web.RequestHandler], None]] = None


async def _maybe_await(value: MaybeAwaitable) -> Any:
    return await value if inspect.isawaitable(value) else value


def guest_of(handler: web.RequestHandler) -> Optional[Guest]:
    """The guest a request acts as (set while it was authenticated), or None."""
    return getattr(handler, "_jupyter_share_guest", None)


def is_owner_request(request: Any) -> bool:
    """Whether the server's own identity provider authenticated this request (the owner, or
    under JupyterHub anyone the Hub authenticated who is not a guest here)."""
    return getattr(request, "_jupyter_share_owner", False)


class _NoGuestCredentials(web.HTTPError):
    def __init__(self) -> None:
        super().__init__(403, "a guest cannot sign in or change identity here")


class ShareIdentityProviderMixin:
    """Mixed into the configured identity provider's class by `install`."""

    _jupyter_share: IdentityHooks

    async def get_user(self, handler: web.RequestHandler) -> Optional[User]:
        user = await _maybe_await(super().get_user(handler))  # type: ignore[misc]
        hooks = self._jupyter_share
        if user is not None:
            # The owner's credentials win over a guest cookie in the same browser.
            user = await _maybe_await(hooks.authenticated(handler, user))
            if user is not None and guest_of(handler) is None:
                handler.request._jupyter_share_owner = True  # type: ignore[attr-defined]
            return user
        if hooks.guest is None or handler_name(type(handler)) in ANONYMOUS_FOR_GUESTS:
            return None
        return await _maybe_await(hooks.guest(handler))

    def set_login_cookie(self, handler: web.RequestHandler, user: User) -> None:
        if guest_of(handler) is not None:
            raise _NoGuestCredentials()
        super().set_login_cookie(handler, user)  # type: ignore[misc]

    def update_user(self, handler: web.RequestHandler, user_data: dict) -> User:
        if guest_of(handler) is not None:
            raise _NoGuestCredentials()
        return super().update_user(handler, user_data)  # type: ignore[misc]

    def persist_user_model(self, handler: web.RequestHandler) -> None:
        if guest_of(handler) is not None:
            raise _NoGuestCredentials()
        super().persist_user_model(handler)  # type: ignore[misc]

    def clear_login_cookie(self, handler: web.RequestHandler) -> None:
        super().clear_login_cookie(handler)  # type: ignore[misc]
        if self._jupyter_share.clear_guest is not None:
            self._jupyter_share.clear_guest(handler)


class ShareAuthorizerMixin:
    """Mixed into the configured authorizer's class by `install`: a guest is held to the
    guest rules (checked as the request was authenticated) and never acts on the server
    itself; then the configured authorizer decides, as for everyone."""

    def is_authorized(self, handler: web.RequestHandler, user: User, action: str, resource: str) -> Any:
        guest = guest_of(handler)
        if guest is not None and (resource == "server" or (resource == "config" and action != "read")):
            return False
        return super().is_authorized(handler, user, action, resource)  # type: ignore[misc]


def _mix(instance: Any, mixin: type) -> None:
    """Give `instance` a class that is its own class with `mixin` in front, once."""
    cls = type(instance)
    if issubclass(cls, mixin):
        return
    instance.__class__ = type(cls.__name__, (mixin, cls), {"__module__": cls.__module__, "__doc__": cls.__doc__})


def install(serverapp: Any, hooks: IdentityHooks) -> None:
    """Extend the server's identity provider and authorizer in place (see the module's doc)."""
    provider = serverapp.web_app.settings["identity_provider"]
    _mix(provider, ShareIdentityProviderMixin)
    provider._jupyter_share = hooks
    _mix(serverapp.web_app.settings["authorizer"], ShareAuthorizerMixin)


def owner_user(username: str, display_name: Optional[str] = None) -> User:
    """A jupyter_server User with a name and nothing else (a guest's, as a link names them)."""
    return User(username=username, name=username, display_name=display_name or username)
