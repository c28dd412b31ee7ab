"""`ShareApp`: the Jupyter server extension. It reads the configuration (README.md,
docs/decisions.md), and its mode chooses, once, what the server does for sharing
(`backend_class`: the rules here over the configured ports, or the share service's under
JupyterHub); the backend registers the REST API and the identity hooks. What both modes do
with guests in this server (secrets masked, the guest guard, presence) is here."""

from __future__ import annotations

import getpass
import os
import socket
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado import web
from tornado.ioloop import IOLoop
from traitlets import Bool, Float, Integer, List, Type, Unicode, default, validate

from . import wiring
from .answers import AnswerCache
from .auth import guest_of
from .backend import Backend
from .capture import capture_environment
from .config_traits import GroupMembers, UserNames
from .containers import LocalContainers
from .directory import Directory, StandaloneDirectory
from .environments import BuildSettings, EnvironmentManager
from .guest_activity import GuestActivity
from .guest_door import GuestDoor
from .handlers import API_PREFIX
from .model import NAME_PATTERN, utcnow
from .secret_filter import SecretMask, secret_filter
from .service import ShareService
from .service.guests import guest_workspace
from .standalone import LocalBackend
from .store import ShareStore, SQLStore

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

    from .feed import Streams
    from .launcher import Launcher

# Where tests and listeners have read them from.
EVENT_SCHEMA_ID = wiring.EVENT_SCHEMA_ID
PRESENCE_SCHEMA_ID = wiring.PRESENCE_SCHEMA_ID
ENVIRONMENT_SCHEMA_ID = wiring.ENVIRONMENT_SCHEMA_ID


def started_by_jupyterhub() -> bool:
    return bool(
        os.environ.get("JUPYTERHUB_API_TOKEN") and os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    )


def default_db_url() -> str:
    return "sqlite:///" + str(Path(jupyter_data_dir()) / "jupyter_share" / "share.db")


