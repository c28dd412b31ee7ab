"""REST API v1 (jupyter_share/openapi.yaml; docs/architecture.md, "Layers"): thin handlers
over `ShareService`, one module per group of resources.

Handlers parse the request, call one service method in a worker thread (the store may wait on
a lock or the network) and shape the answer. Refusals are `ShareError`s, mapped to status codes
in one place, `ShareAPIBase._handle_request_exception` (handlers/base.py).

The handler classes the routes serve are made here (`api_routes`), so that their names are
`jupyter_share.handlers.XHandler` wherever the endpoint lives: guests.ROUTES lists them so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop

from ..model import Kind, NotFound
from .base import API_PREFIX, ShareAPIBase, SignInRequired
from .environments import (
    BuiltEnvironmentCancelEndpoint,
    BuiltEnvironmentEndpoint,
    BuiltEnvironmentLogEndpoint,
    BuiltEnvironmentsEndpoint,
    EnvironmentEndpoint,
    UseImageEndpoint,
)
from .grants import GrantEndpoint, GrantsEndpoint, LinkReissueEndpoint
from .launch import LaunchEndpoint, StopEndpoint
from .requests import MyRequestsEndpoint, RequestEndpoint, RequestsEndpoint
from .resources import (
    CollectionEndpoint,
    DirectoryEndpoint,
    GuestsEndpoint,
    HistoryEndpoint,
    MeEndpoint,
    ResourceEndpoint,
    SharedWithMeEndpoint,
)
from .standalone import ShareAPIHandler

if TYPE_CHECKING:
    from ..app import ShareApp

__all__ = [
    "API_PREFIX",
    "BUILT_HERE",
    "ENDPOINTS",
    "LinkSignInHandler",
    "ShareAPIBase",
    "ShareAPIHandler",
    "SignInRequired",
    "api_routes",
    "handlers",
    "page_handlers",
]

_KINDS = r"(images|formations|sessions)"
_ID = r"([^/]+)"


class LinkSignInHandler(ExtensionHandlerMixin, JupyterHandler):
    """Opening a personal link: signs the neighbour in under their own name. Public by
    necessity, like a login page: the secret in the path is the credential."""

    if TYPE_CHECKING:

        @property
        def extensionapp(self) -> ShareApp: ...

    @allow_unauthenticated
    async def get(self, token: str):
        # The request log prints the path: keep the secret out of it.
        self.request.uri = self.request.path = self.request.path.replace(
            token, token.split(".", 1)[0] + ".…"
        )
        app = self.extensionapp
        client = self.request.remote_ip or "?"
        # Served in standalone mode only (`LocalBackend.handlers`). A valid link always works:
        # the count of wrong ones only changes how they are answered, so that nobody on the
        # same address (or proxy) can lock a neighbour out.
        assert app.service is not None  # standalone mode
        service = app.service
        link = await IOLoop.current().run_in_executor(None, app.links.verify, token)
        if link is None or not await IOLoop.current().run_in_executor(
            None, service.links_open_here, Kind.SESSION, link.resource_id, app.current_container_id
        ):
            if app.link_attempts.blocked(client):
                self.set_status(429)
                self.finish(
                    _PAGE.format(
                        title="Too many attempts",
                        text="Too many wrong links from here. Wait a minute, then try again.",
                    )
                )
                return
            app.link_attempts.failed(client)
            self.log.warning("jupyter_share: a personal link was refused for %s", client)
            self.set_status(403)
            self.finish(
                _PAGE.format(
                    title="This link does not work",
                    text="The link is wrong, or it was revoked, replaced or has expired. "
                    "Ask the person who shared their container with you for a new one.",
                )
            )
            return
        try:
            # The history keeps when and from where (the link's secret is not written).
            await IOLoop.current().run_in_executor(
                None, service.record_signin, link.resource_id, link.username, client
            )
        except Exception:  # a sign-in does not fail for want of its history row
            self.log.exception("jupyter_share: could not record %s's sign-in", link.username)
        app.sign_in_guest(self, link)
        self.log.info("jupyter_share: %s signed in by a personal link", link.username)
        self.redirect(url_path_join(self.base_url, self.serverapp.default_url))


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto"><h1>{title}</h1><p>{text}</p></body></html>"""


