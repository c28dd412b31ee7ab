"""Standalone (`backend.LocalBackend`'s mode): this server holds the rules over a store that
every server of the machine (and `jupyter share`) opens; its own container is registered when
it starts, shown stopped when it stops, and opened by neighbours through personal links."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jupyter_server import __version__ as jupyter_server_version
from tornado import web
from tornado.ioloop import IOLoop, PeriodicCallback

from . import __version__, wiring
from .answers import AnswerCache
from .auth import IdentityHooks, install, owner_user
from .backend import Backend
from .containers import LocalContainers
from .feed import FeedHandler, Streams
from .formation_env import FormationEnvironment
from .guest_cookies import GuestClaim, GuestCookies
from .handlers import handlers, page_handlers
from .launcher import LAUNCHED_FROM_ENV, Launcher
from .liveness import RUNNING, container_state
from .model import Kind, utcnow
from .secret_filter import MIN_SECRET
from .service import ShareService
from .service.guests import Guest
from .sessions import FailedAttempts
from .store import SQLStore
from .store.changefeed import feed_for


class LocalBackend(Backend):
    mode = "standalone"

    service: ShareService
    containers: LocalContainers
    streams: Streams | None = None
    change_feed: Any = None

    def start(self) -> None:
        app = self.app
        self.service = app.make_service()
        containers = self.service.containers
        if not isinstance(containers, LocalContainers):
            raise TypeError(
                "standalone, ShareApp.containers_class must be (a subclass of) "
                "jupyter_share.containers.LocalContainers: personal links open this server"
            )
        self.containers = containers
        app.service = self.service
        self.service.store.touch_user(app.username, utcnow())
        app.environments = app.make_environments(app._emit_environment)
        self.started_at = datetime.now(timezone.utc)
        self._periodic: list[PeriodicCallback | None] = [
            wiring.start_purging(self.service, app.purge_interval, self.log)
        ]
        self.session_id: str | None = None
        # Recorded as running only once the server listens: until then its address refuses
        # connections, and another server's liveness sweep would record it stopped again.
        if app.register_container:
            # Launched from a formation: listed at once, not on first use.
            app._once_listening(self.current_container_id)
        else:
            # A restarted server's container shows as running again at once, not on first use.
            app._once_listening(
                lambda: self.service.container_started(
                    app.username, app.session_name, self.container_spec()
                )
            )
        self.launcher = app.launcher = self.make_launcher()
        if app.liveness_interval > 0:
            self._periodic.append(
                PeriodicCallback(self._sweep_stopped, app.liveness_interval * 1000)
            )
        self._start_feed()
        if app.reuse_answers:
            app.answer_cache = AnswerCache(
                self.service.store, self.service.clock, app.answer_cache_bytes
            )
        self.link_attempts = FailedAttempts()
        if app.guest_check_interval > 0:
            self._periodic.append(
                PeriodicCallback(self._check_guests, app.guest_check_interval * 1000)
            )
        for callback in self._periodic:
            if callback is not None and not callback.is_running():
                callback.start()
        app.adjust_page_config(blank_token=True)
        token = getattr(app.serverapp.identity_provider, "token", "") or ""
        if 0 < len(token) < MIN_SECRET:
            self.log.warning(
                "jupyter_share: the server's token is shorter than %d characters; guests' pages "
                "get no token, but answers are only scanned for secrets of that length or more",
                MIN_SECRET,
            )
        self.guest_cookies = GuestCookies()
        install(
            app.serverapp,
            IdentityHooks(self._resolve_user, self._resolve_guest, self._clear_guest),
        )
        store = self.service.store
        self.log.info(
            "jupyter_share %s: standalone mode, user %r, store %s",
            __version__,
            app.username,
            store.url.render_as_string(hide_password=True)
            if isinstance(store, SQLStore)
            else type(store).__name__,
        )

    def make_launcher(self) -> Launcher:
        """The servers launched from formations on this machine, run by this one."""
        app = self.app
        return Launcher(
            self.service,
            app.username,
            app.launch_config(),
            Path(app.launch_dir).expanduser(),
            FormationEnvironment(parent=app),
            app.environments,
            Path(app.environment_kernels_dir).expanduser(),
        )

    def handlers(self, prefix: str) -> list[tuple[str, Any]]:
        # The stream first: the API's catch-all would answer its path.
        return [(f"/{prefix}/feed", FeedHandler)] + handlers() + page_handlers()

    def changed(self, data: dict) -> None:
        if data.get("kind") == Kind.SESSION.value:
            # A grant on a container changed: guests' next requests and open sockets follow now.
            self.containers.forget_shares()
            self.app.io_loop.add_callback(self._check_guests)

    async def stop(self) -> None:
        for callback in getattr(self, "_periodic", ()):
            if callback is not None:
                callback.stop()
        if self.change_feed is not None:
            self.change_feed.stop()
        if self.streams is not None:
            self.streams.close_all()
        if getattr(self, "service", None) is not None:
            self._record_stop()
            self.service.store.close()

    # -- the store's changes and the periodic sweeps -----------------------------------------

    def _start_feed(self) -> None:
        """One watcher of the store for this server; its changes reach the owner's streams."""
        interval = self.app.feed_interval
        self.streams = Streams(self.service.feed_message)
        self.change_feed = (
            feed_for(self.service.store, self.streams.deliver, interval) if interval > 0 else None
        )
        if self.change_feed is None:
            self.streams = None
            return
        self.app.streams = self.streams  # what the feed's handler serves
        self.change_feed.start()

    async def _sweep_stopped(self) -> None:
        try:
            await IOLoop.current().run_in_executor(
                None, self.service.sweep_stopped, socket.gethostname(), container_state
            )
        except Exception:
            self.log.exception("jupyter_share: checking which containers still run failed")

    # -- this server's container -------------------------------------------------------------

    def container_spec(self) -> dict:
        serverapp = self.app.serverapp
        return {
            "url": self.app.public_url or (serverapp.connection_url if serverapp else ""),
            "root_dir": str(serverapp.root_dir) if serverapp else os.getcwd(),
            "hostname": socket.gethostname(),
            "state": RUNNING,
            "started_at": self.started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "jupyter_server": jupyter_server_version,
            # Set by the server that launched this one from a formation (`launcher`).
            **(
                {"launched_from": os.environ[LAUNCHED_FROM_ENV]}
                if os.environ.get(LAUNCHED_FROM_ENV)
                else {}
            ),
        }

    def current_container_id(self) -> str:
        """The id of this server's session resource, created on first use (and again if the
        owner deleted it)."""
        self.session_id = self.service.ensure_container(
            self.app.username, self.app.session_name, self.container_spec()
        ).id
        return self.session_id

    def _record_stop(self) -> None:
        """This server's container shows as stopped (if it was ever made)."""
        try:
            found = self.service.store.find_resource(
                self.app.username, Kind.SESSION, self.app.session_name
            )
            if found is not None:
                self.service.container_stopped(found.id, self.container_spec()["started_at"])
        except Exception:  # a store that went away must not stop the server's shutdown
            self.log.exception("jupyter_share: recording that this server stopped failed")

    # -- identity: the owner, and neighbours signed in by a personal link -------------------

    def _resolve_user(self, handler: web.RequestHandler, user):
        """Whoever the server's own identity provider authenticates is the owner, as that
        provider names them (the share API acts for them as `username`)."""
        return user

    def _cookie_path(self) -> str:
        return self.app.serverapp.base_url

    def sign_in_guest(self, handler: web.RequestHandler, link) -> None:
        """Set the cookie that makes this browser the link's guest in this container."""
        claim = GuestClaim(link.id, link.username, link.resource_id)
        self.guest_cookies.set(handler, claim, self._cookie_path())
        permission = self.containers.permissions([link.id]).get(link.id)
        if permission is not None:
            self.app.guest_activity.signed_in(
                Guest(link.username, self.app.username, permission, link.id),
                handler.request.remote_ip or "",
            )

    def _resolve_guest(self, handler: web.RequestHandler):
        """The guest whose cookie for this container a request carries, if their link still
        works; refuses (403) what that guest may not do."""
        if self.session_id is None:
            return None  # no link of this container was ever opened
        claim = self.guest_cookies.read(handler, self.session_id)
        if claim is None:
            return None
        permission = self.containers.permissions([claim.link_id]).get(claim.link_id)
        if permission is None:
            return None  # revoked, expired or replaced: not signed in
        self.app.guest_door.admit(
            handler, Guest(claim.username, self.app.username, permission, claim.link_id)
        )
        return owner_user(claim.username)

    def _clear_guest(self, handler: web.RequestHandler) -> None:
        if self.session_id is not None:
            self.guest_cookies.clear(handler, self.session_id, self._cookie_path())

    async def _check_guests(self) -> None:
        link_ids = self.app.guest_activity.link_ids()
        if not link_ids:
            return
        try:
            live = await IOLoop.current().run_in_executor(
                None, lambda: self.containers.permissions(link_ids, fresh=True)
            )
        except Exception:
            self.log.exception("jupyter_share: checking guests' access failed")
            return
        owner = self.app.username
        guests = {i: (Guest("", owner, live[i], i) if i in live else None) for i in link_ids}
        self.app.guest_door.follow(guests)
        await self.app.guest_activity.follow(guests)