class ShareApp(ExtensionApp):
    name = "jupyter_share"
    description = "Share images, formations and running containers with other Jupyter users."
    load_other_extensions = True

    #: Set in standalone mode when `reuse_answers` is on.
    answer_cache: AnswerCache | None = None
    #: The rules, standalone; None under JupyterHub, where the share service keeps them.
    service: ShareService | None = None
    #: What this server does for sharing in its mode (`backend_class`), made at start.
    backend: Backend
    #: The builds of environments from images in this container (made by the backend).
    environments: EnvironmentManager
    #: The servers launched from formations on this machine (standalone, made by the backend).
    launcher: Launcher | None = None
    #: The owner's change streams (`GET feed`, standalone, made by the backend); None when the
    #: store cannot be watched.
    streams: Streams | None = None
    if TYPE_CHECKING:
        # Set by the server that loads the extension before any method here runs but those
        # the CLI calls (`make_service`, the defaults), which check for it.
        serverapp: ServerApp

    mode = Unicode(
        "auto",
        config=True,
        help="'standalone', 'hub', or 'auto': hub when the server was started by JupyterHub.",
    )
    username = Unicode(
        config=True, help="The owner's user name in standalone mode (default: the OS login name)."
    )
    display_name = Unicode(
        "", config=True, help="The owner's display name (default: the user name)."
    )
    db_url = Unicode(
        config=True,
        help="SQLAlchemy URL of the store. Default: a SQLite file under the Jupyter data dir. "
        "Servers of several users pointing at one URL share a workstation.",
    )
    users = UserNames(
        config=True,
        help="Extra user names known to the standalone directory: "
        '--ShareApp.users=bob --ShareApp.users=carol or --ShareApp.users=\'["bob", "carol"]\'.',
    )
    groups = GroupMembers(
        config=True,
        help="Groups of the standalone directory: {group: [user, ...]}; "
        '--ShareApp.groups=\'{"class-2026": ["bob", "carol"]}\'.',
    )
    public_url = Unicode(
        "",
        config=True,
        help="The URL at which neighbours reach this server (e.g. https://lab.example.org/), "
        "for personal links and the container's listed address. Default: the address the "
        "request came in on, and the server's own URL.",
    )
    session_name = Unicode(
        config=True, help="The name under which this server (the container) is listed and shared."
    )
    purge_interval = Float(
        60.0, config=True, help="Seconds between sweeps that delete expired grants (0: never)."
    )
    liveness_interval = Float(
        30.0,
        config=True,
        help="Seconds between checks that mark as stopped the containers of this machine whose "
        "server is gone without saying so, e.g. killed (0: never). A server that stops "
        "cleanly marks its own container at once.",
    )
    history_days = Float(
        365.0,
        config=True,
        help="Days the history of resources is kept; older rows are deleted by the sweep of "
        "expired grants (each grantee's last `share` row stays: it says who made the grant). "
        "0: kept for ever.",
    )
    guest_check_interval = Float(
        0.5,
        config=True,
        help="Seconds between checks that close the websockets of guests whose access ended "
        "or shrank (changes made through this server close them at once).",
    )
    feed_interval = Float(
        0.15,
        config=True,
        help="Seconds between looks at a SQLite store for changes made by other servers or the "
        "CLI, which reach the owner's event stream (jupyter_share.store.changefeed; PostgreSQL "
        "notifies instead of being looked at). 0: no change feed (the panel polls).",
    )
    capture_enabled = Bool(
        True, config=True, help="Whether images may capture this container's environment."
    )
    reuse_answers = Bool(
        True,
        config=True,
        help="Whether list answers (shared-with-me, images, formations, sessions) are reused "
        "while nobody has changed the store and no grant has expired since (see "
        "jupyter_share.answers); off: every list is computed again.",
    )
    answer_cache_bytes = Integer(
        32 * 1024 * 1024, config=True, help="At most this many bytes of reused answers."
    )
    environments_dir = Unicode(
        config=True,
        help="Where environments made from images (`jupyter share use`, 'Use in this "
        "container…') are kept, with their build logs. Default: under the Jupyter data dir.",
    )
    environment_kernels_dir = Unicode(
        config=True,
        help="Where their kernelspecs are registered. Default: the kernels folder of the "
        "Jupyter data dir, which JupyterLab's launcher reads.",
    )
    environment_python = Unicode(
        config=True, help="The Python that environments are made with (default: this one)."
    )
    environment_installer = Unicode(
        "auto", config=True, help="'auto' (uv where it is on PATH, else venv + pip), 'uv' or 'pip'."
    )
    environment_index_url = Unicode(
        "", config=True, help="The package index environments install from (default: pip's)."
    )
    environment_find_links = List(
        Unicode(),
        config=True,
        help="Folders (or URLs) of wheels that environments may install from, e.g. a wheelhouse.",
    )
    environment_no_index = Bool(
        False,
        config=True,
        help="Install from environment_find_links only, never from an index (offline).",
    )
    environment_only_binary = Bool(
        True,
        config=True,
        help="Install wheels only: nothing of a shared image runs at install time, and a "
        "package without a wheel for this Python is refused by name.",
    )
    environment_kernel_requirements = List(
        Unicode(),
        default_value=["ipykernel"],
        config=True,
        help="Installed beside an image's packages for its kernel, unless the image pins them.",
    )
    environment_min_free_mb = Integer(
        200, config=True, help="Refuse to build an environment with less free disk than this."
    )
    register_container = Bool(
        False,
        config=True,
        help="Make this server's container at start, not on first use: set on a server that "
        "another one launched from a formation, so that it is listed at once.",
    )
    launch_dir = Unicode(
        config=True,
        help="Where the servers launched from formations on this machine get their folders "
        "(one each). Default: under the Jupyter data dir.",
    )
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
        default_value=StandaloneDirectory,
        klass=Directory,
        config=True,
        help="The directory implementation; built as directory_class(store=, users=, groups=).",
    )

    containers_class = Type(
        default_value=LocalContainers,
        klass=LocalContainers,
        config=True,
        help="The containers port standalone (jupyter_share.containers.Containers): this "
        "server, opened by personal links; built as containers_class(store=, clock=).",
    )
    backend_class = Type(
        klass=Backend,
        config=True,
        help="What this server does for sharing (jupyter_share.backend.Backend). Default, by "
        "mode: standalone jupyter_share.standalone.LocalBackend (the rules here, over "
        "store_class, directory_class and containers_class); hub "
        "jupyter_share.hub.userserver.HubBackend (the share service decides).",
    )

    @default("backend_class")
    def _default_backend_class(self) -> type[Backend] | str:
        if self.resolved_mode == "hub":
            # A string: traitlets imports it when read, so the core imports nothing of hub/.
            return "jupyter_share.hub.userserver.HubBackend"
        return LocalBackend

    @default("username")
    def _default_username(self) -> str:
        return self.backend_class.default_username() or getpass.getuser()

    @validate("username")
    def _check_username(self, proposal) -> str:
        if not NAME_PATTERN.match(proposal["value"]):
            raise ValueError(f"ShareApp.username {proposal['value']!r} is not a valid user name")
        return proposal["value"]

    @default("environments_dir")
    def _default_environments_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "jupyter_share" / "environments")

    @default("launch_dir")
    def _default_launch_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "jupyter_share" / "launched")

    @default("environment_kernels_dir")
    def _default_kernels_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "kernels")

    @default("environment_python")
    def _default_environment_python(self) -> str:
        return sys.executable

    @validate("environment_installer")
    def _check_installer(self, proposal) -> str:
        if proposal["value"] not in ("auto", "uv", "pip"):
            raise ValueError("ShareApp.environment_installer must be 'auto', 'uv' or 'pip'")
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
            root = "~" + root[len(home) :]
        # Owner and host: neighbours on one machine (and one folder) tell their containers apart.
        name = f"{self.username}@{socket.gethostname()}:{root}"
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
        store = wiring.make_store(self.store_class, self.db_url)
        directory = self.directory_class(store=store, users=self.users, groups=self.groups)
        return ShareService(
            store,
            directory,
            emit=self.emit_event,
            capture_environment=self.capture_environment_or_none(),
            containers=self.containers_class(store=store, clock=utcnow),
            history_retention=timedelta(days=self.history_days) if self.history_days > 0 else None,
        )

    def capture_environment_or_none(self):
        return capture_environment if self.capture_enabled else None

    def build_settings(self) -> BuildSettings:
        return BuildSettings(
            root=Path(self.environments_dir).expanduser(),
            kernels_dir=Path(self.environment_kernels_dir).expanduser(),
            python=self.environment_python,
            installer=self.environment_installer,
            index_url=self.environment_index_url,
            find_links=list(self.environment_find_links),
            no_index=self.environment_no_index,
            only_binary=self.environment_only_binary,
            kernel_requirements=list(self.environment_kernel_requirements),
            min_free_mb=self.environment_min_free_mb,
        )

    def make_environments(self, on_change=None) -> EnvironmentManager:
        """The builds of environments from images (also used by the CLI)."""
        return EnvironmentManager(self.build_settings(), on_change or (lambda data: None))

    def _once_listening(self, callback) -> None:
        """Run `callback` on the loop once the server listens. The server binds in a callback
        that it queues after the extensions load; one queued from a callback that runs before
        it runs after it."""
        self.io_loop.add_callback(lambda: self.io_loop.add_callback(callback))

    def launch_config(self) -> dict:
        """The ShareApp settings a server launched from this one gets: the same user, store,
        directory and environments (docs/decisions.md, "Launching a formation on one machine")."""
        config: dict = {}
        for name in ShareApp.class_own_traits(config=True):
            if name in ("session_name", "register_container", "public_url"):
                continue  # its own
            value = getattr(self, name)
            if isinstance(value, type):
                value = f"{value.__module__}.{value.__qualname__}"
            config[name] = value
        return config

    def _emit_environment(self, data: dict) -> None:
        """A build's progress, on this server's event stream (builds run in threads)."""
        logger = getattr(self.serverapp, "event_logger", None) if self.serverapp else None
        loop = getattr(self, "io_loop", None)
        if logger is None or loop is None:
            return
        fields = ("id", "image_id", "image_name", "display_name", "kernel_name", "state", "step")
        event = {k: data[k] for k in fields if data.get(k) is not None}
        event.update(
            done=int(data.get("done") or 0),
            total=int(data.get("total") or 0),
            message=str(data.get("message") or ""),
        )
        loop.add_callback(logger.emit, schema_id=wiring.ENVIRONMENT_SCHEMA_ID, data=event)

    def emit_event(self, data: dict) -> None:
        logger = getattr(self.serverapp, "event_logger", None) if self.serverapp else None
        loop = getattr(self, "io_loop", None)
        if logger is None or loop is None:  # no server running (the CLI): nobody to tell
            return
        data = {k: v for k, v in data.items() if v is not None}
        self.backend.changed(data)
        # The service runs in worker threads; event listeners run on the server's loop.
        loop.add_callback(logger.emit, schema_id=wiring.EVENT_SCHEMA_ID, data=data)

    def initialize_settings(self) -> None:
        events = self.serverapp.event_logger
        assert events is not None  # the server makes it before it loads extensions
        wiring.register_event_schemas(events, wiring.PRESENCE_SCHEMA, wiring.ENVIRONMENT_SCHEMA)
        self.io_loop = IOLoop.current()
        self.guest_activity = GuestActivity(self.serverapp, on_presence=self._emit_presence)
        self.guest_door = GuestDoor(self.guest_activity)
        self._mask_secrets_for_everyone_but_the_owner()
        make: Callable[[ShareApp], Backend] = self.backend_class
        self.backend = make(self)
        self.backend.start()

    def initialize_handlers(self) -> None:
        self.handlers.extend(self.backend.handlers(API_PREFIX))

    async def stop_extension(self) -> None:
        backend = getattr(self, "backend", None)
        if backend is None:
            return
        launcher = getattr(self, "launcher", None)
        if launcher is not None:  # the servers it launched stop with it
            await IOLoop.current().run_in_executor(None, launcher.shutdown)
        environments = getattr(self, "environments", None)
        if environments is not None:  # builds first: the store may be closed next
            await IOLoop.current().run_in_executor(None, environments.shutdown)
        await backend.stop()

    # -- what the standalone handlers ask (`standalone.LocalBackend`) ------------------------

    @property
    def links(self) -> LocalContainers:
        """The personal links that open this container (standalone)."""
        return cast(LocalBackend, self.backend).containers

    @property
    def link_attempts(self):
        return cast(LocalBackend, self.backend).link_attempts

    def current_container_id(self) -> str:
        """The id of this server's session resource, created on first use (and again if the
        owner deleted it); standalone: under JupyterHub the Hub has the servers."""
        return cast(LocalBackend, self.backend).current_container_id()

    def sign_in_guest(self, handler: web.RequestHandler, link) -> None:
        cast(LocalBackend, self.backend).sign_in_guest(handler, link)

    # -- guests, in either mode ---------------------------------------------------------------

    def _server_secrets(self) -> list:
        """Every credential of the owner or the server that a page or answer could carry."""
        provider = self.serverapp.identity_provider
        found = [
            getattr(provider, "token", None),
            self.serverapp.web_app.settings.get("cookie_secret"),
        ]
        hub_auth = getattr(provider, "hub_auth", None)
        found += [
            getattr(hub_auth, "api_token", None),
            os.environ.get("JUPYTERHUB_API_TOKEN"),
            os.environ.get("JPY_API_TOKEN"),
            os.environ.get("JUPYTER_TOKEN"),
        ]
        try:  # the key the cookie secret is made from: with it anyone signs login cookies
            found.append(Path(self.serverapp.cookie_secret_file).read_bytes().strip())
        except (OSError, TypeError):
            pass
        return found

    def _mask_secrets_for_everyone_but_the_owner(self) -> None:
        """See `secret_filter`: installed first, so that it runs before compression."""
        transforms = self.serverapp.web_app.transforms
        if not any(getattr(t, "__name__", "") == "SecretFilter" for t in transforms):
            transforms.insert(0, secret_filter(SecretMask(self._server_secrets)))

    def adjust_page_config(self, blank_token: bool) -> None:
        """JupyterLab writes the server's token into every page it serves. Standalone, pages
        get none (as under JupyterHub, whose hook writes the visitor's own token): browsers
        authenticate with the login cookie and the XSRF token. A guest's JupyterLab keeps its
        layout in a workspace of its own."""
        previous = self.serverapp.web_app.settings.get("page_config_hook")

        def without_token(handler, page_config):
            if previous is not None:
                page_config = previous(handler, page_config)
            if blank_token:
                page_config["token"] = ""
            guest = guest_of(handler)
            if guest is not None:
                page_config["workspace"] = guest_workspace(guest.username)
            return page_config

        self.settings["page_config_hook"] = without_token

    def _emit_presence(self, change: dict) -> None:
        """A guest came, opened or closed something, went idle or is gone: the owner's panel
        asks who is in now (`GuestActivity`; the event carries no address)."""
        logger = getattr(self.serverapp, "event_logger", None)
        session_id = getattr(self.backend, "session_id", None)
        data = {
            **change,
            "owner": self.username,
            **({"session_id": session_id} if session_id else {}),
        }
        if logger is not None:
            self.io_loop.add_callback(logger.emit, schema_id=wiring.PRESENCE_SCHEMA_ID, data=data)
