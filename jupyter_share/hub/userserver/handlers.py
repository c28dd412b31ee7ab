"""The share API on a user's server under JupyterHub: the owner's requests carried to the
share service, and the owner's event stream relayed from it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, cast
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop

from ... import presence
from ...auth import guest_of
from ...handlers import BUILT_HERE, ShareAPIBase, SignInRequired, api_routes
from ...model import Forbidden, Kind, Permission, Resource, ShareError
from ...service import usable_image
from ...service.guests import building_refused, refusal
from .client import ServiceUnreachable

if TYPE_CHECKING:
    from ...app import ShareApp
    from .backend import HubBackend

#: Headers of the service's answer that the browser needs.
_PASSED_HEADERS = ("Content-Type", "Content-Disposition")


def _hub(handler: ExtensionHandlerMixin) -> HubBackend:
    """The server's backend: the Hub's (`ShareApp.backend_class` in hub mode)."""
    return cast("HubBackend", cast("ShareApp", handler.extensionapp).backend)


class HubProxyHandler(SignInRequired, ExtensionHandlerMixin, APIHandler):
    if TYPE_CHECKING:

        @property
        def extensionapp(self) -> ShareApp: ...

    """`{base_url}jupyter-share/api/v1/...`: the owner's requests, carried to the service."""

    auth_resource = "share"
    write_error = ShareAPIBase.write_error  # JSON, never a traceback

    async def _carry(self, path: str) -> None:
        app = _hub(self)
        if path.rstrip("/") == "me" and self.request.method == "GET":
            self.finish(json.dumps(app.me(self)))
            return
        guest = guest_of(self)
        refused = refusal(guest, self, hub=True) if guest is not None else None
        if refused is not None:  # the guest guard's rule (guests.ROUTES), as it refused already
            raise web.HTTPError(403, refused)
        if app.service_client is None:
            raise web.HTTPError(
                503,
                "the share service is not configured for this Hub (see jupyter_share.hub.configure_jupyterhub)",
            )
        if self.request.method == "GET" and path.strip("/") == "sessions/current/guests":
            await self._guests_here()
            return
        body = self.request.body
        if self.request.method == "POST" and path.strip("/") == "images":
            body = await self._with_captured_environment(body)
        try:
            response = await app.service_client.fetch(
                self.request.method, path, self.request.query, body
            )
        except ServiceUnreachable as e:
            self.log.warning("jupyter_share: the share service is not reachable: %s", e)
            raise web.HTTPError(
                503, "the share service is not reachable; try again in a moment"
            ) from None
        if response.code >= 500 and response.code not in (502, 503):
            self.log.warning(
                "jupyter_share: the share service failed (%d) on %s %s",
                response.code,
                self.request.method,
                path,
            )
            raise web.HTTPError(502, "the share service failed; the Hub's log has the details")
        if response.code == 599:
            raise web.HTTPError(503, "the share service did not answer in time; try again")
        self.set_status(response.code)
        for name in _PASSED_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        if response.code < 300 and self.request.method != "GET":
            app.after_change(self.request.method, path, response)
        self.finish(response.body if response.body and response.code not in (204, 304) else None)

    async def _guests_here(self) -> None:
        """Who is in this server now: presence lives in this server's memory, so it is answered
        here, not by the service. The service still decides: it must let the owner read the
        access list (owner and managers only), and each guest is shown with the permission it
        gives them now (their own grant or a group's, while the Hub still lets them in);
        a guest whose access ended is not shown."""
        app = _hub(self)
        assert app.service_client is not None  # checked by _carry, the only caller
        try:
            response = await app.service_client.fetch("GET", "sessions/current/grants")
        except ServiceUnreachable as e:
            self.log.warning("jupyter_share: the share service is not reachable: %s", e)
            raise web.HTTPError(
                503, "the share service is not reachable; try again in a moment"
            ) from None
        if response.code != 200:
            self.set_status(response.code if response.code < 500 else 502)
            self.finish(response.body or None)
            return
        activity = self.extensionapp.guest_activity
        assert app.container_access is not None  # made with the service client
        permissions: dict[str, Permission] = {}
        for name in sorted({p.username for p in activity.present()}):
            try:
                permission = await app.container_access.permission(name)
            except ServiceUnreachable:
                raise web.HTTPError(
                    503, "the share service is not reachable; try again in a moment"
                ) from None
            if permission is not None:
                permissions[name] = permission
        items = await presence.guests_now(self.serverapp, activity, permissions)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"items": items, "total": len(items)}))

    async def _with_captured_environment(self, body: bytes) -> bytes:
        """`{"capture": true}` means this container's environment: it is captured here, where
        it runs, and sent as the image's spec.environment. Anything unexpected is sent as it
        came, for the service to refuse."""
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if not isinstance(data, dict) or data.get("capture") is not True:
            return body
        capture = self.extensionapp.capture_environment_or_none()
        if capture is None:
            return body  # the service answers: this server cannot capture
        spec = data.get("spec")
        spec = dict(spec) if isinstance(spec, dict) else {} if spec is None else spec
        if isinstance(spec, dict):
            spec["environment"] = await IOLoop.current().run_in_executor(None, capture)
        data.pop("capture")
        data["spec"] = spec
        return json.dumps(data).encode()

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        await self._carry(path)

    @web.authenticated
    @authorized
    async def post(self, path: str) -> None:
        await self._carry(path)

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        await self._carry(path)

    @web.authenticated
    @authorized
    async def patch(self, path: str) -> None:
        await self._carry(path)

    @web.authenticated
    @authorized
    async def delete(self, path: str) -> None:
        await self._carry(path)


