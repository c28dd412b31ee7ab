"""The share service's handlers: the same REST API v1 as the server extension, for Hub users
with a token (checked by HubAuth), plus what only the service answers (a guest's access to a
server, the change stream, its home)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from jupyterhub.services.auth import HubAuth
from tornado import web
from tornado.ioloop import IOLoop

from ... import __version__
from ...feed import connection_closed, serve
from ...handlers import ShareAPIBase
from ...model import HubRefused, HubUnavailable, Kind, NotFound
from ...service import ShareService
from ..wire import SERVER_HEADER
from .containers import HubContainers, server_label
from .directory import HubDirectory
from .restarts import RESTART_SCOPES, ServerRestarts


@dataclass
class HubCaller:
    """The Hub user a request acts for."""

    username: str
    display_name: str
    groups: list[str] = field(default_factory=list)


class ServiceAPIHandler(ShareAPIBase, web.RequestHandler):
    """The share API in the hub service: the caller is the Hub user of the request's token."""

    @property
    def hub_auth(self) -> HubAuth:
        return self.settings["hub_auth"]

    @property
    def log(self) -> logging.Logger:
        return self.settings["log"]

    @property
    def service(self) -> ShareService:
        return self.settings["share_service"]

    @property
    def containers(self) -> HubContainers:
        return self.settings["containers"]

    @property
    def mode(self) -> str:
        return "hub"

    @property
    def authorizer(self) -> ServiceAPIHandler:
        # jupyter_server's @authorized asks this; the Hub already checked the token's scopes.
        return self

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return True

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")

    def check_xsrf_cookie(self) -> None:
        # Tokens only: the service accepts no cookies, so no request rides on a browser's.
        return

    async def prepare(self) -> None:
        restarts: ServerRestarts | None = self.settings.get("restarts")
        if restarts is not None and restarts.pending:
            # While a server restarts to end its token, the Hub is asked about every token of
            # its owner: the old one is refused here as soon as the Hub refuses it.
            for owner in {owner for owner, _ in restarts.pending}:
                restarts.forget_tokens(owner)
        try:
            model = await self.hub_auth.get_user(self, sync=False)
        except web.HTTPError as e:
            if e.status_code >= 500:
                raise HubUnavailable(
                    "JupyterHub did not confirm who is asking; try again"
                ) from None
            raise
        except Exception:
            self.log.warning(
                "jupyter_share: JupyterHub could not be asked who is calling", exc_info=True
            )
            raise HubUnavailable("JupyterHub did not confirm who is asking; try again") from None
        if not model:
            raise web.HTTPError(401, "not signed in: send a JupyterHub API token")
        if model.get("kind", "user") != "user":
            raise web.HTTPError(403, "the share API is for users")
        if not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
            raise web.HTTPError(
                403,
                f"this token may not use the share service (it needs {sorted(self.hub_auth.access_scopes)})",
            )
        info = model.get("user_info") or {}
        self.current_user = HubCaller(
            model["name"],
            info.get("display_name") or model["name"],
            sorted(model.get("groups") or []),
        )
        directory = self.service.directory
        if "groups" in model and isinstance(directory, HubDirectory):
            # The caller's groups came with the token check: no need to ask again.
            directory.note_caller(model["name"], model["groups"])

    def get_current_user(self) -> HubCaller | None:
        return None  # set by prepare()

    def get_login_url(self) -> str:
        raise web.HTTPError(401, "not signed in: send a JupyterHub API token")

    # -- re-keying a server: a restart through the Hub ---------------------------------------

    async def can_rekey(self, kind: Kind, resource_id: str) -> bool:
        """Every container here is a Hub server, re-keyed by restarting it; the service's own
        token must be allowed to (checked before anything is revoked)."""
        if kind != Kind.SESSION:
            return False
        scopes = await IOLoop.current().run_in_executor(None, self.containers.hub.own_scopes)
        if not any(needed <= scopes for needed in RESTART_SCOPES):
            raise HubRefused(
                "re-keying restarts the server, and this Hub does not let the share service do it: give its role "
                "the `servers` scope (jupyter_share.hub.configure_jupyterhub does). Nothing was revoked."
            )
        self._rekey_id = resource_id
        return True

    async def rekey(self) -> dict:
        """Restart the owner's server (after this answer has gone back through it): the Hub
        gives it a new API token; the old one, and every Hub login to the server, end."""
        view = await self.call(self.service.view, Kind.SESSION, self._rekey_id)
        owner, server_name = view.resource.owner, view.resource.spec.get("server_name", "")
        label = f"server {server_name!r}" if server_name else server_label(server_name)
        model = await IOLoop.current().run_in_executor(
            None, self.containers.running, owner, server_name
        )
        if model is None:
            return {
                "message": f"Your {label} is not running: the Hub ended its API token when it stopped, "
                "and gives it a new one when it starts.",
                "restarting": False,
            }
        restarts: ServerRestarts = self.settings["restarts"]
        self._restart_after_answer = (owner, server_name, model.get("user_options"))
        return {
            "message": f"Your {label} restarts in {restarts.delay:g} s with a new API token, so that nothing an edit "
            "guest copied from it works any more; its kernels and terminals stop with it. Reload the page when it "
            "is back (a few seconds). Anything the guest did with the copied token was done as you: check the "
            "access lists of what you own.",
            "restarting": True,
        }

    def on_finish(self) -> None:
        after = getattr(self, "_restart_after_answer", None)
        if after is not None:
            self.settings["restarts"].schedule(*after)

    async def session_id(self, raw: str) -> str:
        if raw != "current":
            return raw
        server = self.request.headers.get(SERVER_HEADER)
        if server is None:
            raise NotFound(
                "the share service is not a container: ask your server's own sessions/current"
            )
        resource = await IOLoop.current().run_in_executor(
            None, self.service.hub_container, self.username, unquote(server)
        )
        return resource.id


class GuestAccessHandler(ServiceAPIHandler):
    """`GET {api}/sessions/current/access/{user}`: what a user may do in the caller's own
    server now (`{"user", "access"}`, access null when nothing). The owner's server asks it
    before letting anyone else in; the service decides (`ShareService.guest_access`) from the
    grants, the user's groups as the Hub says now and the Hub's share of the server."""

    async def get(self, raw_user: str) -> None:
        server = self.request.headers.get(SERVER_HEADER)
        if server is None:
            raise web.HTTPError(400, f"name the server with the {SERVER_HEADER} header")
        guest = unquote(raw_user)
        if not guest or len(guest) > 255 or "\x00" in guest:
            raise web.HTTPError(400, "not a user name")
        access = await IOLoop.current().run_in_executor(
            None, self.service.guest_access, self.username, unquote(server), guest
        )
        self.finish(json.dumps({"user": guest, "access": access}))


class ServiceFeedHandler(ServiceAPIHandler):
    """`GET …/api/v1/feed`: the caller's event stream (`feed.serve`), for their servers to relay
    to their browsers. Every replica watches the store, so a change made through any of them
    reaches the streams of all."""

    async def get(self) -> None:
        streams = self.settings.get("streams")
        if streams is None:
            raise web.HTTPError(503, "this service has no change feed (an in-memory store)")
        await serve(self, streams, self.current_user.username)

    def on_connection_close(self) -> None:
        connection_closed(self)


class ServiceHomeHandler(web.RequestHandler):
    """What the service's prefix answers: who it is and where the API lives."""

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps(
                {
                    "service": "jupyter_share",
                    "version": __version__,
                    "api": self.settings["api_prefix"],
                }
            )
        )
