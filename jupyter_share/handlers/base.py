"""What every share API handler does, wherever it runs (docs/architecture.md, "Layers"): call
the service as the signed-in user, parse and shape JSON, and map refusals to status codes in
one place, `ShareAPIBase._handle_request_exception`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.ioloop import IOLoop

from ..answers import AnswerCache
from ..auth import guest_of
from ..model import InvalidInput, Kind, ShareError
from ..serialize import page_json, resource_list_json
from ..service import ShareService

if TYPE_CHECKING:
    # The mixins below run only in tornado handlers (jupyter_server's where they sign in):
    # mypy reads them as such.
    _Handler = web.RequestHandler
    _SignInHandler = APIHandler
else:
    _Handler = _SignInHandler = object

API_PREFIX = "jupyter-share/api/v1"


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

    async def guest_banner(self) -> dict | None:
        """For a guest, what their banner says ("You are in alice's container, view only,
        until ..."); None for everyone else."""
        return None

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

    @property
    def launcher(self) -> Any:
        """The servers launched from formations by the server answering (`launcher`)."""
        raise InvalidInput(
            "under JupyterHub, a formation is launched as a named server through the Hub "
            "(its spawn page, or the panel's Launch button)",
            field="id",
        )

    async def image_to_use(self, raw_id: str) -> Any:
        """The image the signed-in user may build an environment from here (a Resource)."""
        return await self.call(self.service.image_to_use, raw_id)

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
