"""`ShareApp`: the Jupyter server extension. It reads the configuration (DESIGN section 5),
plugs in the ports, and registers the REST API, the identity provider and the event schema."""

from __future__ import annotations

import getpass
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado import web
from tornado.ioloop import IOLoop, PeriodicCallback
from traitlets import Bool, Dict, Float, List, Type, Unicode, default, validate

from . import __version__
from .auth import install_identity_provider, owner_user
from .capture import capture_environment
from .directory import Directory, StandaloneDirectory
from .handlers import handlers
from .model import NAME_PATTERN, utcnow
from .service import ShareService
from .store import ShareStore, SQLStore

EVENT_SCHEMA = Path(__file__).parent / "events" / "change.yaml"
EVENT_SCHEMA_ID = "https://events.jupyter.org/jupyter_share/change/v1"


def started_by_jupyterhub() -> bool:
    return bool(os.environ.get("JUPYTERHUB_API_TOKEN") and os.environ.get("JUPYTERHUB_SERVICE_PREFIX"))


def default_db_url() -> str:
    return "sqlite:///" + str(Path(jupyter_data_dir()) / "jupyter_share" / "share.db")


class ShareApp(ExtensionApp):
    name = "jupyter_share"
    description = "Share images, formations and running containers with other Jupyter users."
    load_other_extensions = True

    mode = Unicode(
        "auto",
        config=True,
        help="'standalone', 'hub', or 'auto': hub when the server was started by JupyterHub.",
    )
    username = Unicode(
        config=True, help="The owner's user name in standalone mode (default: the OS login name)."
    )
    display_name = Unicode("", config=True, help="The owner's display name (default: the user name).")
    db_url = Unicode(
        config=True,
        help="SQLAlchemy URL of the store. Default: a SQLite file under the Jupyter data dir. "
        "Servers of several users pointing at one URL share a workstation.",
    )
    users = List(Unicode(), config=True, help="Extra user names known to the standalone directory.")
    groups = Dict(
        value_trait=List(Unicode()),
        config=True,
        help="Groups of the standalone directory: {group: [user, ...]}.",
    )
    session_name = Unicode(
        config=True, help="The name under which this server (the container) is listed and shared."
    )
    purge_interval = Float(
        60.0, config=True, help="Seconds between sweeps that delete expired grants (0: never)."
    )
    capture_enabled = Bool(
        True, config=True, help="Whether images may capture this container's environment."
    )
    store_class = Type(
        default_value=SQLStore,
        klass=ShareStore,
        config=True,
        help="The store implementation; built as store_class(url=db_url).",
    )
    directory_class = Type(
        default_value=StandaloneDirectory,
        klass=Directory,
        config=True,
        help="The directory implementation; built as directory_class(store=, users=, groups=).",
    )

    @default("username")
    def _default_username(self) -> str:
        return getpass.getuser()

    @validate("username")
    def _check_username(self, proposal) -> str:
        if not NAME_PATTERN.match(proposal["value"]):
            raise ValueError(f"ShareApp.username {proposal['value']!r} is not a valid user name")
        return proposal["value"]

    @validate("mode")
    def _check_mode(self, proposal) -> str:
        if proposal["value"] not in ("auto", "standalone", "hub"):
            raise ValueError("ShareApp.mode must be 'auto', 'standalone' or 'hub'")
        return proposal["value"]

    @default("db_url")
    def _default_db_url(self) -> str:
        return default_db_url()

    @default("session_name")
    def _default_session_name(self) -> str:
        root = str(Path(self.serverapp.root_dir).expanduser()) if self.serverapp else os.getcwd()
        home = str(Path.home())
        if root == home or root.startswith(home + os.sep):
            root = "~" + root[len(home):]
        name = f"{socket.gethostname()}:{root}"
        # Names are at most 128 characters; the end of a long path says the most.
        return name if len(name) <= 128 else "…" + name[-127:]

    @property
    def resolved_mode(self) -> str:
        if self.mode == "auto":
            return "hub" if started_by_jupyterhub() else "standalone"
        return self.mode

    # -- wiring -----------------------------------------------------------------------------

    def make_service(self) -> ShareService:
        """Build the ports and the service from the configuration (also used by the CLI)."""
        if self.db_url.startswith("sqlite:///"):
            Path(self.db_url[len("sqlite:///"):]).expanduser().parent.mkdir(parents=True, exist_ok=True)
        store = self.store_class(url=self.db_url)
        directory = self.directory_class(store=store, users=self.users, groups=self.groups)
        return ShareService(
            store,
            directory,
            emit=self._emit_event,
            capture_environment=capture_environment if self.capture_enabled else None,
        )

    def _emit_event(self, data: dict) -> None:
        logger = getattr(self.serverapp, "event_logger", None) if self.serverapp else None
        loop = getattr(self, "_io_loop", None)
        if logger is None or loop is None:  # no server running (the CLI): nobody to tell
            return
        data = {k: v for k, v in data.items() if v is not None}
        # The service runs in worker threads; event listeners run on the server's loop.
        loop.add_callback(logger.emit, schema_id=EVENT_SCHEMA_ID, data=data)

    def initialize_settings(self) -> None:
        self.serverapp.event_logger.register_event_schema(EVENT_SCHEMA)
        self._io_loop = IOLoop.current()
        self.service = self.make_service()
        self.service.store.touch_user(self.username, utcnow())
        self._started_at = datetime.now(timezone.utc)
        if self.purge_interval > 0:
            # Started here, like the server's own culling callbacks: the loop runs it later.
            self._purger = PeriodicCallback(self._purge, self.purge_interval * 1000)
            self._purger.start()
        provider = install_identity_provider(self.serverapp, self._resolve_user)
        # ExtensionApp copies self.settings over the web app's settings after this method.
        self.settings["identity_provider"] = provider
        self.log.info(
            "jupyter_share %s: %s mode, user %r, store %s",
            __version__,
            self.resolved_mode,
            self.username,
            self.service.store.url.render_as_string(hide_password=True)
            if hasattr(self.service.store, "url")
            else type(self.service.store).__name__,
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def _purge(self) -> None:
        try:
            await IOLoop.current().run_in_executor(None, self.service.purge_expired)
        except Exception:
            self.log.exception("jupyter_share: purging expired grants failed")

    async def stop_extension(self) -> None:
        purger = getattr(self, "_purger", None)
        if purger is not None:
            purger.stop()
        service = getattr(self, "service", None)
        if service is not None:
            service.store.close()

    # -- identity and the current container -------------------------------------------------

    def _resolve_user(self, handler: web.RequestHandler, user):
        """Who a request authenticated by the server's own identity provider acts as."""
        if self.resolved_mode == "hub":
            return user  # the Hub names its users
        return owner_user(self.username, self.display_name or None)

    def session_spec(self) -> dict:
        return {
            "url": self.serverapp.connection_url if self.serverapp else "",
            "root_dir": str(self.serverapp.root_dir) if self.serverapp else os.getcwd(),
            "hostname": socket.gethostname(),
            "started_at": self._started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "jupyter_server": __import__("jupyter_server").__version__,
        }

    def current_session_id(self) -> str:
        """The id of this server's session resource, created on first use (and again if the
        owner deleted it)."""
        return self.service.ensure_session(self.username, self.session_name, self.session_spec()).id