class _Closed(Exception):
    pass


class HubFeedHandler(SignInRequired, ExtensionHandlerMixin, APIHandler):
    if TYPE_CHECKING:

        @property
        def extensionapp(self) -> ShareApp: ...

    """`{base_url}jupyter-share/api/v1/feed`: the owner's event stream, relayed from the share
    service (which watches the store) as it comes. Guests are refused (guests.ROUTES)."""

    auth_resource = "share"
    write_error = ShareAPIBase.write_error

    @web.authenticated
    @authorized
    async def get(self) -> None:
        client = _hub(self).service_client
        if client is None:
            raise web.HTTPError(503, "the share service is not configured for this Hub")
        self._closed = False
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")

        status = []

        def header(line: str) -> None:
            if line.startswith("HTTP/"):
                status.append(int(line.split()[1]))

        def relay(chunk: bytes) -> None:
            if self._closed:
                raise _Closed()  # ends the service's stream too
            if status and status[-1] == 200:  # never an error page of the service
                self.write(chunk)
                self.flush()

        request = HTTPRequest(
            client.api_url + "feed",
            headers={"Authorization": f"token {client.token}"},
            request_timeout=0,  # a stream: no end expected
            connect_timeout=5.0,
            streaming_callback=relay,
            header_callback=header,
        )
        # A client of its own: the shared one runs at most 10 requests at once, and streams
        # that never end would hold the share API's calls in its queue.
        http = AsyncHTTPClient(force_instance=True)
        # Its end (or failure) ends this stream: the browser reconnects.
        try:
            with contextlib.suppress(OSError, HTTPClientError, asyncio.TimeoutError, _Closed):
                await http.fetch(request, raise_error=False)
        finally:
            http.close()
        if self._closed:
            return
        if status and status[-1] != 200 and not self._headers_written:
            raise web.HTTPError(502, "the share service refused the event stream")
        self.finish()  # the client reconnects

    def on_connection_close(self) -> None:
        self._closed = True


class HubEnvironmentsBase(ShareAPIBase, SignInRequired, ExtensionHandlerMixin, APIHandler):
    """`images/{id}/use` and `environments...` on a Hub user server: the owner's environments
    are built here, in the owner's own container; the image is read through the share service
    as the owner, so the service still decides who may see it. Guests are refused (these
    handlers are not in guests.ROUTES, and `environments` says no again)."""

    if TYPE_CHECKING:

        @property
        def extensionapp(self) -> ShareApp: ...

    @property
    def mode(self) -> str:
        return "hub"

    @property
    def username(self) -> str:
        return self.extensionapp.username  # the owner: nobody else gets past `environments`

    @property
    def environments(self):
        refused = building_refused(guest_of(self))
        if refused is not None:
            raise Forbidden(refused)
        return self.extensionapp.environments

    async def image_to_use(self, raw_id: str) -> Resource:
        self.environments  # noqa: B018 - a guest is refused before anything is asked
        client = _hub(self).service_client
        if client is None:
            raise web.HTTPError(503, "the share service is not configured for this Hub")
        try:
            response = await client.fetch("GET", "images/" + quote(raw_id, safe=""))
        except ServiceUnreachable as e:
            self.log.warning("jupyter_share: the share service is not reachable: %s", e)
            raise web.HTTPError(
                503, "the share service is not reachable; try again in a moment"
            ) from None
        try:
            data = json.loads(response.body) if response.body else {}
        except ValueError:
            data = {}
        if response.code != 200:
            if response.code >= 500 or not isinstance(data, dict):
                raise web.HTTPError(502, "the share service failed; the Hub's log has the details")
            raise ShareError(
                str(data.get("message") or "refused by the share service"),
                data.get("field"),
                status=response.code,
                reason=data.get("reason") or None,
            )
        try:
            image = Resource(
                id=str(data["id"]),
                kind=Kind.IMAGE,
                name=str(data["name"]),
                owner=str(data["owner"]),
                description=str(data.get("description") or ""),
                spec=dict(data.get("spec") or {}),
            )
        except (KeyError, TypeError, ValueError):
            raise web.HTTPError(502, "the share service answered an unexpected image") from None
        return usable_image(image)


def hub_handlers(prefix: str) -> list[tuple[str, type]]:
    # The stream and the environments first: the proxy's catch-all would answer their paths.
    return (
        [(rf"/{prefix}/feed", HubFeedHandler)]
        + api_routes(HubEnvironmentsBase, "/" + prefix, only=BUILT_HERE, name_prefix="Hub")
        + [(rf"/{prefix}/(.*)", HubProxyHandler)]
    )
