"""The share service: run by JupyterHub as a managed service (`jupyter-share-service`).

It owns the store and serves REST API v1 at `{JUPYTERHUB_SERVICE_PREFIX}api/v1` over the same
service layer and the same endpoints as the server extension. Callers are Hub users with a
token (users' servers call it with their own `JUPYTERHUB_API_TOKEN`, on their owner's behalf);
the Hub checks the token and its `access:services!service=NAME` scope (HubAuth). The service
keeps no state but the store, so replicas may share one PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jupyter_events import EventLogger
from jupyterhub.services.auth import HubAuth
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.platform.asyncio import BaseAsyncIOLoop
from traitlets import Float, Integer, Unicode, default
from traitlets.config import Application

from .. import __version__
from ..changefeed import feed_for
from ..feed import Streams, connection_closed, serve
from ..handlers import ShareAPIBase, api_routes
from ..model import HubRefused, HubUnavailable, Kind, NotFound
from ..service import ShareService
from ..store import SQLStore
from .containers import SERVER_HEADER, HubContainers, server_label
from .directory import HubDirectory
from .hubapi import HubAPI

EVENT_SCHEMA = Path(__file__).parent.parent / "events" / "change.yaml"
EVENT_SCHEMA_ID = "https://events.jupyter.org/jupyter_share/change/v1"


@dataclass
class HubCaller:
    """The Hub user a request acts for."""

    username: str
    display_name: str
    groups: list[str] = field(default_factory=list)


#: Seconds between the answer to a revoke with `rekey=true` and stopping the server: the answer
#: travels back through that very server (its owner's request was carried by it).
RESTART_DELAY = 1.0

#: What the service's own token needs to restart a user's server: `servers` (JupyterHub 5), or
#: its two parts that JupyterHub 6 expands it to.
RESTART_SCOPES = ({"servers"}, {"start:servers", "delete:servers"})


class ServerRestarts:
    """Restarts of users' servers that a revoke with `rekey=true` asked for (item 15 of issue
    11): the Hub deletes a server's API token when it stops and makes a new one when it starts,
    so whatever an edit guest copied from the server (its `JUPYTERHUB_API_TOKEN`, which acts as
    the owner at the Hub and here) stops working. One restart at a time per server."""

    def __init__(
        self,
        containers: HubContainers,
        hub_auth: HubAuth,
        log: logging.Logger,
        delay: float = RESTART_DELAY,
    ):
        self.containers = containers
        self.hub_auth = hub_auth
        self.log = log
        self.delay = delay
        self.pending: set[tuple[str, str]] = set()

    def schedule(self, owner: str, server_name: str, user_options: dict | None) -> bool:
        """Restart the server `delay` seconds from now; False if a restart is already on its way."""
        key = (owner, server_name)
        if key in self.pending:
            return False
        self.pending.add(key)
        IOLoop.current().call_later(self.delay, self._restart, owner, server_name, user_options)
        return True

    async def _restart(self, owner: str, server_name: str, user_options: dict | None) -> None:
        loop = IOLoop.current()
        name = f"{owner}/{server_name}"
        started = time.monotonic()
        try:
            await loop.run_in_executor(None, self.containers.stop, owner, server_name)
            self.forget_tokens(owner)
            self.log.info(
                "jupyter_share: re-keying %s: stopped in %.1f s, its API token is void",
                name,
                time.monotonic() - started,
            )
            await loop.run_in_executor(
                None, self.containers.start, owner, server_name, user_options
            )
            self.forget_tokens(owner)
            self.log.info(
                "jupyter_share: re-keying %s: running again with a new API token after %.1f s",
                name,
                time.monotonic() - started,
            )
        except Exception as e:
            self.forget_tokens(owner)
            self.log.error(
                "jupyter_share: re-keying %s failed: %s (its owner can start it at the Hub)",
                name,
                e,
            )
        finally:
            self.pending.discard((owner, server_name))

    def forget_tokens(self, owner: str) -> None:
        """Forget the Hub's answers about the owner's tokens that HubAuth keeps (for
        `auth_cache_seconds`): the old server token must be refused now, not in minutes."""
        cache = getattr(self.hub_auth, "cache", None)
        if cache is None:
            return
        try:  # JupyterHub's _ExpiringDict keeps its entries in .values and .timestamps
            for key, model in list(cache.values.items()):
                if not isinstance(model, dict) or model.get("name") == owner:
                    cache.values.pop(key, None)
                    cache.timestamps.pop(key, None)
        except (AttributeError, KeyError, TypeError):
            self.hub_auth.cache = type(cache)(self.hub_auth.cache_max_age)


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
            None, self.service.hub_session, self.username, unquote(server)
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


class ShareServiceApp(Application):
    #: Set by `start`: this replica's streams and its watcher of the store.
    streams: Streams | None = None
    change_feed = None
    name = "jupyter-share-service"
    description = "The jupyter_share JupyterHub service: owns the store, serves REST API v1."
    version = __version__

    db_url = Unicode(
        config=True,
        help="SQLAlchemy URL of the store (default: $JUPYTER_SHARE_DB_URL, else a SQLite file "
        "in the working directory; PostgreSQL for several replicas).",
    )
    purge_interval = Float(
        60.0, config=True, help="Seconds between sweeps of expired grants (0: never)."
    )
    history_days = Float(
        365.0,
        config=True,
        help="Days the history of resources is kept; older rows are deleted by the sweep of "
        "expired grants (each grantee's last `share` row stays). 0: kept for ever.",
    )
    hub_timeout = Float(
        10.0, config=True, help="Seconds to wait for the Hub's API before answering 503."
    )
    directory_cache_seconds = Float(
        30.0,
        config=True,
        help="Seconds the Hub's users, groups, servers and shares are kept before asking again "
        "(changes made through the service are seen at once; others within this time).",
    )
    url = Unicode(config=True, help="Where to listen (default: $JUPYTERHUB_SERVICE_URL).")
    prefix = Unicode(config=True, help="URL prefix (default: $JUPYTERHUB_SERVICE_PREFIX).")
    membership_cache_seconds = Float(
        2.0,
        config=True,
        help="Seconds a user's groups, a group's members and the Hub's shares of a server are "
        "kept for access checks: a change made at the Hub that removes access (a member leaving "
        "a group, an admin's revoke) holds after this. Never taken from the token cache.",
    )
    auth_cache_seconds = Integer(
        300,
        config=True,
        help="Seconds the Hub's answer about a token is kept (HubAuth.cache_max_age, as its default).",
    )
    threads = Integer(
        16,
        config=True,
        help="Worker threads for the store and the Hub's API (most of their time is spent waiting on the Hub).",
    )

    @default("log_level")
    def _default_log_level(self) -> int:
        return logging.INFO  # a service's log is read by operators: requests and changes

    @default("db_url")
    def _default_db_url(self) -> str:
        return os.environ.get("JUPYTER_SHARE_DB_URL") or "sqlite:///" + str(
            Path.cwd() / "jupyter_share.sqlite"
        )

    @default("url")
    def _default_url(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101")

    @default("prefix")
    def _default_prefix(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/share/")

    def make_service(self) -> ShareService:
        if self.db_url.startswith("sqlite:///"):
            Path(self.db_url[len("sqlite:///") :]).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
        hub = HubAPI(timeout=self.hub_timeout)
        store = SQLStore(url=self.db_url)
        self.event_logger = EventLogger(parent=self)
        self.event_logger.register_event_schema(EVENT_SCHEMA)
        return ShareService(
            store,
            HubDirectory(
                hub,
                cache_seconds=self.directory_cache_seconds,
                membership_seconds=self.membership_cache_seconds,
            ),
            emit=self._emit,
            containers=HubContainers(
                hub,
                cache_seconds=self.directory_cache_seconds,
                membership_seconds=self.membership_cache_seconds,
            ),
            history_retention=timedelta(days=self.history_days) if self.history_days > 0 else None,
        )

    def store_label(self) -> str:
        """The store's URL without its password, for the log."""
        store = self.service.store
        if isinstance(store, SQLStore):
            return store.url.render_as_string(hide_password=True)
        return type(store).__name__

    def _emit(self, data: dict) -> None:
        data = {k: v for k, v in data.items() if v is not None}
        self.io_loop.add_callback(self.event_logger.emit, schema_id=EVENT_SCHEMA_ID, data=data)
        self.log.info(
            "jupyter_share: %s %s %s by %s",
            data["action"],
            data["kind"],
            data["resource_id"],
            data["actor"],
        )

    def make_app(self) -> web.Application:
        prefix = "/" + self.prefix.strip("/") + "/"
        api = url_path_join(prefix, "api/v1")
        hub_auth = HubAuth(cache_max_age=self.auth_cache_seconds)
        # The handlers restart servers through the Hub's API, beyond what the rules use.
        containers = self.service.containers
        if not isinstance(containers, HubContainers):
            raise TypeError("the share service's containers are the Hub's (HubContainers)")
        routes = [
            (prefix + "?", ServiceHomeHandler),
            (api + "/sessions/current/access/([^/]+)", GuestAccessHandler),
            (api + "/feed", ServiceFeedHandler),
        ] + api_routes(ServiceAPIHandler, api)
        return web.Application(
            routes,
            hub_auth=hub_auth,
            restarts=ServerRestarts(containers, hub_auth, self.log),
            containers=containers,
            share_service=self.service,
            streams=self.streams,
            log=self.log,
            api_prefix=api + "/",
            xsrf_cookies=False,  # tokens only, see ServiceAPIHandler.check_xsrf_cookie
            log_function=self._log_request,
        )

    def _log_request(self, handler: web.RequestHandler) -> None:
        status = handler.get_status()
        level = (
            self.log.info if status < 400 else self.log.warning if status < 500 else self.log.error
        )
        # The path only: tokens may ride in query strings.
        level(
            "%d %s %s %.1fms",
            status,
            handler.request.method,
            handler.request.path,
            1000 * handler.request.request_time(),
        )

    def start(self) -> None:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # every call to the Hub, at INFO
        self.io_loop = IOLoop.current()
        assert isinstance(self.io_loop, BaseAsyncIOLoop)  # tornado >= 5 runs on asyncio
        self.io_loop.asyncio_loop.set_default_executor(
            ThreadPoolExecutor(self.threads, thread_name_prefix="share")
        )
        self.service = self.make_service()
        # This replica's one watcher of the store: changes made through any replica (or the
        # store by any other means) reach the streams this one serves.
        self.streams = Streams(self.service.feed_message)
        self.change_feed = feed_for(self.service.store, self._heard)
        if self.change_feed is not None:
            self.change_feed.start()
        app = self.make_app()
        where = urlparse(self.url)
        server = HTTPServer(app, xheaders=True)
        server.listen(where.port or 80, where.hostname or "127.0.0.1")
        if self.purge_interval > 0:
            PeriodicCallback(self._purge, self.purge_interval * 1000).start()
        self.log.info(
            "jupyter_share service %s on %s%s, store %s",
            __version__,
            self.url,
            self.prefix,
            self.store_label(),
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.io_loop.add_callback_from_signal(self.io_loop.stop))
        self.io_loop.start()
        if self.change_feed is not None:
            self.change_feed.stop()
        self.service.store.close()

    def _heard(self, changes: list) -> None:
        """Changes committed by any replica (on the watcher's thread): what this one kept of
        the Hub's shares of servers is forgotten when a container's grants changed, and the
        streams are told."""
        assert self.streams is not None  # set by `start` before the watcher starts
        if any(c.kind == Kind.SESSION.value for c in changes):
            assert self.service.containers is not None  # the Hub's (make_service)
            self.service.containers.forget_shares()
        self.streams.deliver(changes)

    async def _purge(self) -> None:
        try:
            await IOLoop.current().run_in_executor(None, self.service.purge_expired)
        except Exception:
            self.log.exception("jupyter_share: purging expired grants failed")
        try:
            await IOLoop.current().run_in_executor(None, self.service.purge_history)
        except Exception:
            self.log.exception("jupyter_share: purging old history failed")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s",
        stream=sys.stderr,
    )
    app = ShareServiceApp.instance()
    app.initialize(argv)
    app.start()


if __name__ == "__main__":
    main()
