"""Identity and authorization: who a request acts as, and what a guest may do.

jupyter_server alone gives each token-authenticated client a fresh anonymous name, so the same
person shows up under a new name in every browser. Standalone, the server belongs to one user:
`ShareIdentityProvider` wraps the configured identity provider and gives everyone it
authenticates (token or login cookie) the name `ShareApp.username`. Under JupyterHub the
configured provider already names the Hub user, and it is left alone. Requests it does not
authenticate may carry a guest's link cookie: then they act as that guest, within the rules
of `guests`, which `ShareAuthorizer` also applies, before the configured authorizer.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web

from .guests import Guest, authorizer_allows

# What jupyter_server and its extensions read of an identity provider, passed to the wrapped one
# so that login, logout, tokens and cookies work exactly as configured.
_DELEGATED = frozenset(
    {
        "auth_enabled",
        "clear_login_cookie",
        "cookie_name",
        "cookie_options",
        "cookie_secret_hook",
        "get_cookie_name",
        "get_handlers",
        "get_secure_cookie_kwargs",
        "get_token",
        "get_user_cookie",
        "get_user_token",
        "generate_anonymous_user",
        "is_token_authenticated",
        "login_available",
        "login_handler_class",
        "logout_available",
        "logout_handler_class",
        "need_token",
        "process_login_form",
        "set_login_cookie",
        "should_check_origin",
        "token",
        "token_generated",
        "updatable_fields",
        "update_user",
        "user_from_cookie",
        "user_to_cookie",
        "validate_security",
        "_force_clear_cookie",
    }
)


class ShareIdentityProvider(IdentityProvider):
    """Wraps the server's identity provider; maps whom it authenticates to a share user."""

    def __init__(
        self,
        wrapped: IdentityProvider,
        resolve: Callable[[web.RequestHandler, User], Optional[User]],
        resolve_guest: Optional[Callable[[web.RequestHandler], Optional[User]]] = None,
        **kwargs: Any,
    ):
        # Set before traitlets runs, since attribute reads go to `wrapped` from the start.
        object.__setattr__(self, "_wrapped", wrapped)
        object.__setattr__(self, "_resolve", resolve)
        object.__setattr__(self, "_resolve_guest", resolve_guest)
        # No parent: config meant for the wrapped provider must not land on the wrapper.
        super().__init__(log=wrapped.log, **kwargs)

    @property
    def wrapped(self) -> IdentityProvider:
        return object.__getattribute__(self, "_wrapped")

    def __getattribute__(self, name: str) -> Any:
        if name in _DELEGATED:
            return getattr(object.__getattribute__(self, "_wrapped"), name)
        return super().__getattribute__(name)

    def __getattr__(self, name: str) -> Any:
        # Attributes of a subclass of the wrapped provider (e.g. `hashed_password`).
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "_wrapped"), name)

    async def get_user(self, handler: web.RequestHandler) -> Optional[User]:
        user = self.wrapped.get_user(handler)
        if inspect.isawaitable(user):
            user = await user
        if user is not None:
            # The owner's credentials win over a guest cookie in the same browser.
            resolved = object.__getattribute__(self, "_resolve")(handler, user)
            return await resolved if inspect.isawaitable(resolved) else resolved
        resolve_guest = object.__getattribute__(self, "_resolve_guest")
        return resolve_guest(handler) if resolve_guest else None

    def identity_model(self, user: User) -> dict:
        return self.wrapped.identity_model(user)


def owner_user(username: str, display_name: Optional[str] = None) -> User:
    """The jupyter_server User for the server's owner."""
    return User(username=username, name=username, display_name=display_name or username)


def guest_of(handler: web.RequestHandler) -> Optional[Guest]:
    """The guest a request acts as (set while it was authenticated), or None."""
    return getattr(handler, "_jupyter_share_guest", None)


class ShareAuthorizer(Authorizer):
    """Wraps the server's authorizer: guests are held to their permission first, then every
    request (guest or owner) also needs the configured authorizer's yes."""

    def __init__(self, wrapped: Authorizer, **kwargs: Any):
        super().__init__(identity_provider=wrapped.identity_provider, log=wrapped.log, **kwargs)
        self.wrapped = wrapped

    def is_authorized(self, handler: web.RequestHandler, user: User, action: str, resource: str):
        guest = guest_of(handler)
        if guest is not None and not authorizer_allows(guest, action, resource):
            return False
        return self.wrapped.is_authorized(handler, user, action, resource)


def install(serverapp: Any, settings: dict, resolve, resolve_guest) -> ShareIdentityProvider:
    """Put the share identity provider and authorizer in front of the server's own, once.
    `settings` is the extension's settings dict, which ExtensionApp copies over the web app's."""
    current = serverapp.web_app.settings["identity_provider"]
    if isinstance(current, ShareIdentityProvider):
        return current
    provider = ShareIdentityProvider(current, resolve, resolve_guest)
    authorizer = ShareAuthorizer(serverapp.web_app.settings["authorizer"])
    authorizer.identity_provider = provider
    serverapp.identity_provider = provider
    serverapp.authorizer = authorizer
    for target in (serverapp.web_app.settings, settings):
        target["identity_provider"] = provider
        target["authorizer"] = authorizer
    return provider
