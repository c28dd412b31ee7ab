"""REST API v1 (jupyter_share/openapi.yaml; docs/architecture.md, "Layers"): thin handlers
over `ShareService`.

Handlers parse the request, call one service method in a worker thread (the store may wait on
a lock or the network) and shape the answer. Refusals are `ShareError`s, mapped to status codes
in one place, `ShareAPIHandler._handle_request_exception`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import ensure_async, url_path_join
from tornado import web
from tornado.ioloop import IOLoop

from . import presence, specs
from .answers import AnswerCache
from .auth import guest_of
from .model import (
    Forbidden,
    InvalidInput,
    Kind,
    NotFound,
    ShareError,
)
from .rekey import rekey as rekey_server
from .serialize import (
    audit_json,
    grant_json,
    history_csv,
    iso,
    me_json,
    page_json,
    request_json,
    resource_json,
    resource_list_json,
)
from .service import ShareService
from .service.guests import building_refused
from .specs import check_fields

if TYPE_CHECKING:
    from .app import ShareApp

    # The mixins below run only in tornado handlers (jupyter_server's where they sign in):
    # mypy reads them as such.
    _Handler = web.RequestHandler
    _SignInHandler = APIHandler
else:
    _Handler = _SignInHandler = object

API_PREFIX = "jupyter-share/api/v1"
_KINDS = r"(images|formations|sessions)"
_ID = r"([^/]+)"


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class ShareAPIBase(_Handler):
    """What every share API handler does, wherever it runs: call the service as the signed-in
    user, parse and shape JSON, map refusals to status codes. Subclasses say who is signed in
    (`prepare`), where the service is, and what `sessions/current` is."""

    auth_resource = "share"

    if TYPE_CHECKING:

        @property
        def log(self) -> logging.Logger: ...

    @property
    def service(self) -> ShareService:
        raise NotImplementedError

    @property
    def mode(self) -> str:
        raise NotImplementedError

    @property
    def username(self) -> str:
        return self.current_user.username

    @property
    def display_name(self) -> str:
        return self.current_user.display_name or self.username

    @property
    def answer_cache(self) -> AnswerCache | None:
        """Reuses list answers while the store is unchanged (`answers.AnswerCache`), or None."""
        return None

    async def call(self, method: Callable, *args: Any) -> Any:
        """Run a service method off the event loop, as the current user."""
        return await IOLoop.current().run_in_executor(None, partial(method, self.username, *args))

    async def finish_page(self, endpoint: str, method: Callable, *args: Any) -> None:
        """Finish with the page `method` answers the current user, as JSON; an answer kept
        for the same caller and arguments is reused while it is still the answer."""

        def produce() -> bytes:
            return json.dumps(page_json(method(self.username, *args), resource_list_json)).encode()

        cache = self.answer_cache
        body: bytes | None
        if cache is None:
            body = await IOLoop.current().run_in_executor(None, produce)
        else:
            key = (
                endpoint,
                args,
                self.username,
                tuple(self.service.directory.groups_of(self.username)),
            )
            body, marker = await cache.lookup_async(key)  # a hit needs no worker thread
            if body is None:
                body = await IOLoop.current().run_in_executor(
                    None, cache.answer, key, produce, marker
                )
        self.finish(body)

    def kind(self, plural: str) -> Kind:
        return Kind.from_plural(plural)

    async def session_id(self, raw: str) -> str:
        """The resource id a session path names (`current` is the container answering)."""
        return raw

    async def resource_id(self, kind: Kind, raw: str) -> str:
        return await self.session_id(raw) if kind == Kind.SESSION else raw

    def is_this_container(self, kind: Kind, resource_id: str) -> bool:
        """Whether new user grants on this resource come with a personal link."""
        return False

    def link_url(self, token: str) -> str:
        raise NotImplementedError

    def me_extras(self) -> dict:
        return {}

    async def guests_now(self, resource_id: str) -> list[dict]:
        """Who is in this container now (`GET sessions/{id}/guests`), after the service allowed
        the caller to see it. Presence lives in the memory of the container's own server."""
        raise InvalidInput(
            "who is in a container now is kept by the container's own server: ask it there",
            field="id",
        )

    def can_rekey(self, kind: Kind, resource_id: str) -> Any:
        """Whether `rekey` can re-key this container (bool, or an awaitable of one), asked
        before revoking: standalone, only the container answering (`is_this_container`)."""
        return self.is_this_container(kind, resource_id)

    def rekey(self) -> Any:
        """Give this server a new token and cookie secret (see `rekey`); what to tell the owner:
        a message, or a dict with `message` and more fields of the answer (or an awaitable)."""
        raise InvalidInput("this server cannot re-key a container", field="rekey")

    @property
    def environments(self) -> Any:
        """The builds of environments in the container answering (`environments`)."""
        raise InvalidInput(
            "environments from images are built by a Jupyter server in its own container: "
            "ask your server (its jupyter-share/api/v1), not the share service",
            field="id",
        )

    async def image_to_use(self, raw_id: str) -> Any:
        """The image the signed-in user may build an environment from here (a Resource)."""
        return await self.call(self.service.image_to_use, raw_id)

    @property
    def launcher(self) -> Any:
        """The servers launched from formations by the server answering (`launcher`)."""
        raise InvalidInput(
            "under JupyterHub, a formation is launched as a named server through the Hub "
            "(its spawn page, or the panel's Launch button)",
            field="id",
        )

    async def run(self, method: Callable, *args: Any) -> Any:
        """Run a blocking call (not a service method) off the event loop."""
        return await IOLoop.current().run_in_executor(None, partial(method, *args))

    def json_body(self) -> Any:
        if not self.request.body:
            return None
        try:
            return json.loads(self.request.body, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPError(400, "the body is not valid JSON") from None
        except RecursionError:
            raise web.HTTPError(400, "the body is nested too deeply") from None

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))

    def finish_text(self, text: str, content_type: str) -> None:
        self.set_header("Content-Type", content_type)
        self.finish(text)

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, ShareError):
            if self._finished:
                return
            self.log.info(
                "jupyter_share: %s %s refused (%d): %s",
                self.request.method,
                self.request.path,
                e.status,
                e.message,
            )
            self.clear()
            self.set_header("Content-Type", "application/json")
            assert e.status is not None  # None only on the client's side (no answer came)
            self.set_status(e.status, e.reason)
            self.finish(json.dumps({"message": e.message, "reason": e.reason, "field": e.field}))
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Like jupyter_server's, without ever sending a traceback."""
        self.set_header("Content-Type", "application/json")
        exc_info = kwargs.get("exc_info")
        message = self._reason
        if exc_info and isinstance(exc_info[1], web.HTTPError) and exc_info[1].log_message:
            message = (
                exc_info[1].log_message % exc_info[1].args
                if exc_info[1].args
                else exc_info[1].log_message
            )
        elif status_code >= 500:
            message = "internal error: the server's log has the details"
        self.finish(json.dumps({"message": message, "reason": self._reason}))


