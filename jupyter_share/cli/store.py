"""The commands on the store: each acts as `ShareApp.username` through one `ShareService`,
opened as a standalone server opens it, and names resources as KIND/ID or by name."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from copy import deepcopy
from typing import TYPE_CHECKING, ClassVar

from traitlets.config.loader import Config

from ..model import InvalidInput, Kind, NotFound
from .base import ShareCommand, StoreUnavailable, UsageError, one_line

if TYPE_CHECKING:  # the heavy imports (jupyter_server) wait until a command runs
    from ..app import ShareApp
    from ..model import ResourceView
    from ..service import ShareService

#: How many resources one service call pages through when a name is looked up.
_PAGE = 1000


def _avoid_slow_imports() -> None:
    """jupyter_server imports jupyter_events, whose jsonschema compiles an RFC 3987 grammar
    at import (about a second) to check "iri" formats in event schemas. The command line
    emits no events (there is no server to send them to), so that checker is left out of
    this short-lived process. Nothing changes if it was imported already."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _store_label(db_url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


class StoreCommand(ShareCommand):
    """A subcommand on the store: it acts as `ShareApp.username` through one `ShareService`,
    opened as a standalone server opens it."""

    #: A command that only reads never creates a store (see `check_store_exists`).
    reads_only: ClassVar[bool] = True

    app: ShareApp
    service: ShareService
    # The positional arguments a command declares, set by `parse_arguments`.
    ref: tuple[Kind, str]
    principal: str
    requester: str
    env_id: str
    resource_name: str

    def config_classes(self) -> list[type]:
        _avoid_slow_imports()
        from ..app import ShareApp

        return [ShareApp]

    @property
    def username(self) -> str:
        return self.app.username

    def make_app(self) -> ShareApp:
        """`ShareApp` configured as the server would be, then by --user and --db-url."""
        from traitlets import TraitError

        from ..app import ShareApp
        from ..config_traits import BadShareConfiguration

        config = Config(deepcopy(self.config))
        # Given, even empty, they count: an empty --user must not fall back to the OS login name.
        for value, trait, option_name, what in (
            (self.user, "username", "--user", "user name"),
            (self.db_url, "db_url", "--db-url", "store URL"),
        ):
            if value is not None:
                if not value.strip():
                    raise UsageError(f"{option_name} is empty: give a {what}")
                config.ShareApp[trait] = value
        try:
            # serverapp=None: without it, ExtensionApp builds a throwaway ServerApp on first use.
            app = ShareApp(config=config, serverapp=None)
            app.username  # noqa: B018 - validate the configured name (or the OS login name) now
        except BadShareConfiguration as e:
            raise UsageError(e.message) from None
        except (TraitError, ValueError) as e:  # a @validate of ShareApp raises ValueError
            raise UsageError(str(e)) from None
        return app

    def check_store_exists(self) -> None:
        """A read command on a SQLite store whose directory does not exist is a mistyped path:
        say so, instead of creating the directory and an empty store that answers "nothing".
        (The default store, in the Jupyter data dir, is created on first use as a server does.)"""
        from ..app import default_db_url

        if not self.reads_only or self.app.db_url == default_db_url():
            return
        try:
            from sqlalchemy.engine import make_url

            url = make_url(self.app.db_url)
        except Exception:
            return  # the store reports it
        if (
            url.get_backend_name() != "sqlite"
            or not url.database
            or url.database == ":memory:"
            or url.database.startswith("file:")
        ):
            return
        path = os.path.abspath(os.path.expanduser(url.database))
        if not os.path.isdir(os.path.dirname(path)):
            raise UsageError(
                f"no store at {path}: the directory {os.path.dirname(path)} does not exist "
                "(check --db-url or ShareApp.db_url; a command that creates something makes the store)"
            )

    def execute(self) -> None:
        self.app = self.make_app()
        if self.app.resolved_mode == "hub":
            # The store belongs to the Hub's share service; a local one would share nothing.
            raise UsageError(
                "under JupyterHub the share service keeps what is shared: use the Sharing panel, "
                "the notebook widgets, or jupyter_share.client.ShareClient() (it finds the service "
                "through this server); pass --ShareApp.mode=standalone for a local store"
            )
        self.check_store_exists()
        try:
            self.service = self.app.make_service()
        except Exception as e:
            raise StoreUnavailable(
                f"cannot open the store {_store_label(self.app.db_url)}: {type(e).__name__}: {one_line(e)}"
            ) from e
        try:
            from ..model import utcnow

            self.service.store.touch_user(self.username, utcnow())  # as a server does at start
            self.run_command()
        finally:
            self.service.store.close()
        sys.stdout.flush()

    # -- resolving what the command line names -------------------------------------------------

    def visible(self, kind: Kind, scope: str = "all") -> Iterator[ResourceView]:
        offset = 0
        while True:
            page = self.service.list(self.username, kind, scope, offset, _PAGE)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def resolve(self, ref: tuple[Kind, str]) -> ResourceView:
        """The resource named by KIND/ID as the caller sees it; the ID may also be the name of
        exactly one resource of that kind the caller can see."""
        kind, rid = ref
        if kind == Kind.SESSION and rid == "current":
            raise UsageError(
                "sessions/current is the server a request reaches; the command line has none: "
                "use an id from `jupyter share list --kind sessions`"
            )
        try:
            return self.service.view(self.username, kind, rid)
        except NotFound as missing:
            named = [v for v in self.visible(kind) if v.resource.name == rid]
            if len(named) == 1:
                return named[0]
            if named:
                choices = ", ".join(f"{v.resource.id} (owner {v.resource.owner})" for v in named)
                raise InvalidInput(
                    f"{len(named)} {kind.plural} are named {rid!r}; use an id: {choices}"
                ) from None
            raise missing
