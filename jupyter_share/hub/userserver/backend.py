"""Hub mode on a user's server (`ShareApp.backend_class` when JupyterHub started the server):
the share API is carried to the share service on the owner's behalf, and others who open the
server (through a Hub share) are held to their permission.

The server holds no store and no database credentials: it calls the service with its own
`JUPYTERHUB_API_TOKEN`, which acts as its owner and nobody else. Only the owner's requests
are carried; a guest gets `/me` here and shares from their own server (docs/decisions.md,
"JupyterHub mode").
"""

from __future__ import annotations

import json
import os
from typing import Any

from tornado import web
from tornado.ioloop import PeriodicCallback

from ... import __version__
from ...auth import IdentityHooks, guest_of, install
from ...backend import Backend
from ...serialize import me_json
from ...service import recorded_action
from ...service.guests import Guest
from .client import ContainerAccess, ShareServiceClient, service_client_from_env
from .handlers import hub_handlers


class HubBackend(Backend):
    mode = "hub"

    service_client: ShareServiceClient | None
    container_access: ContainerAccess | None
    _guest_checker: PeriodicCallback | None = None

    @classmethod
    def default_username(cls) -> str | None:
        return os.environ.get("JUPYTERHUB_USER") or None

    def start(self) -> None:
        app = self.app
        app.service = None  # no store here: the share service owns it
        self.service_client = service_client_from_env(timeout=15.0)
        # The owner's environments are built in this container (the image read through the
        # share service: handlers.HubEnvironmentsBase).
        app.environments = app.make_environments(app._emit_environment)
        if self.service_client is None:
            self.log.error(
                "jupyter_share: started by JupyterHub, but JUPYTER_SHARE_SERVICE_URL is not set: "
                "call jupyter_share.hub.configure_jupyterhub(c) in jupyterhub_config.py. "
                "The share API answers 503 until then, and nobody but %s may use this server.",
                app.username,
            )
        self.container_access = (
            ContainerAccess(self.service_client, app.guest_check_interval)
            if self.service_client
            else None
        )
        if app.guest_check_interval > 0:
            self._guest_checker = PeriodicCallback(
                self._check_guests, app.guest_check_interval * 1000
            )
            self._guest_checker.start()
        install(app.serverapp, IdentityHooks(self._resolve_user))
        app.adjust_page_config(blank_token=False)
        self.log.info(
            "jupyter_share %s: hub mode, server of %r, share service %s",
            __version__,
            app.username,
            self.service_client.api_url if self.service_client else "(not configured)",
        )

    def handlers(self, prefix: str) -> list[tuple[str, Any]]:
        return hub_handlers(prefix)

    async def stop(self) -> None:
        if self._guest_checker is not None:
            self._guest_checker.stop()

    # -- identity: the owner, and Hub users let in by a Hub share -----------------------------

    async def _resolve_user(self, handler: web.RequestHandler, user):
        """The owner passes; anyone else the Hub lets in is a guest held to their grant."""
        owner = self.app.username
        if user.username == owner:
            return user

        def refuse(status: int, why: str) -> web.HTTPError:
            # Signed in at the Hub, but not for this server: said as such (not "not signed
            # in"), and current_user set, which error pages and logs read (unset, they would
            # call the deprecated get_current_user: a 500).
            handler.current_user = None
            # Read by SignInRequired.prepare (any handler may be refused).
            handler._jupyter_share_refused = True  # type: ignore[attr-defined]
            return web.HTTPError(status, why)

        if self.container_access is None:
            raise refuse(403, f"only {owner} may use this server")
        try:
            # The service reads the guest's groups from the Hub now (never the token cache's).
            permission = await self.container_access.permission(user.username)
        except Exception as e:
            self.log.warning("jupyter_share: could not check %s's access: %s", user.username, e)
            raise refuse(
                503, "your access to this server cannot be checked right now; try again"
            ) from None
        if permission is None:
            raise refuse(403, f"{owner} does not share this server with you (any more)")
        self.app.guest_door.admit(
            handler,
            Guest(user.username, owner, permission, f"hub:{user.username}"),
            hub=True,
        )
        return user

    async def _check_guests(self) -> None:
        keys = self.app.guest_activity.link_ids()
        if not keys or self.container_access is None:
            return
        try:
            await self.container_access.grants(fresh=True)
            guests = {}
            for key in keys:
                username = key.removeprefix("hub:")
                permission = await self.container_access.permission(username)
                guests[key] = (
                    Guest(username, self.app.username, permission, key) if permission else None
                )
        except Exception as e:
            self.log.warning("jupyter_share: checking guests' access failed: %s", e)
            return
        self.app.guest_door.follow(guests)
        await self.app.guest_activity.follow(guests)

    def _forget_hub_answers(self) -> None:
        """The Hub's answers about tokens are kept for minutes (HubAuth.cache_max_age): someone
        refused a moment ago would stay refused after being shared with. Forget the answers
        about everyone but the owner, so that they are asked again."""
        hub_auth = getattr(self.app.serverapp.identity_provider, "hub_auth", None)
        cache = getattr(hub_auth, "cache", None)
        if hub_auth is None or cache is None:
            return
        kept = type(cache)(hub_auth.cache_max_age)
        try:  # JupyterHub's _ExpiringDict keeps its entries in .values and .timestamps
            for key, model in list(cache.values.items()):
                if isinstance(model, dict) and model.get("name") == self.app.username:
                    kept.values[key], kept.timestamps[key] = model, cache.timestamps[key]
        except (AttributeError, KeyError, TypeError):
            pass  # another cache: forget everything
        hub_auth.cache = kept

    # -- what the proxy handlers ask ------------------------------------------------------------

    def me(self, handler: web.RequestHandler) -> dict:
        user = handler.current_user
        hub_user = getattr(user, "hub_user", None) or {}
        guest = guest_of(handler)
        return me_json(
            user.username,
            hub_user.get("groups") or [],
            user.display_name,
            "hub",
            guest={"owner": guest.owner, "permission": guest.permission.label} if guest else None,
            # Set by jupyter_share.hub.apply_user_options: the formation or image chosen at launch.
            launched_from=os.environ.get("JUPYTER_SHARE_LAUNCHED_FROM"),
        )

    def after_change(self, method: str, path: str, response) -> None:
        """A change the owner made through this server: guests and the panel follow at once."""
        parts = path.strip("/").split("/")
        if parts and parts[0] == "sessions" and self.container_access is not None:
            self.container_access.forget()
            if method == "PUT":  # someone may be let in who was refused a moment ago
                self._forget_hub_answers()
            self.app.io_loop.add_callback(self._check_guests)
        try:
            body = json.loads(response.body) if response.body else {}
        except ValueError:
            body = {}
        recorded = recorded_action(method, path, response.code, body)  # as the service wrote it
        if recorded is None:
            return
        kind, action = recorded[0].value, recorded[1]
        resource_id = body.get("id") or (parts[1] if len(parts) > 1 else "")
        self.app.emit_event(
            {
                "action": action,
                "kind": kind,
                "resource_id": resource_id,
                "owner": body.get("owner") or self.app.username,
                "actor": self.app.username,
            }
        )