class SignInRequired(_SignInHandler):
    """For jupyter_server handlers: not signed in is 401 (openapi.yaml), where
    jupyter_server alone answers 403."""

    # APIHandler's signature, which overrides JupyterHandler's as jupyter_server ignores too.
    async def prepare(self) -> None:  # type: ignore[override]
        try:
            await super().prepare()
        except web.HTTPError as e:
            # Not signed in is 401; one the Hub signed in whom this server refuses (his share
            # was taken back) is told why, as a 403.
            if (
                e.status_code == 403
                and not self.current_user
                and guest_of(self) is None
                and not getattr(self, "_jupyter_share_refused", False)
            ):
                raise web.HTTPError(
                    401, "not signed in: send the server's token or log in"
                ) from None
            raise
        if not self.current_user:
            raise web.HTTPError(401, "not signed in: send the server's token or log in")


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
        return self.extensionapp.resolved_mode

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
                None, self.extensionapp.current_session_id
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
        app = self.extensionapp
        here = app.current_session_id if app.resolved_mode == "standalone" else None
        return self.service.links_open_here(kind, resource_id, here)

    @property
    def answer_cache(self) -> AnswerCache | None:
        return self.extensionapp.answer_cache if guest_of(self) is None else None

    def me_extras(self) -> dict:
        guest = guest_of(self)
        if guest is None:
            return {}
        # For the banner: "You are in alice's container, view only".
        return {"guest": {"owner": guest.owner, "permission": guest.permission.label}}

    async def guests_now(self, resource_id: str) -> list[dict]:
        if not self.is_this_container(Kind.SESSION, resource_id):
            return await super().guests_now(resource_id)
        activity = self.extensionapp.guest_activity
        names = sorted({p.username for p in activity.present()})
        permissions = await self.call(self.service.guests_in, Kind.SESSION, resource_id, names)
        return await presence.guests_now(self.serverapp, activity, permissions)


class MeEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        found = await self.call(self.service.me)
        me = me_json(
            found["username"],
            found["groups"],
            self.display_name,
            self.mode,
            guest=self.me_extras().get("guest"),
        )
        if "guest" in me and self.mode == "standalone":
            # For the banner's "until ...": the guest's own grant on this container.
            grant = await self.call(
                self.service.my_grant, Kind.SESSION, await self.session_id("current")
            )
            me["guest"]["expires_at"] = iso(grant.expires_at) if grant else None
        self.write_json(me)


class DirectoryEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        self.write_json(
            await self.call(self.service.search_directory, self.get_query_argument("q", ""))
        )


class SharedWithMeEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        await self.finish_page(
            "shared-with-me",
            self.service.shared_with_me,
            self.get_query_argument("kind", None),
            self.get_query_argument("offset", None),
            self.get_query_argument("limit", None),
        )


class CollectionEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str):
        await self.finish_page(
            "list",
            self.service.list,
            self.kind(plural),
            self.get_query_argument("scope", "all"),
            self.get_query_argument("offset", None),
            self.get_query_argument("limit", None),
        )

    @web.authenticated
    @authorized
    async def post(self, plural: str):
        kind = self.kind(plural)
        self.service.check_creatable(kind)  # before the body is read, as it was
        view = await self.call(self.service.create, kind, self.json_body())
        self.set_header("Location", self.request.path.rstrip("/") + "/" + view.resource.id)
        self.write_json(resource_json(view), status=201)


class ResourceEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        self.write_json(
            resource_json(
                await self.call(self.service.view, kind, await self.resource_id(kind, raw_id))
            )
        )

    @web.authenticated
    @authorized
    async def patch(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        self.write_json(
            resource_json(await self.call(self.service.update, kind, rid, self.json_body()))
        )

    @web.authenticated
    @authorized
    async def delete(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        await self.call(self.service.delete, kind, await self.resource_id(kind, raw_id))
        self.set_status(204)
        self.finish()


class GrantsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        grants = await self.call(self.service.grants, kind, await self.resource_id(kind, raw_id))
        self.write_json({"items": [grant_json(g) for g in grants], "total": len(grants)})


class GrantEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def put(self, plural: str, raw_id: str, raw_principal: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        with_link = self.is_this_container(kind, rid)
        result = await self.call(
            self.service.share, kind, rid, raw_principal, self.json_body(), with_link
        )
        answer = grant_json(result.grant)
        if result.link_token:
            # Shown this once: only the secret's hash is kept.
            answer["link"] = self.link_url(result.link_token)
        self.write_json(answer, status=201 if result.created else 200)

    @web.authenticated
    @authorized
    async def delete(self, plural: str, raw_id: str, raw_principal: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        rekey = await self.call(
            self.service.check_rekey, kind, rid, self.get_query_argument("rekey", None)
        )
        if rekey and not await ensure_async(self.can_rekey(kind, rid)):
            raise InvalidInput(
                "a container is re-keyed by its own server: ask it there", field="rekey"
            )
        await self.call(self.service.revoke, kind, rid, raw_principal)
        if rekey:
            answer = await ensure_async(self.rekey())
            self.write_json(
                {"rekeyed": True, **(answer if isinstance(answer, dict) else {"message": answer})}
            )
            return
        self.set_status(204)
        self.finish()


class LinkReissueEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def post(self, plural: str, raw_id: str, raw_principal: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        with_link = self.is_this_container(kind, rid)
        token = await self.call(self.service.reissue_link, kind, rid, raw_principal, with_link)
        self.write_json({"link": self.link_url(token)}, status=201)


class MyRequestsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        found = await self.call(self.service.requests_for_me)
        self.write_json({key: [request_json(v) for v in views] for key, views in found.items()})


class RequestsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        views = await self.call(
            self.service.requests_on, kind, await self.resource_id(kind, raw_id)
        )
        self.write_json({"items": [request_json(v) for v in views], "total": len(views)})

    @web.authenticated
    @authorized
    async def post(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        self.write_json(
            request_json(await self.call(self.service.ask, kind, rid, self.json_body())), status=201
        )


class RequestEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def post(self, plural: str, raw_id: str, raw_requester: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        with_link = self.is_this_container(kind, rid)
        decided = await self.call(
            self.service.decide, kind, rid, raw_requester, self.json_body(), with_link
        )
        answer: dict = {
            "decision": decided.decision,
            "requester": decided.request.requester,
            "permission": decided.request.permission.label,
        }
        if decided.share:
            answer["grant"] = grant_json(decided.share.grant)
        if decided.share and decided.share.link_token:
            answer["link"] = self.link_url(decided.share.link_token)
        self.write_json(answer)

    @web.authenticated
    @authorized
    async def delete(self, plural: str, raw_id: str, raw_requester: str):
        kind = self.kind(plural)
        await self.call(
            self.service.withdraw, kind, await self.resource_id(kind, raw_id), raw_requester
        )
        self.set_status(204)
        self.finish()


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
        link = None
        if app.resolved_mode == "standalone":
            # A valid link always works: the count of wrong ones only changes how they are
            # answered, so that nobody on the same address (or proxy) can lock a neighbour out.
            link = await IOLoop.current().run_in_executor(None, app.links.verify, token)
        if link is None or link.resource_id != await IOLoop.current().run_in_executor(
            None, app.current_session_id
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
        assert app.service is not None  # a link was verified: standalone mode
        try:
            # The history keeps when and from where (the link's secret is not written).
            await IOLoop.current().run_in_executor(
                None, app.service.record_signin, link.resource_id, link.username, client
            )
        except Exception:  # a sign-in does not fail for want of its history row
            self.log.exception("jupyter_share: could not record %s's sign-in", link.username)
        app.sign_in_guest(self, link)
        self.log.info("jupyter_share: %s signed in by a personal link", link.username)
        self.redirect(url_path_join(self.base_url, self.serverapp.default_url))


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto"><h1>{title}</h1><p>{text}</p></body></html>"""


class HistoryEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        fmt = self.service.history_format(self.get_query_argument("format", None))
        page = await self.call(
            self.service.history,
            kind,
            await self.resource_id(kind, raw_id),
            self.get_query_argument("offset", None),
            self.get_query_argument("limit", None),
            self.get_query_arguments("person") or None,
            self.get_query_arguments("action") or None,
            fmt,
        )
        if fmt == "csv":
            self.set_header("Content-Disposition", 'attachment; filename="history.csv"')
            self.finish_text(history_csv(page.items), "text/csv; charset=UTF-8")
            return
        self.write_json(page_json(page, audit_json))


class GuestsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        rid = await self.session_id(raw_id)
        # The rule first (owner and managers; 404 for whoever cannot see it), then the memory.
        await self.call(self.service.guests_in, Kind.SESSION, rid, [])
        items = await self.guests_now(rid)
        self.write_json({"items": items, "total": len(items)})


class EnvironmentEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, raw_id: str):
        filename, content_type, text = await self.call(
            self.service.environment_file, raw_id, self.get_query_argument("format", "requirements")
        )
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.finish_text(text, content_type)


class UseImageEndpoint(ShareAPIBase):
    """Use an image here: GET what would be built (Python captured and used, packages,
    what stands in the way), POST to build it (202; 200 when it is built or being built)."""

    @web.authenticated
    @authorized
    async def get(self, raw_id: str):
        image = await self.image_to_use(raw_id)
        self.write_json(await self.run(self.environments.plan_json, image, self.username))

    @web.authenticated
    @authorized
    async def post(self, raw_id: str):
        if self.request.body:  # optional; when sent, an empty JSON object
            check_fields(self.json_body(), set())
        image = await self.image_to_use(raw_id)
        environment, started = await self.run(self.environments.use, image, self.username)
        # Built by a Jupyter server (`environments` refuses elsewhere): it has a base_url.
        base_url = cast(ShareAPIHandler, self).base_url
        self.set_header(
            "Location", url_path_join(base_url, API_PREFIX, "environments", environment["id"])
        )
        self.write_json(environment, status=202 if started else 200)


class BuiltEnvironmentsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        items = await self.run(self.environments.list, self.username)
        self.write_json({"items": items, "total": len(items)})


class BuiltEnvironmentEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, env_id: str):
        self.write_json(await self.run(self.environments.get, self.username, env_id))

    @web.authenticated
    @authorized
    async def delete(self, env_id: str):
        await self.run(self.environments.remove, self.username, env_id)
        self.set_status(204)
        self.finish()


class BuiltEnvironmentCancelEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def post(self, env_id: str):
        self.write_json(await self.run(self.environments.cancel, self.username, env_id))


class BuiltEnvironmentLogEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, env_id: str):
        text = await self.run(self.environments.log, self.username, env_id)
        self.finish_text(text, "text/plain; charset=UTF-8")


class LaunchEndpoint(ShareAPIBase):
    """Launch a formation on this machine: a new server of the caller's, listed as their own
    container (201), or once its image's environment is built (202)."""

    @web.authenticated
    @authorized
    async def post(self, raw_id: str):
        body = self.json_body()
        if body is not None:  # optional: {} or {"name": ...}
            check_fields(body, {"name"})
        name = specs.name(body["name"]) if body and "name" in body else None
        launcher = self.launcher
        formation, image = await self.call(self.service.formation_to_launch, raw_id)
        answer, status = await self.run(launcher.launch, self.username, formation, image, name)
        self.write_json(answer, status=status)


class StopEndpoint(ShareAPIBase):
    """Stop a container this server launched (its owner only)."""

    @web.authenticated
    @authorized
    async def post(self, plural: str, raw_id: str):
        if self.request.body:  # optional; when sent, an empty JSON object
            check_fields(self.json_body(), set())
        launcher = self.launcher
        container = await self.call(self.service.container_to_stop, await self.session_id(raw_id))
        await self.run(launcher.stop, self.username, container)
        self.write_json(
            resource_json(await self.call(self.service.view, Kind.SESSION, container.id))
        )


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