class UnknownPathEndpoint(ShareAPIBase):
    """Any other path under the API: a JSON 404 like every other API error (after sign-in,
    so that nobody learns anything without it)."""

    def _unknown(self, *args: Any) -> None:
        raise NotFound("no such path in the share API: see its OpenAPI description (openapi.yaml)")

    get = post = put = patch = delete = web.authenticated(_unknown)


#: The endpoints of REST API v1, by route (relative to the API's base).
ENDPOINTS: list[tuple[str, type]] = [
    (r"/me", MeEndpoint),
    (r"/directory", DirectoryEndpoint),
    (r"/shared-with-me", SharedWithMeEndpoint),
    (r"/requests", MyRequestsEndpoint),
    (rf"/images/{_ID}/environment", EnvironmentEndpoint),
    (rf"/images/{_ID}/use", UseImageEndpoint),
    (r"/environments", BuiltEnvironmentsEndpoint),
    (rf"/environments/{_ID}", BuiltEnvironmentEndpoint),
    (rf"/environments/{_ID}/cancel", BuiltEnvironmentCancelEndpoint),
    (rf"/environments/{_ID}/log", BuiltEnvironmentLogEndpoint),
    (rf"/formations/{_ID}/launch", LaunchEndpoint),
    (rf"/(sessions)/{_ID}/stop", StopEndpoint),
    (rf"/{_KINDS}", CollectionEndpoint),
    (rf"/{_KINDS}/{_ID}", ResourceEndpoint),
    (rf"/{_KINDS}/{_ID}/grants", GrantsEndpoint),
    (rf"/{_KINDS}/{_ID}/grants/{_ID}", GrantEndpoint),
    (rf"/{_KINDS}/{_ID}/grants/{_ID}/link", LinkReissueEndpoint),
    (rf"/{_KINDS}/{_ID}/history", HistoryEndpoint),
    (rf"/(sessions)/{_ID}/guests", GuestsEndpoint),
    (rf"/{_KINDS}/{_ID}/requests", RequestsEndpoint),
    (rf"/{_KINDS}/{_ID}/requests/{_ID}", RequestEndpoint),
    (r"/.*", UnknownPathEndpoint),  # last: what no route above matched
]


#: The endpoints a Jupyter server answers itself, also under JupyterHub: environments are
#: built in the container that answers, not by the share service.
BUILT_HERE: tuple[type, ...] = (
    UseImageEndpoint,
    BuiltEnvironmentsEndpoint,
    BuiltEnvironmentEndpoint,
    BuiltEnvironmentCancelEndpoint,
    BuiltEnvironmentLogEndpoint,
)


def api_routes(
    base: type, prefix: str, only: tuple[type, ...] | None = None, name_prefix: str = ""
) -> list[tuple[str, type]]:
    """The API's routes under `prefix`, each endpoint served by a handler built on `base`
    (the extension's or the hub service's: they differ in who is signed in); `only` these
    endpoints when given."""
    routes = []
    for path, endpoint in ENDPOINTS:
        if only is not None and endpoint not in only:
            continue
        name = name_prefix + endpoint.__name__.replace("Endpoint", "Handler")
        handler = type(name, (endpoint, base), {})
        routes.append((prefix.rstrip("/") + path, handler))
    return routes


def handlers(prefix: str = API_PREFIX) -> list[tuple[str, type]]:
    """Routes of the extension (standalone mode), relative to the server's base_url."""
    return api_routes(ShareAPIHandler, "/" + prefix)


def page_handlers() -> list[tuple[str, type]]:
    """Routes that are not part of the REST API: opening a personal link."""
    return [(r"/jupyter-share/link/([A-Za-z0-9._~-]{1,200})", LinkSignInHandler)]
