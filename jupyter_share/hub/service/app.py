"""The share service: run by JupyterHub as a managed service (`jupyter-share-service`).

It owns the store and serves REST API v1 at `{JUPYTERHUB_SERVICE_PREFIX}api/v1` over the same
service layer and the same endpoints as the server extension. Callers are Hub users with a
token (users' servers call it with their own `JUPYTERHUB_API_TOKEN`, on their owner's behalf);
the Hub checks the token and its `access:services!service=NAME` scope (HubAuth). The service
keeps no state but the store, so replicas may share one PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from jupyter_events import EventLogger
from jupyterhub.services.auth import HubAuth
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.platform.asyncio import BaseAsyncIOLoop
from traitlets import Float, Integer, Type, Unicode, default
from traitlets.config import Application

from ... import __version__, wiring
from ...directory import Directory
from ...feed import Streams
from ...handlers import api_routes
from ...model import Kind
from ...service import ShareService
from ...store import ShareStore, SQLStore
from ...store.changefeed import feed_for
from .containers import HubContainers
from .directory import HubDirectory
from .handlers import GuestAccessHandler, ServiceAPIHandler, ServiceFeedHandler, ServiceHomeHandler
from .hubapi import HubAPI
from .restarts import ServerRestarts


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

    store_class = Type(
        default_value=SQLStore,
        klass=ShareStore,
        config=True,
        help="The store implementation (jupyter_share.store.ShareStore); built as "
        "store_class(url=db_url). The default, jupyter_share.store.SQLStore, opens the one "
        "db_url names: SQLiteStore for sqlite:// URLs, PostgresStore for postgresql:// (any "
        "other is refused at start). Name SQLiteStore or PostgresStore to allow only that "
        "database, or a ShareStore of your own.",
    )
    directory_class = Type(
        default_value=HubDirectory,
        klass=Directory,
        config=True,
        help="The directory implementation: the Hub's users and groups; built as "
        "directory_class(hub, cache_seconds=, membership_seconds=).",
    )
    containers_class = Type(
        default_value=HubContainers,
        klass=HubContainers,
        config=True,
        help="The containers port (jupyter_share.containers.Containers): the users' servers, "
        "shared through the Hub's sharing API; built as containers_class(hub, cache_seconds=, "
        "membership_seconds=).",
    )

    def make_service(self) -> ShareService:
        hub = HubAPI(timeout=self.hub_timeout)
        store = wiring.make_store(self.store_class, self.db_url, "ShareServiceApp")
        self.event_logger = EventLogger(parent=self)
        wiring.register_event_schemas(self.event_logger)
        caches = {
            "cache_seconds": self.directory_cache_seconds,
            "membership_seconds": self.membership_cache_seconds,
        }
        return ShareService(
            store,
            self.directory_class(hub, **caches),
            emit=self._emit,
            containers=self.containers_class(hub, **caches),
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
        self.io_loop.add_callback(
            self.event_logger.emit, schema_id=wiring.EVENT_SCHEMA_ID, data=data
        )
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
        wiring.start_purging(self.service, self.purge_interval, self.log)
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
