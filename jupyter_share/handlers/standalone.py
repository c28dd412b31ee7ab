"""The share API's handlers in the server extension (standalone mode): who is signed in, the
container answering, its personal links and its builds of environments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from .. import presence
from ..answers import AnswerCache
from ..auth import guest_of
from ..model import Forbidden, Kind
from ..rekey import rekey as rekey_server
from ..serialize import iso
from ..service import ShareService
from ..service.guests import building_refused
from .base import ShareAPIBase, SignInRequired

if TYPE_CHECKING:
    from ..app import ShareApp


class ShareAPIHandler(ShareAPIBase, SignInRequired, ExtensionHandlerMixin, APIHandler):
    """The share API in the server extension (standalone mode)."""

    if TYPE_CHECKING:

        @property
        def extensionapp(self) -> ShareApp: ...

    @property
    def service(self) -> ShareService:
        service = self.extensionapp.service
        assert service is not None  # these handlers are registered in standalone mode only
        return service

    @property
    def mode(self) -> str:
        return self.extensionapp.backend.mode

    @property
    def username(self) -> str:
        """A guest acts as themselves; anyone the server's identity provider authenticated is
        the owner, `ShareApp.username`, however the provider names them."""
        guest = guest_of(self)
        return guest.username if guest is not None else self.extensionapp.username

    @property
    def display_name(self) -> str:
        app = self.extensionapp
        if guest_of(self) is not None:
            return self.username
        if app.display_name:
            return app.display_name
        # The provider's display name when it names the owner as the share store does.
        user = self.current_user
        return (
            user.display_name
            if user.username == app.username and user.display_name
            else app.username
        )

    def finish_text(self, text: str, content_type: str) -> None:
        self.finish(text, set_content_type=content_type)  # APIHandler would say JSON

    @property
    def environments(self) -> Any:
        refused = building_refused(guest_of(self))
        if refused is not None:
            raise Forbidden(refused)
        return self.extensionapp.environments

    @property
    def launcher(self) -> Any:
        if guest_of(self) is not None:  # also unlisted in guests.ROUTES: never the owner's
            raise Forbidden("guests may not launch servers in the owner's container")
        return self.extensionapp.launcher

    async def session_id(self, raw: str) -> str:
        if raw == "current":
            return await IOLoop.current().run_in_executor(
                None, self.extensionapp.current_container_id
            )
        return raw

    def link_url(self, token: str) -> str:
        """The personal link for a token: on `ShareApp.public_url`, else on this server as the
        caller reached it."""
        base = (
            self.extensionapp.public_url
            or f"{self.request.protocol}://{self.request.host}{self.base_url}"
        )
        return url_path_join(base, "jupyter-share/link", token)

    def rekey(self) -> str:
        rekey_server(self.serverapp, self)
        return (
            "This server has a new token and cookie secret; this browser stays signed in. "
            f"`jupyter server list` shows the new token ({self.serverapp.info_file})."
        )

    def is_this_container(self, kind: Kind, resource_id: str) -> bool:
        """Personal links open the container answering, in standalone mode (the service's
        rule, `links_open_here`)."""
        return self.service.links_open_here(
            kind, resource_id, self.extensionapp.current_container_id
        )

    @property
    def answer_cache(self) -> AnswerCache | None:
        return self.extensionapp.answer_cache if guest_of(self) is None else None

    async def guest_banner(self) -> dict | None:
        guest = guest_of(self)
        if guest is None:
            return None
        # The "until ...": the guest's own grant on this container.
        grant = await self.call(
            self.service.my_grant, Kind.SESSION, await self.session_id("current")
        )
        return {
            "owner": guest.owner,
            "permission": guest.permission.label,
            "expires_at": iso(grant.expires_at) if grant else None,
        }

    async def guests_now(self, resource_id: str) -> list[dict]:
        if not self.is_this_container(Kind.SESSION, resource_id):
            return await super().guests_now(resource_id)
        activity = self.extensionapp.guest_activity
        names = sorted({p.username for p in activity.present()})
        permissions = await self.call(self.service.guests_in, Kind.SESSION, resource_id, names)
        return await presence.guests_now(self.serverapp, activity, permissions)
