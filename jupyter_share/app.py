"""`ShareApp`: the Jupyter server extension. It reads the configuration (README.md,
docs/decisions.md), plugs in the ports, and registers the REST API, the identity provider and
the event schema."""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado import web
from tornado.ioloop import IOLoop, PeriodicCallback
from traitlets import Bool, Float, Integer, List, Type, Unicode, default, validate

from . import __version__
from .answers import AnswerCache
from .auth import IdentityHooks, guest_of, install, owner_user
from .capture import capture_environment
from .changefeed import feed_for
from .config_traits import GroupMembers, UserNames
from .directory import Directory, StandaloneDirectory
from .environments import BuildSettings, EnvironmentManager
from .feed import FeedHandler, Streams
from .formation_env import FormationEnvironment
from .guest_activity import GuestActivity
from .guest_cookies import GuestClaim, GuestCookies
from .guests import Guest, guest_workspace, refusal
from .handlers import API_PREFIX, handlers, page_handlers
from .hub.userserver import ContainerAccess, hub_handlers, service_client_from_env
from .launcher import LAUNCHED_FROM_ENV, Launcher
from .liveness import RUNNING, session_state
from .model import NAME_PATTERN, Kind, utcnow
from .readonly_rooms import hold_to_permission
from .secret_filter import MIN_SECRET, SecretMask, secret_filter
from .serialize import me_json
from .service import ShareService, recorded_action
from .sessions import FailedAttempts, PersonalLinks
from .store import ShareStore, SQLStore

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

EVENT_SCHEMA = Path(__file__).parent / "events" / "change.yaml"
EVENT_SCHEMA_ID = "https://events.jupyter.org/jupyter_share/change/v1"
PRESENCE_SCHEMA = Path(__file__).parent / "events" / "presence.yaml"
PRESENCE_SCHEMA_ID = "https://events.jupyter.org/jupyter_share/presence/v1"
ENVIRONMENT_SCHEMA = Path(__file__).parent / "events" / "environment.yaml"
ENVIRONMENT_SCHEMA_ID = "https://events.jupyter.org/jupyter_share/environment/v1"


_GUEST_CLASSES: dict[type, type] = {}


def _without_token(cls: type) -> type:
    """`cls` with no server token for its templates and page config (`JupyterHandler.token`):
    a guest's request renders none, whatever its length or its template."""
    if cls not in _GUEST_CLASSES:
        _GUEST_CLASSES[cls] = type(
            cls.__name__,
            (cls,),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "token": property(lambda self: None),
            },
        )
    return _GUEST_CLASSES[cls]


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
        "CLI, which reach the owner's event stream (jupyter_share.changefeed; PostgreSQL "
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
        if self.resolved_mode == "hub" and os.environ.get("JUPYTERHUB_USER"):
            return os.environ["JUPYTERHUB_USER"]
        return getpass.getuser()

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
        if self.db_url.startswith("sqlite:///"):
            Path(self.db_url[len("sqlite:///") :]).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
        store = self.store_class(url=self.db_url)
        directory = self.directory_class(store=store, users=self.users, groups=self.groups)
        return ShareService(
            store,
            directory,
            emit=self._emit_event,
            capture_environment=capture_environment if self.capture_enabled else None,
            history_retention=timedelta(days=self.history_days) if self.history_days > 0 else None,
        )

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
        self._io_loop.add_callback(lambda: self._io_loop.add_callback(callback))

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

    def make_launcher(self) -> Launcher:
        assert self.service is not None  # standalone only
        return Launcher(
            self.service,
            self.username,
            self.launch_config(),
            Path(self.launch_dir).expanduser(),
            FormationEnvironment(parent=self),
            self.environments,
            Path(self.environment_kernels_dir).expanduser(),
        )

    def _emit_environment(self, data: dict) -> None:
        """A build's progress, on this server's event stream (builds run in threads)."""
        logger = getattr(self.serverapp, "event_logger", None) if self.serverapp else None
        loop = getattr(self, "_io_loop", None)
        if logger is None or loop is None:
            return
        fields = ("id", "image_id", "image_name", "display_name", "kernel_name", "state", "step")
        event = {k: data[k] for k in fields if data.get(k) is not None}
        event.update(
            done=int(data.get("done") or 0),
            total=int(data.get("total") or 0),
            message=str(data.get("message") or ""),
        )
        loop.add_callback(logger.emit, schema_id=ENVIRONMENT_SCHEMA_ID, data=event)

    def _emit_event(self, data: dict) -> None:
        logger = getattr(self.serverapp, "event_logger", None) if self.serverapp else None
        loop = getattr(self, "_io_loop", None)
        if logger is None or loop is None:  # no server running (the CLI): nobody to tell
            return
        data = {k: v for k, v in data.items() if v is not None}
        if data.get("kind") == Kind.SESSION.value and self.resolved_mode == "standalone":
            # A grant on a container changed: guests' next requests and open sockets follow now.
            self.links.forget()
            loop.add_callback(self._check_guests)
        # The service runs in worker threads; event listeners run on the server's loop.
        loop.add_callback(logger.emit, schema_id=EVENT_SCHEMA_ID, data=data)

    def initialize_settings(self) -> None:
        events = self.serverapp.event_logger
        assert events is not None  # the server makes it before it loads extensions
        events.register_event_schema(EVENT_SCHEMA)
        events.register_event_schema(PRESENCE_SCHEMA)
        events.register_event_schema(ENVIRONMENT_SCHEMA)
        self._io_loop = IOLoop.current()
        self.guest_activity = GuestActivity(self.serverapp, on_presence=self._emit_presence)
        #: Each guest's permission as last checked, by link id (see `readonly_rooms`).
        self._guest_permissions: dict = {}
        self._mask_secrets_for_everyone_but_the_owner()
        if self.resolved_mode == "hub":
            self._initialize_hub_mode()
            return
        self.service = self.make_service()
        self.service.store.touch_user(self.username, utcnow())
        self.environments = self.make_environments(self._emit_environment)
        self._started_at = datetime.now(timezone.utc)
        if self.purge_interval > 0:
            # Started here, like the server's own culling callbacks: the loop runs it later.
            self._purger = PeriodicCallback(self._purge, self.purge_interval * 1000)
            self._purger.start()
        self._session_id: str | None = None
        # Recorded as running only once the server listens: until then its address refuses
        # connections, and another server's liveness sweep would record it stopped again.
        if self.register_container:
            # Launched from a formation: listed at once, not on first use.
            self._once_listening(self.current_session_id)
        else:
            # A restarted server's container shows as running again at once, not on first use.
            self._once_listening(
                lambda: self.service.session_started(
                    self.username, self.session_name, self.session_spec()
                )
            )
        self.launcher = self.make_launcher()
        if self.liveness_interval > 0:
            self._liveness_checker = PeriodicCallback(
                self._sweep_stopped, self.liveness_interval * 1000
            )
            self._liveness_checker.start()
        self.links = PersonalLinks(self.service.store, self.service.clock)
        self._start_feed()
        if self.reuse_answers:
            self.answer_cache = AnswerCache(
                self.service.store, self.service.clock, self.answer_cache_bytes
            )
        self.link_attempts = FailedAttempts()
        if self.guest_check_interval > 0:
            self._guest_checker = PeriodicCallback(
                self._check_guests, self.guest_check_interval * 1000
            )
            self._guest_checker.start()
        self._adjust_page_config(blank_token=True)
        token = getattr(self.serverapp.identity_provider, "token", "") or ""
        if 0 < len(token) < MIN_SECRET:
            self.log.warning(
                "jupyter_share: the server's token is shorter than %d characters; guests' pages "
                "get no token, but answers are only scanned for secrets of that length or more",
                MIN_SECRET,
            )
        self.guest_cookies = GuestCookies()
        install(
            self.serverapp,
            IdentityHooks(self._resolve_user, self._resolve_guest, self._clear_guest),
        )
        self.log.info(
            "jupyter_share %s: %s mode, user %r, store %s",
            __version__,
            self.resolved_mode,
            self.username,
            self.service.store.url.render_as_string(hide_password=True)
            if isinstance(self.service.store, SQLStore)
            else type(self.service.store).__name__,
        )

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

    def _adjust_page_config(self, blank_token: bool) -> None:
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

    def initialize_handlers(self) -> None:
        if self.resolved_mode == "hub":
            self.handlers.extend(hub_handlers(API_PREFIX))
            return
        # The stream first: the API's catch-all would answer its path.
        self.handlers.extend([(f"/{API_PREFIX}/feed", FeedHandler)] + handlers() + page_handlers())

    # -- hub mode: the share service decides; this server carries its owner's requests ------

    def _initialize_hub_mode(self) -> None:
        self.service = None  # no store here: the share service owns it
        self.service_client = service_client_from_env(timeout=15.0)
        # The owner's environments are built in this container (the image read through the
        # share service: hub.userserver.HubEnvironmentsBase).
        self.environments = self.make_environments(self._emit_environment)
        if self.service_client is None:
            self.log.error(
                "jupyter_share: started by JupyterHub, but JUPYTER_SHARE_SERVICE_URL is not set: "
                "call jupyter_share.hub.configure_jupyterhub(c) in jupyterhub_config.py. "
                "The share API answers 503 until then, and nobody but %s may use this server.",
                self.username,
            )
        self.container_access = (
            ContainerAccess(self.service_client, self.guest_check_interval)
            if self.service_client
            else None
        )
        if self.guest_check_interval > 0:
            self._guest_checker = PeriodicCallback(
                self._check_hub_guests, self.guest_check_interval * 1000
            )
            self._guest_checker.start()
        install(self.serverapp, IdentityHooks(self._resolve_hub_user))
        self._adjust_page_config(blank_token=False)
        self.log.info(
            "jupyter_share %s: hub mode, server of %r, share service %s",
            __version__,
            self.username,
            self.service_client.api_url if self.service_client else "(not configured)",
        )

    async def _resolve_hub_user(self, handler: web.RequestHandler, user):
        """The owner passes; anyone else the Hub lets in is a guest held to their grant."""
        if user.username == self.username:
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
            raise refuse(403, f"only {self.username} may use this server")
        try:
            # The service reads the guest's groups from the Hub now (never the token cache's).
            permission = await self.container_access.permission(user.username)
        except Exception as e:
            self.log.warning("jupyter_share: could not check %s's access: %s", user.username, e)
            raise refuse(
                503, "your access to this server cannot be checked right now; try again"
            ) from None
        if permission is None:
            raise refuse(403, f"{self.username} does not share this server with you (any more)")
        self._admit_guest(
            handler,
            Guest(user.username, self.username, permission, f"hub:{user.username}"),
            hub=True,
        )
        return user

    async def _check_hub_guests(self) -> None:
        keys = self.guest_activity.link_ids()
        if not keys or self.container_access is None:
            return
        try:
            await self.container_access.grants(fresh=True)
            guests = {}
            for key in keys:
                username = key.removeprefix("hub:")
                permission = await self.container_access.permission(username)
                guests[key] = (
                    Guest(username, self.username, permission, key) if permission else None
                )
        except Exception as e:
            self.log.warning("jupyter_share: checking guests' access failed: %s", e)
            return
        self._follow_permissions(guests)
        await self.guest_activity.follow(guests)

    def _forget_hub_answers(self) -> None:
        """The Hub's answers about tokens are kept for minutes (HubAuth.cache_max_age): someone
        refused a moment ago would stay refused after being shared with. Forget the answers
        about everyone but the owner, so that they are asked again."""
        hub_auth = getattr(self.serverapp.identity_provider, "hub_auth", None)
        cache = getattr(hub_auth, "cache", None)
        if hub_auth is None or cache is None:
            return
        kept = type(cache)(hub_auth.cache_max_age)
        try:  # JupyterHub's _ExpiringDict keeps its entries in .values and .timestamps
            for key, model in list(cache.values.items()):
                if isinstance(model, dict) and model.get("name") == self.username:
                    kept.values[key], kept.timestamps[key] = model, cache.timestamps[key]
        except (AttributeError, KeyError, TypeError):
            pass  # another cache: forget everything
        hub_auth.cache = kept

    def capture_environment_or_none(self):
        return capture_environment if self.capture_enabled else None

    def hub_me(self, handler: web.RequestHandler) -> dict:
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
            self._io_loop.add_callback(self._check_hub_guests)
        try:
            body = json.loads(response.body) if response.body else {}
        except ValueError:
            body = {}
        recorded = recorded_action(method, path, response.code, body)  # as the service wrote it
        if recorded is None:
            return
        kind, action = recorded[0].value, recorded[1]
        resource_id = body.get("id") or (parts[1] if len(parts) > 1 else "")
        self._emit_event(
            {
                "action": action,
                "kind": kind,
                "resource_id": resource_id,
                "owner": body.get("owner") or self.username,
                "actor": self.username,
            }
        )

    def _start_feed(self) -> None:
        """One watcher of the store for this server; its changes reach the owner's streams."""
        assert self.service is not None  # started in standalone mode only
        self.streams: Streams | None = Streams(self.service.feed_message)
        self.change_feed = (
            feed_for(self.service.store, self.streams.deliver, self.feed_interval)
            if self.feed_interval > 0
            else None
        )
        if self.change_feed is None:
            self.streams = None
            return
        self.change_feed.start()

    async def _purge(self) -> None:
        assert self.service is not None  # started in standalone mode only
        try:
            await IOLoop.current().run_in_executor(None, self.service.purge_expired)
        except Exception:
            self.log.exception("jupyter_share: purging expired grants failed")
        try:
            await IOLoop.current().run_in_executor(None, self.service.purge_history)
        except Exception:
            self.log.exception("jupyter_share: purging old history failed")

    async def _sweep_stopped(self) -> None:
        assert self.service is not None  # started in standalone mode only
        try:
            await IOLoop.current().run_in_executor(
                None, self.service.sweep_stopped, socket.gethostname(), session_state
            )
        except Exception:
            self.log.exception("jupyter_share: checking which containers still run failed")

    async def stop_extension(self) -> None:
        for name in ("_purger", "_guest_checker", "_liveness_checker"):
            callback = getattr(self, name, None)
            if callback is not None:
                callback.stop()
        feed = getattr(self, "change_feed", None)
        if feed is not None:
            feed.stop()
        streams = getattr(self, "streams", None)
        if streams is not None:
            streams.close_all()
        launcher = getattr(self, "launcher", None)
        if launcher is not None:  # the servers it launched stop with it
            await IOLoop.current().run_in_executor(None, launcher.shutdown)
        environments = getattr(self, "environments", None)
        if environments is not None:
            await IOLoop.current().run_in_executor(None, environments.shutdown)
        service = getattr(self, "service", None)
        if service is not None:
            if self.resolved_mode != "hub":
                self._record_stop()
            service.store.close()

    def _record_stop(self) -> None:
        """This server's container shows as stopped (if it was ever made)."""
        assert self.service is not None  # standalone only
        try:
            found = self.service.store.find_resource(self.username, Kind.SESSION, self.session_name)
            if found is not None:
                self.service.session_stopped(found.id, self.session_spec()["started_at"])
        except Exception:  # a store that went away must not stop the server's shutdown
            self.log.exception("jupyter_share: recording that this server stopped failed")

    # -- identity and the current container -------------------------------------------------

    def _resolve_user(self, handler: web.RequestHandler, user):
        """Whoever the server's own identity provider authenticates is the owner, as that
        provider names them (standalone; the share API acts for them as `username`)."""
        return user

    # -- guests: neighbours signed in by a personal link --------------------------------------

    def _cookie_path(self) -> str:
        return self.serverapp.base_url

    def sign_in_guest(self, handler: web.RequestHandler, link) -> None:
        """Set the cookie that makes this browser the link's guest in this container."""
        claim = GuestClaim(link.id, link.username, link.resource_id)
        self.guest_cookies.set(handler, claim, self._cookie_path())
        permission = self.links.permissions([link.id]).get(link.id)
        if permission is not None:
            self.guest_activity.signed_in(
                Guest(link.username, self.username, permission, link.id),
                handler.request.remote_ip or "",
            )

    def _emit_presence(self, change: dict) -> None:
        """A guest came, opened or closed something, went idle or is gone: the owner's panel
        asks who is in now (`GuestActivity`; the event carries no address)."""
        logger = getattr(self.serverapp, "event_logger", None)
        session_id = getattr(self, "_session_id", None)
        data = {
            **change,
            "owner": self.username,
            **({"session_id": session_id} if session_id else {}),
        }
        if logger is not None:
            self._io_loop.add_callback(logger.emit, schema_id=PRESENCE_SCHEMA_ID, data=data)

    def _resolve_guest(self, handler: web.RequestHandler):
        """The guest whose cookie for this container a request carries, if their link still
        works; refuses (403) what that guest may not do."""
        session_id = self._session_id
        if session_id is None or self.service is None:
            return None  # no link of this container was ever opened
        claim = self.guest_cookies.read(handler, session_id)
        if claim is None:
            return None
        permission = self.links.permissions([claim.link_id]).get(claim.link_id)
        if permission is None:
            return None  # revoked, expired or replaced: not signed in
        self._admit_guest(handler, Guest(claim.username, self.username, permission, claim.link_id))
        return owner_user(claim.username)

    def _clear_guest(self, handler: web.RequestHandler) -> None:
        if self._session_id is not None:
            self.guest_cookies.clear(handler, self._session_id, self._cookie_path())

    def _admit_guest(self, handler: web.RequestHandler, guest: Guest, hub: bool = False) -> None:
        """Mark the request as the guest's, refuse (403) what they may not do, and follow what
        they open and start, to end it when their access ends or shrinks."""
        # Marks that `auth.guest_of` reads; tornado's classes do not declare them.
        handler._jupyter_share_guest = guest  # type: ignore[attr-defined]
        handler.request._jupyter_share_guest = guest  # type: ignore[attr-defined]
        why = refusal(guest, handler, hub)
        if why:
            # Signed in, but not for this: error pages and logs may read current_user.
            handler.current_user = None
            raise web.HTTPError(403, why)
        # A whole answer or none: parts of a file could carry a secret past the mask, piece by
        # piece (secret_filter masks what it sees together).
        for name in ("Range", "If-Range"):
            if name in handler.request.headers:
                del handler.request.headers[name]
        handler.__class__ = _without_token(type(handler))
        self.guest_activity.admitted(guest, handler)
        # A view guest's document rooms drop their changes, following their permission now.
        self._guest_permissions[guest.link_id] = guest.permission
        hold_to_permission(handler, lambda: self._guest_permissions.get(guest.link_id))

    def _follow_permissions(self, guests: dict) -> None:
        for link_id, guest in guests.items():
            if guest is None:
                self._guest_permissions.pop(link_id, None)
            else:
                self._guest_permissions[link_id] = guest.permission

    async def _check_guests(self) -> None:
        link_ids = self.guest_activity.link_ids()
        if not link_ids:
            return
        try:
            live = await IOLoop.current().run_in_executor(
                None, lambda: self.links.permissions(link_ids, fresh=True)
            )
        except Exception:
            self.log.exception("jupyter_share: checking guests' access failed")
            return
        guests = {
            i: (Guest("", self.username, live[i], i) if i in live else None) for i in link_ids
        }
        self._follow_permissions(guests)
        await self.guest_activity.follow(guests)

    def session_spec(self) -> dict:
        return {
            "url": self.public_url or (self.serverapp.connection_url if self.serverapp else ""),
            "root_dir": str(self.serverapp.root_dir) if self.serverapp else os.getcwd(),
            "hostname": socket.gethostname(),
            "state": RUNNING,
            "started_at": self._started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "jupyter_server": __import__("jupyter_server").__version__,
            # Set by the server that launched this one from a formation (`launcher`).
            **(
                {"launched_from": os.environ[LAUNCHED_FROM_ENV]}
                if os.environ.get(LAUNCHED_FROM_ENV)
                else {}
            ),
        }

    def current_session_id(self) -> str:
        """The id of this server's session resource, created on first use (and again if the
        owner deleted it)."""
        assert self.service is not None  # standalone: under JupyterHub the Hub has the servers
        self._session_id = self.service.ensure_session(
            self.username, self.session_name, self.session_spec()
        ).id
        return self._session_id
