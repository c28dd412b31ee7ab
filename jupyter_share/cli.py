"""`jupyter share`: the command line over the share service (docs/architecture.md, "Layers").

A surface like the REST handlers: it parses the command line, calls one `ShareService` method
as `ShareApp.username` and shapes the answer, either as a table for people or, with `--json`,
as exactly the JSON the REST API answers (the handlers' `resource_json`, `resource_list_json`, `grant_json`,
`audit_json` and `page_json`). It opens the store itself, as a standalone server does.

Configuration is the server's: `jupyter_config` and `jupyter_server_config` (`.py` and
`.json`) from the Jupyter config path, and the extension's own `jupyter_jupyter_share_config`,
in the order a server merges them; then `--ShareApp.trait=value` on the command line; then the
plain options `--user` and `--db-url`.

Exit codes: 0 success, 1 unexpected error, 2 bad input or usage (HTTP 400), 3 not found (404),
4 forbidden (403), 5 conflict (409).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import cli_guests
from .model import Conflict, Forbidden, InvalidInput, Kind, NotFound, ShareError

if TYPE_CHECKING:  # the heavy imports (jupyter_server) wait until a command runs
    from .app import ShareApp
    from .model import ResourceView
    from .service import ShareService

PROG = "jupyter share"

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_FORBIDDEN = 4
EXIT_CONFLICT = 5

#: HTTP status of a `ShareError` -> exit code.
EXIT_CODES: dict[int | None, int] = {
    InvalidInput.status: EXIT_USAGE,
    NotFound.status: EXIT_NOT_FOUND,
    Forbidden.status: EXIT_FORBIDDEN,
    Conflict.status: EXIT_CONFLICT,
}

#: Files a Jupyter server reads, lowest priority first (see `load_server_config`).
EXTENSION_CONFIG = "jupyter_jupyter_share_config"
SERVER_CONFIGS = ("jupyter_config", "jupyter_server_config")

#: How many resources one service call pages through when a name is looked up.
_PAGE = 1000


class UsageError(Exception):
    """Bad command line input found after argparse: exits 2 like argparse's own errors."""


class BuildError(Exception):
    """An environment could not be built (the message names the package and why): exits 1."""


# -- configuration -------------------------------------------------------------------------


def config_paths() -> list[str]:
    """The directories a Jupyter server searches for config files, highest priority first."""
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path

    paths = jupyter_config_path()
    if jupyter_config_dir() not in paths:
        paths.insert(0, jupyter_config_dir())
    return paths


def load_config_files(
    basename: str, paths: Sequence[str], loaded: list[str], warn: Callable[[str], None]
):
    """`basename`.py and .json from every directory, merged as traitlets' `Application` does
    (later directories in `paths` have lower priority; .json beats .py in one directory)."""
    from traitlets.config.loader import (
        Config,
        ConfigFileNotFound,
        JSONFileConfigLoader,
        PyFileConfigLoader,
    )

    config = Config()
    for directory in reversed(list(paths)):
        for loader_class, ext in ((PyFileConfigLoader, ".py"), (JSONFileConfigLoader, ".json")):
            loader = loader_class(basename + ext, path=directory)
            try:
                found = loader.load_config()
            except ConfigFileNotFound:
                continue
            except Exception as e:  # as the server: a broken file is reported, not fatal
                warn(
                    f"could not load the config file {loader.full_filename or basename + ext}: {_one_line(e)}"
                )
                continue
            config.merge(found)
            loaded.append(loader.full_filename)
    return config


def load_server_config(config_file: str | None, loaded: list[str], warn: Callable[[str], None]):
    """The configuration a Jupyter server started here would give `ShareApp`.

    The server links the extension by loading its own file (`jupyter_config`, then
    `jupyter_jupyter_share_config`) and then applying the server's configuration
    (`jupyter_config`, then `jupyter_server_config`, or the `--config` file) over it.
    """
    from traitlets.config.loader import Config

    paths = config_paths()
    config = Config()
    config.merge(load_config_files(EXTENSION_CONFIG, paths, loaded, warn))
    config.merge(load_config_files(SERVER_CONFIGS[0], paths, loaded, warn))
    if config_file:
        directory, name = os.path.split(os.path.abspath(os.path.expanduser(config_file)))
        stem, ext = os.path.splitext(name)
        if not os.path.isfile(os.path.join(directory, name)) or ext not in (".py", ".json"):
            raise UsageError(f"--config {config_file!r}: no such .py or .json file")
        config.merge(load_config_files(stem, [directory], loaded, warn))
    else:
        config.merge(load_config_files(SERVER_CONFIGS[1], paths, loaded, warn))
    return config


# `--Class.trait=value` or `--Class.trait value`, as every Jupyter application accepts them.
_TRAIT_OPTION = re.compile(r"^--([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(=.*)?$", re.DOTALL)


def split_trait_options(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Separate `--Class.trait=value` options (anywhere before `--`) from the rest."""
    traits: list[str] = []
    rest: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        match = _TRAIT_OPTION.match(arg)
        if match is None:
            rest.append(arg)
        elif match.group(2) is not None:
            traits.append(arg)
        else:
            if i + 1 >= len(args):
                raise UsageError(f"{arg} needs a value: {arg}=VALUE")
            traits.append(f"{arg}={args[i + 1]}")
            i += 1
        i += 1
    return traits, rest


def _avoid_slow_imports() -> None:
    """jupyter_server imports jupyter_events, whose jsonschema compiles an RFC 3987 grammar
    at import (about a second) to check "iri" formats in event schemas. The command line
    emits no events (there is no server to send them to), so that checker is left out of
    this short-lived process. Nothing changes if it was imported already."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def make_app(
    args: argparse.Namespace, trait_options: list[str], warn: Callable[[str], None]
) -> tuple[ShareApp, list[str]]:
    """`ShareApp` configured as the server would be, then by the command line."""
    _avoid_slow_imports()
    from traitlets import TraitError
    from traitlets.config.loader import ArgumentError, KVArgParseConfigLoader

    from .app import ShareApp
    from .config_traits import BadShareConfiguration

    loaded: list[str] = []
    config = load_server_config(getattr(args, "config", None), loaded, warn)
    if trait_options:
        try:
            config.merge(
                KVArgParseConfigLoader(argv=trait_options, classes=[ShareApp]).load_config()
            )
        except BadShareConfiguration as e:
            raise UsageError(e.message) from None
        except (ArgumentError, SystemExit) as e:
            raise UsageError(
                f"bad configuration option in {' '.join(trait_options)}: {e}"
            ) from None
    # Given, even empty, they count: an empty --user must not fall back to the OS login name.
    for option, trait in (("user", "username"), ("db_url", "db_url")):
        value = getattr(args, option, None)
        if value is not None:
            if not value.strip():
                raise UsageError(
                    f"--{option.replace('_', '-')} is empty: give a {'user name' if option == 'user' else 'store URL'}"
                )
            config.ShareApp[trait] = value
    try:
        # serverapp=None: without it, ExtensionApp builds a throwaway ServerApp on first use.
        app = ShareApp(config=config, serverapp=None)
        app.username  # noqa: B018 - validate the configured name (or the OS login name) now
    except BadShareConfiguration as e:
        raise UsageError(e.message) from None
    except (TraitError, ValueError) as e:  # a @validate of ShareApp raises ValueError
        raise UsageError(str(e)) from None
    return app, loaded


#: Commands that only read the store: they never create one.
READ_COMMANDS = {
    "list",
    "shared",
    "show",
    "grants",
    "history",
    "environment",
    "whoami",
    "requests",
    "environments",
    "remove-environment",
}


def check_store_exists(app: ShareApp, command: str) -> None:
    """A read command on a SQLite store whose directory does not exist is a mistyped path:
    say so, instead of creating the directory and an empty store that answers "nothing".
    (The default store, in the Jupyter data dir, is created on first use as a server does.)"""
    from .app import default_db_url

    if command not in READ_COMMANDS or app.db_url == default_db_url():
        return
    try:
        from sqlalchemy.engine import make_url

        url = make_url(app.db_url)
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


def _store_label(db_url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


class StoreUnavailable(Exception):
    """The configured store cannot be opened."""


# -- command line ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{PROG}: error: {message}\n")


def _kind(text: str) -> Kind:
    try:
        return Kind.parse(text)
    except InvalidInput as e:
        raise argparse.ArgumentTypeError(e.message) from None


def _ref(text: str) -> tuple[Kind, str]:
    kind_text, sep, rid = text.partition("/")
    if not sep or not rid or "/" in rid or not kind_text:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not KIND/ID: use images/ID, formations/ID or sessions/ID"
        )
    return _kind(kind_text), rid


def _image_ref(text: str) -> tuple[Kind, str]:
    if "/" not in text:
        return Kind.IMAGE, text
    kind, rid = _ref(text)
    if kind != Kind.IMAGE:
        raise argparse.ArgumentTypeError(f"only images have an environment, not {kind.plural}")
    return kind, rid


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    return (
        int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    )


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def _mount(text: str) -> dict:
    path, sep, size = text.partition(":")
    mount: dict = {"mount_path": path}
    if sep:
        mount["size"] = size
    return mount


REF_HELP = "images/ID, formations/ID or sessions/ID; the ID may be the resource's name"

EXAMPLES = """\
examples:
  jupyter share create-image caret --reference quay.io/lab/caret:2026.1
  jupyter share create-image my-env --capture --description "this container's packages"
  jupyter share create-formation gpu-lab --image IMAGE_ID --cpu 4 --memory 16G --gpu 1
  jupyter share share images/IMAGE_ID bob --permission view
  jupyter share share formations/ID group:class-2026 --expires 2026-12-31T23:59:59Z
  jupyter share list --scope owned
  jupyter share --user bob shared
  jupyter share history images/IMAGE_ID
  jupyter share history sessions/current --person bob --action signin --format csv
  jupyter share revoke images/IMAGE_ID bob
  jupyter share --user bob ask images/IMAGE_ID --permission edit --message "to fix the tag"
  jupyter share requests                    (requests for you to decide, and your own)
  jupyter share approve images/IMAGE_ID bob (or deny)
  jupyter share environment images/IMAGE_ID --format conda > environment.yml
  jupyter share use images/IMAGE_ID         (an environment and a kernel here, from its packages)
  jupyter share environments                (those made here; remove-environment ENV_ID)
  jupyter share hub-demo --port 8000        (a demo JupyterHub with alice, bob and carol)

KIND/ID is images/ID, formations/ID or sessions/ID (singular kinds work too); an id may be
replaced by the name of a resource you can see when no other resource of that kind has it.
PRINCIPAL is user:NAME, group:NAME, or NAME for a user.

configuration: as the Jupyter server's. jupyter_server_config.py/.json in the Jupyter config
path (`jupyter --paths`) may set c.ShareApp.username, db_url, users and groups; any
--ShareApp.TRAIT=VALUE option overrides them, and --user / --db-url override those.

exit codes: 0 ok, 1 unexpected error or a build that failed, 2 bad input or usage, 3 not found, 4 forbidden,
5 conflict (a duplicate name, sharing with yourself or the owner, a request already open or
for what you hold).
"""


def build_parser() -> argparse.ArgumentParser:
    # Common options are accepted before and after the command. SUPPRESS keeps a subcommand's
    # unset option from overwriting one given before the command.
    common = _Parser(add_help=False)
    group = common.add_argument_group("common options")
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the JSON the REST API answers instead of a table",
    )
    group.add_argument(
        "--user",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="act as NAME (ShareApp.username; default: configured, else the OS login name)",
    )
    group.add_argument(
        "--db-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="SQLAlchemy URL of the store (ShareApp.db_url; default: configured, else a "
        "SQLite file in the Jupyter data dir)",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="read this config file instead of jupyter_server_config from the config path",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks of unexpected errors",
    )

    parser = _Parser(
        prog=PROG,
        description="Share images, formations and containers with other Jupyter users.\n\n"
        "Acts as ShareApp.username on the store of the Jupyter server's configuration.\n"
        "Any --ShareApp.TRAIT=VALUE option is accepted too, as by jupyter lab: e.g.\n"
        '--ShareApp.users=bob --ShareApp.users=carol, or --ShareApp.users=\'["bob", "carol"]\'.',
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
        allow_abbrev=False,
    )
    from . import __version__

    parser.add_argument(
        "--version", action="version", version=f"%(prog)s (jupyter_share) {__version__}"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=_Parser
    )

    def command(name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help,
            description=description or help,
            parents=[common],
            allow_abbrev=False,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    def paging(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--limit",
            type=_whole,
            default=None,
            help="at most this many rows (default 100, up to 1000)",
        )
        p.add_argument("--offset", type=_whole, default=None, help="skip this many rows")

    p = command(
        "list", "list the images, formations and sessions you own or that are shared with you"
    )
    p.add_argument(
        "--kind",
        type=_kind,
        default=None,
        help="images, formations or sessions (default: all kinds)",
    )
    p.add_argument(
        "--scope",
        choices=("owned", "shared", "all"),
        default="all",
        help="owned: yours; shared: shared with you; all (default): both",
    )
    paging(p)

    p = command("shared", "list what others shared with you (with you or a group of yours)")
    p.add_argument(
        "--kind",
        type=_kind,
        default=None,
        help="images, formations or sessions (default: all kinds)",
    )
    paging(p)

    p = command(
        "show", "show one resource: its spec, your access and (if you manage it) its access list"
    )
    p.add_argument("ref", metavar="KIND/ID", type=_ref, help=REF_HELP)

    p = command(
        "create-image",
        "create an image from a container reference or this environment",
        "Create an image: a container image reference, this Python environment captured "
        "(packages, conda, kernelspecs), or both.",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--reference", metavar="REF", help="a container image reference: registry/name:tag"
    )
    p.add_argument(
        "--capture", action="store_true", help="capture the environment this command runs in"
    )
    p.add_argument("--description", metavar="TEXT", default=None)

    p = command("create-formation", "create a formation: a launch template (image, size, settings)")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--image",
        metavar="ID_OR_REF",
        required=True,
        help="the id or name of an image you can see, or a reference like registry/name:tag",
    )
    p.add_argument("--cpu", metavar="N", type=_number, help="CPUs (may be fractional, e.g. 0.5)")
    p.add_argument("--memory", metavar="SIZE", help="memory, like 512M, 4G or 1.5Gi")
    p.add_argument("--gpu", metavar="N", type=_whole, help="GPUs, 0 to 64")
    p.add_argument(
        "--env",
        metavar="KEY=VALUE",
        type=_env_pair,
        action="append",
        default=[],
        help="an environment variable (repeat for more)",
    )
    p.add_argument(
        "--storage",
        metavar="PATH[:SIZE]",
        type=_mount,
        action="append",
        default=[],
        help="a storage mount, like /data:10G (repeat for more)",
    )
    p.add_argument("--start-url", metavar="PATH", help="where the browser opens, like /lab")
    p.add_argument("--description", metavar="TEXT", default=None)

    p = command("share", "give a user or a group access to a resource (or change their permission)")
    p.add_argument("ref", metavar="KIND/ID", type=_ref, help=REF_HELP)
    p.add_argument(
        "principal", metavar="PRINCIPAL", help="user:NAME, group:NAME, or NAME for a user"
    )
    p.add_argument(
        "--permission",
        choices=("view", "edit", "manage"),
        default="view",
        help="view (default): see and launch; edit: also change; manage: also share",
    )
    p.add_argument(
        "--expires",
        metavar="ISO8601",
        default=None,
        help="when the grant ends, like 2026-12-31T23:59:59Z (a time without zone is UTC)",
    )

    p = command("revoke", "take a user's or a group's access away (your own name: leave)")
    p.add_argument("ref", metavar="KIND/ID", type=_ref, help=REF_HELP)
    p.add_argument(
        "principal", metavar="PRINCIPAL", help="user:NAME, group:NAME, or NAME for a user"
    )

    p = command("ask", "ask the owner of a resource shared with you for more: edit or manage")
    p.add_argument("ref", metavar="KIND/ID", type=_ref, help=REF_HELP)
    p.add_argument(
        "--permission",
        choices=("edit", "manage"),
        default="edit",
        help="edit (default): change it (in a container: run code); manage: also share it",
    )
    p.add_argument("--message", metavar="TEXT", default=None, help="why, for the owner to read")

    p = command(
        "requests",
        "list the open requests for more: on what you own or manage, and your own",
        "List the open requests for more on what you own or manage (approve or deny them), "
        "and your own open requests; with KIND/ID, that resource's open requests.",
    )
    p.add_argument("ref", metavar="KIND/ID", type=_ref, nargs="?", default=None, help=REF_HELP)

    for name, verb in (
        (
            "approve",
            "approve a request for more: the requester's grant becomes what they asked for",
        ),
        ("deny", "deny a request for more; it closes"),
        ("withdraw", "take your own open request for more back"),
    ):
        p = command(name, verb)
        p.add_argument("ref", metavar="KIND/ID", type=_ref, help=REF_HELP)
        if name != "withdraw":
            p.add_argument("requester", metavar="USER", help="who asked")

    p = command("grants", "list who has access to a resource you manage")
    p.add_argument("ref", metavar="KIND/ID", type=_ref, help=REF_HELP)

    p = command(
        "history",
        "show the history of a resource, oldest first: all of it if you manage it, else the "
        "rows about you",
    )
    p.add_argument("ref", metavar="KIND/ID", type=_ref, help=REF_HELP)
    p.add_argument(
        "--person",
        action="append",
        metavar="NAME",
        help="only rows whose actor or principal is NAME (user:NAME, group:NAME); repeatable",
    )
    p.add_argument(
        "--action",
        action="append",
        metavar="ACTION",
        help="only rows of ACTION (share, change, revoke, leave, expire, relink, signin, ask, "
        "approve, deny, withdraw, create, start, stop, update, delete); repeatable or comma-separated",
    )
    p.add_argument(
        "--format",
        choices=["csv", "json"],
        help="write the rows as CSV (every matching row, unless --limit) or as JSON",
    )
    paging(p)

    p = command("delete", "delete a resource you own; its grants go with it")
    p.add_argument("ref", metavar="KIND/ID", type=_ref, help=REF_HELP)

    p = command(
        "environment",
        "print an image's captured environment as requirements.txt or environment.yml",
        "Print an image's captured environment as a file pip or conda reads "
        "(--json changes nothing: the API answers the file itself).",
    )
    p.add_argument(
        "ref", metavar="images/ID", type=_image_ref, help="images/ID (or the image's name)"
    )
    p.add_argument(
        "--format",
        choices=("requirements", "conda"),
        default="requirements",
        help="requirements (default): requirements.txt; conda: environment.yml",
    )

    p = command(
        "use",
        "build an environment and a kernel here from an image's captured packages",
        "Build an environment on this machine from an image you can see (yours, or shared "
        "with you): a venv (uv where it is on PATH, else venv + pip) pinned to the captured "
        "versions, and a kernel named after the image and its owner, e.g. 'CARET (alice)'. "
        "Progress goes to stderr; Ctrl-C cancels and removes what was made. An image version "
        "built already is not built again. Where packages come from: "
        "--ShareApp.environment_find_links=DIR, --ShareApp.environment_no_index=True, "
        "--ShareApp.environment_index_url=URL.",
    )
    p.add_argument(
        "ref", metavar="images/ID", type=_image_ref, help="images/ID (or the image's name)"
    )
    p.add_argument(
        "--plan",
        action="store_true",
        help="only show what would be built (Python captured and used, packages), build nothing",
    )

    command("environments", "list the environments made here from images (by you)")

    p = command(
        "remove-environment",
        "remove an environment made from an image, and its kernel",
    )
    p.add_argument("env_id", metavar="ENV_ID", help="an id from `jupyter share environments`")

    command("whoami", "show who you act as, your groups, the store and the config files read")

    p = command(
        "guests",
        "show who is in your running container now (asks its server)",
        "Show who is in your running container now: each guest, their permission, when "
        "they signed in, their last activity and address, and what they have open. "
        "Presence lives in the server's memory: this asks the running server.",
    )
    cli_guests.add_arguments(p)

    # Not a command on the store: it runs a whole JupyterHub (jupyter_share.hub.demo).
    p = commands.add_parser(
        "hub-demo",
        help="run a demo JupyterHub with jupyter_share on this machine (alice, bob, carol)",
        description="Write a jupyterhub_config.py and run JupyterHub in the foreground on 127.0.0.1: "
        "users alice, bob and carol (group class-2026: bob and carol) sign in with one password, "
        "each server is a local JupyterLab, and the share service runs as a managed service. "
        "Needs configurable-http-proxy (npm install -g configurable-http-proxy). For trying "
        "things out only: the user servers are not isolated from each other. Ctrl-C stops it all.",
        allow_abbrev=False,
    )
    p.add_argument("--port", type=_whole, default=8000, help="the Hub's public port (default 8000)")
    p.add_argument(
        "--password",
        metavar="TEXT",
        default=None,
        help="the users' password, 8 characters or more (default: a random one, printed)",
    )
    p.add_argument(
        "--dir",
        dest="directory",
        metavar="DIR",
        default=None,
        help="keep the config, the Hub's database and the users' homes here "
        "(default: a temporary directory, removed at exit)",
    )
    return parser


# -- output ------------------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    """A stored (naive UTC) time for a table."""
    return value.strftime("%Y-%m-%d %H:%M:%S") + "Z" if value else ""


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) if c is not None else "" for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def _sharing(view: ResourceView) -> str:
    """The grey badge: "shared (N)" where the caller may count the grants."""
    if view.share_count:
        return f"shared ({view.share_count})"
    return ""


def resource_table(views: Sequence[ResourceView]) -> str:
    """Rows of resources; with containers, a STATE column says whether each one's server
    runs (`liveness`: running, stopped, or unknown for a server on another machine)."""
    from .liveness import session_state

    expiring = any(v.expires_at for v in views)
    sessions = any(v.resource.kind == Kind.SESSION for v in views)
    headers = ["NAME", "KIND", "OWNER", "ACCESS", "SHARING"] + (["STATE"] if sessions else [])
    headers += (["EXPIRES"] if expiring else []) + ["ID"]
    rows = []
    for v in views:
        r = v.resource
        row = [r.name, r.kind.value, r.owner, v.access, _sharing(v)]
        if sessions:
            row.append(session_state(r.spec) if r.kind == Kind.SESSION else "")
        if expiring:
            row.append(_when(v.expires_at))
        rows.append(row + [r.id])
    return table(headers, rows)


def _environment_summary(env: dict) -> str:
    parts = [f"Python {env.get('python', '?')} on {env.get('platform', '?')}"]
    parts.append(f"{len(env.get('packages') or [])} pip packages")
    if env.get("conda"):
        parts.append(f"{len(env['conda'].get('packages') or [])} conda packages")
    if env.get("kernelspecs"):
        parts.append("kernels " + ", ".join(k.get("name", "?") for k in env["kernelspecs"]))
    if env.get("captured_at"):
        parts.append(f"captured {env['captured_at']}")
    return "; ".join(parts)


# -- running a command --------------------------------------------------------------------------


@dataclass
class Context:
    app: ShareApp
    service: ShareService
    user: str
    json: bool
    config_files: list = field(default_factory=list)

    def out(self, text: str = "") -> None:
        print(text)

    def dump(self, data: Any) -> None:
        print(json.dumps(data, indent=2))

    def visible(self, kind: Kind, scope: str = "all"):
        offset = 0
        while True:
            page = self.service.list(self.user, kind, scope, offset, _PAGE)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def image_for_formation(self, value: str) -> str:
        """--image: an image id, else the name of one image the caller sees (its id), else
        the value itself (a reference like registry/name:tag, checked by the service)."""
        try:
            return self.resolve((Kind.IMAGE, value)).resource.id
        except NotFound:
            return value

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
            return self.service.view(self.user, kind, rid)
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


def _paging_note(ctx: Context, shown: int, offset: int | None, total: int) -> None:
    first = offset or 0
    if first + shown < total:
        print(f"({shown} of {total} shown: use --offset {first + shown} for more)", file=sys.stderr)


def cmd_list(ctx: Context, args) -> None:
    from .serialize import page_json, resource_list_json

    page = ctx.service.list(ctx.user, args.kind, args.scope, args.offset, args.limit)
    if ctx.json:
        return ctx.dump(page_json(page, resource_list_json))
    if not page.items:
        what = args.kind.plural if args.kind else "images, formations or sessions"
        return ctx.out(
            {"owned": f"you own no {what}", "shared": f"no {what} are shared with you"}.get(
                args.scope, f"no {what}"
            )
        )
    ctx.out(resource_table(page.items))
    _paging_note(ctx, len(page.items), args.offset, page.total)


def cmd_shared(ctx: Context, args) -> None:
    from .serialize import page_json, resource_list_json

    page = ctx.service.shared_with_me(
        ctx.user, args.kind.plural if args.kind else None, args.offset, args.limit
    )
    if ctx.json:
        return ctx.dump(page_json(page, resource_list_json))
    if not page.items:
        return ctx.out(
            f"no {args.kind.plural if args.kind else 'images, formations or sessions'} are shared with you"
        )
    ctx.out(resource_table(page.items))
    _paging_note(ctx, len(page.items), args.offset, page.total)


def cmd_show(ctx: Context, args) -> None:
    import yaml

    from .serialize import resource_json

    view = ctx.resolve(args.ref)
    if ctx.json:
        return ctx.dump(resource_json(view))
    r = view.resource
    lines = [
        ("name", r.name),
        ("kind", r.kind.value),
        ("id", r.id),
        ("owner", r.owner),
        ("access", view.access),
    ]
    if r.kind == Kind.SESSION:
        from .liveness import session_state

        lines.append(("state", session_state(r.spec)))
    if view.share_count is not None:
        lines.append(("sharing", _sharing(view) or "not shared"))
    if view.access != "owner":
        lines.append(("shared", _when(view.shared_at)))
        lines.append(("expires", _when(view.expires_at) or "never"))
    lines += [("created", _when(r.created_at)), ("updated", _when(r.updated_at))]
    if r.description:
        lines.append(("description", r.description))
    width = max(len(k) for k, _ in lines) + 1
    for key, value in lines:
        ctx.out(f"{key + ':':<{width}} {value}")
    spec = dict(r.spec)
    if "environment" in spec:
        spec["environment"] = _environment_summary(spec["environment"])
    if spec:
        ctx.out("spec:")
        ctx.out(
            "  "
            + yaml.safe_dump(
                spec, sort_keys=False, default_flow_style=False, width=1 << 16, allow_unicode=True
            )
            .rstrip()
            .replace("\n", "\n  ")
        )
    if view.access in ("owner", "manage"):
        grants = ctx.service.grants(ctx.user, r.kind, r.id)
        if grants:
            ctx.out("access list:")
            for g in grants:
                until = f", until {_when(g.expires_at)}" if g.expires_at else ""
                ctx.out(f"  {g.principal} · {g.permission.label}{until}")


def _created(ctx: Context, view: ResourceView) -> None:
    from .serialize import resource_json

    if ctx.json:
        return ctx.dump(resource_json(view))
    ctx.out(f"created {view.resource.kind.value} {view.resource.name!r}: {view.resource.id}")


def cmd_create_image(ctx: Context, args) -> None:
    if not args.reference and not args.capture:
        raise UsageError("create-image needs --reference REF, --capture, or both")
    body: dict = {
        "name": args.name,
        "spec": {"reference": args.reference} if args.reference else None,
    }
    if args.capture:
        body["capture"] = True
    if args.description is not None:
        body["description"] = args.description
    _created(ctx, ctx.service.create(ctx.user, Kind.IMAGE, body))


def cmd_create_formation(ctx: Context, args) -> None:
    spec: dict = {"image": ctx.image_for_formation(args.image)}
    if args.cpu is not None:
        spec["cpu"] = args.cpu
    if args.memory is not None:
        spec["memory"] = args.memory
    if args.gpu is not None:
        spec["gpu"] = args.gpu
    if args.env:
        spec["env"] = dict(args.env)
    if args.storage:
        spec["storage"] = args.storage
    if args.start_url is not None:
        spec["start_url"] = args.start_url
    body: dict = {"name": args.name, "spec": spec}
    if args.description is not None:
        body["description"] = args.description
    _created(ctx, ctx.service.create(ctx.user, Kind.FORMATION, body))


def cmd_share(ctx: Context, args) -> None:
    from .serialize import grant_json

    view = ctx.resolve(args.ref)
    body: dict = {"permission": args.permission}
    if args.expires is not None:
        body["expires_at"] = args.expires
    result = ctx.service.share(ctx.user, view.resource.kind, view.resource.id, args.principal, body)
    grant = grant_json(result.grant)
    if ctx.json:
        return ctx.dump(grant)
    until = f" until {_when(result.grant.expires_at)}" if result.grant.expires_at else ""
    what = f"{view.resource.kind.value} {view.resource.name!r}"
    access = f"{grant['principal']} · {grant['permission']}{until}"
    if result.unchanged:
        return ctx.out(f"unchanged: {what} was shared with {access} already")
    ctx.out(f"{'shared' if result.created else 'changed'} {what} with {access}")


def cmd_revoke(ctx: Context, args) -> None:
    view = ctx.resolve(args.ref)
    from .model import Principal

    ctx.service.revoke(ctx.user, view.resource.kind, view.resource.id, args.principal)
    if not ctx.json:  # the API answers 204: no body
        ctx.out(
            f"revoked {Principal.parse(args.principal)} on {view.resource.kind.value} {view.resource.name!r}"
        )


def cmd_grants(ctx: Context, args) -> None:
    from .serialize import grant_json

    view = ctx.resolve(args.ref)
    grants = ctx.service.grants(ctx.user, view.resource.kind, view.resource.id)
    if ctx.json:
        return ctx.dump({"items": [grant_json(g) for g in grants], "total": len(grants)})
    if not grants:
        return ctx.out(f"{view.resource.kind.value} {view.resource.name!r} is not shared")
    ctx.out(
        table(
            ["PRINCIPAL", "PERMISSION", "GRANTED BY", "SINCE", "EXPIRES"],
            [
                [
                    str(g.principal),
                    g.permission.label,
                    g.granted_by,
                    _when(g.created_at),
                    _when(g.expires_at) or "never",
                ]
                for g in grants
            ],
        )
    )


def cmd_history(ctx: Context, args) -> None:
    from .serialize import audit_json, history_csv, page_json

    view = ctx.resolve(args.ref)
    page = ctx.service.history(
        ctx.user,
        view.resource.kind,
        view.resource.id,
        args.offset,
        args.limit,
        args.person,
        args.action,
        args.format,
    )
    if args.format == "csv":
        sys.stdout.write(history_csv(page.items))
        return None
    if ctx.json or args.format == "json":
        return ctx.dump(page_json(page, audit_json))
    addresses = any(e.address for e in page.items)
    ctx.out(
        table(
            ["AT", "ACTOR", "ACTION", "PRINCIPAL", "PERMISSION"]
            + (["ADDRESS"] if addresses else []),
            [
                [_when(e.at), e.actor, e.action, e.principal, e.permission]
                + ([e.address] if addresses else [])
                for e in page.items
            ],
        )
    )
    _paging_note(ctx, len(page.items), args.offset, page.total)


def _request_rows(views) -> list:
    return [
        [
            f"{v.resource.kind.plural}/{v.resource.id}",
            v.resource.name,
            v.resource.owner,
            v.request.requester,
            v.holds or "-",
            v.request.permission.label,
            _when(v.request.created_at),
            v.request.message,
        ]
        for v in views
    ]


_REQUEST_HEADERS = [
    "RESOURCE",
    "NAME",
    "OWNER",
    "REQUESTER",
    "HOLDS",
    "ASKS FOR",
    "SINCE",
    "MESSAGE",
]


def cmd_ask(ctx: Context, args) -> None:
    from .serialize import request_json

    view = ctx.resolve(args.ref)
    asked = ctx.service.ask(
        ctx.user,
        view.resource.kind,
        view.resource.id,
        {"permission": args.permission, "message": args.message},
    )
    if ctx.json:
        return ctx.dump(request_json(asked))
    ctx.out(
        f"asked {view.resource.owner} for {args.permission} on {view.resource.kind.value} {view.resource.name!r}"
    )


def cmd_requests(ctx: Context, args) -> None:
    from .serialize import request_json

    if args.ref is not None:
        view = ctx.resolve(args.ref)
        found = ctx.service.requests_on(ctx.user, view.resource.kind, view.resource.id)
        if ctx.json:
            return ctx.dump({"items": [request_json(v) for v in found], "total": len(found)})
        if not found:
            return ctx.out(f"no open requests on {view.resource.kind.value} {view.resource.name!r}")
        return ctx.out(table(_REQUEST_HEADERS, _request_rows(found)))
    mine = ctx.service.requests_for_me(ctx.user)
    if ctx.json:
        return ctx.dump({key: [request_json(v) for v in views] for key, views in mine.items()})
    if mine["to_decide"]:
        ctx.out("for you to decide (jupyter share approve|deny KIND/ID USER):")
        ctx.out(table(_REQUEST_HEADERS, _request_rows(mine["to_decide"])))
    else:
        ctx.out("no requests for you to decide")
    if mine["asked"]:
        ctx.out("your own open requests:")
        ctx.out(table(_REQUEST_HEADERS, _request_rows(mine["asked"])))


def _decide(ctx: Context, args, decision: str) -> None:
    from .serialize import grant_json

    view = ctx.resolve(args.ref)
    decided = ctx.service.decide(
        ctx.user, view.resource.kind, view.resource.id, args.requester, {"decision": decision}
    )
    if ctx.json:
        answer: dict[str, Any] = {
            "decision": decided.decision,
            "requester": decided.request.requester,
            "permission": decided.request.permission.label,
        }
        if decided.share:
            answer["grant"] = grant_json(decided.share.grant)
        return ctx.dump(answer)
    what = f"{decided.request.requester}'s request for {decided.request.permission.label} on {view.resource.kind.value} {view.resource.name!r}"
    ctx.out(f"{'approved' if decision == 'approve' else 'denied'} {what}")


def cmd_approve(ctx: Context, args) -> None:
    _decide(ctx, args, "approve")


def cmd_deny(ctx: Context, args) -> None:
    _decide(ctx, args, "deny")


def cmd_withdraw(ctx: Context, args) -> None:
    view = ctx.resolve(args.ref)
    ctx.service.withdraw(ctx.user, view.resource.kind, view.resource.id, ctx.user)
    if not ctx.json:  # the API answers 204: no body
        ctx.out(f"withdrew your request on {view.resource.kind.value} {view.resource.name!r}")


def cmd_delete(ctx: Context, args) -> None:
    view = ctx.resolve(args.ref)
    ctx.service.delete(ctx.user, view.resource.kind, view.resource.id)
    if not ctx.json:  # the API answers 204: no body
        ctx.out(f"deleted {view.resource.kind.value} {view.resource.name!r} ({view.resource.id})")


def cmd_environment(ctx: Context, args) -> None:
    view = ctx.resolve(args.ref)
    _filename, _type, text = ctx.service.environment_file(ctx.user, view.resource.id, args.format)
    sys.stdout.write(text)


def _progress(data: dict, seen: list) -> None:
    """One line per step and count, to stderr (stdout keeps the answer, e.g. --json)."""
    key = (data.get("state"), data.get("step"), data.get("done"))
    if seen and seen[-1] == key:
        return
    seen.append(key)
    count = f" {data['done']}/{data['total']}" if data.get("total") else ""
    print(f"[{data.get('step')}{count}] {data.get('message', '')}", file=sys.stderr, flush=True)


def cmd_use(ctx: Context, args) -> None:
    view = ctx.resolve(args.ref)
    image = ctx.service.image_to_use(ctx.user, view.resource.id)
    seen: list = []
    environments = ctx.app.make_environments(lambda data: _progress(data, seen))
    if args.plan:
        plan = environments.plan_json(image, ctx.user)
        if ctx.json:
            return ctx.dump(plan)
        ctx.out(f"{plan['display_name']}: {plan['packages']} pinned packages, {plan['installer']}")
        ctx.out(plan["python"]["note"])
        for line in filter(None, (plan["conda"], plan["refusal"])):
            ctx.out(line)
        return None
    to_build = environments.plan(image)
    print(to_build.python_note(), file=sys.stderr)
    if to_build.conda_note:
        print(to_build.conda_note, file=sys.stderr)
    environment, started = environments.use(image, ctx.user)
    build = environments.build(environment["id"])
    if started and build is not None:
        try:
            while not build.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("cancelling: removing what was made…", file=sys.stderr)
            build.cancel()
            raise
        environment = build.json()
    if environment["state"] != "ready":
        raise BuildError(environment["message"])
    if ctx.json:
        return ctx.dump(environment)
    done = "built" if started else "already built"
    ctx.out(
        f"{done}: kernel {environment['display_name']!r} ({environment['kernel_name']}), "
        f"environment {environment['id']} at {environment['path']}"
    )
    return None


def cmd_environments(ctx: Context, args) -> None:
    items = ctx.app.make_environments().list(ctx.user)
    if ctx.json:
        return ctx.dump({"items": items, "total": len(items)})
    rows = [(e["id"], e["display_name"], e["state"], e["kernel_name"], e["path"]) for e in items]
    ctx.out(table(["ID", "KERNEL", "STATE", "KERNEL NAME", "PATH"], rows) if rows else "none")
    return None


def cmd_remove_environment(ctx: Context, args) -> None:
    environments = ctx.app.make_environments()
    found = environments.get(ctx.user, args.env_id)
    environments.remove(ctx.user, args.env_id)
    if not ctx.json:
        ctx.out(f"removed the environment {args.env_id} and its kernel {found['display_name']!r}")


def cmd_whoami(ctx: Context, args) -> None:
    from .serialize import me_json

    found = ctx.service.me(ctx.user)
    me = me_json(found["username"], found["groups"], ctx.app.display_name, ctx.app.resolved_mode)
    if ctx.json:
        return ctx.dump(me)
    store = ctx.service.store
    url = (
        store.url.render_as_string(hide_password=True)
        if hasattr(store, "url")
        else type(store).__name__
    )
    ctx.out(f"user:         {me['username']}")
    ctx.out(f"groups:       {', '.join(me['groups']) or '-'}")
    ctx.out(f"store:        {url}")
    ctx.out(f"config files: {', '.join(ctx.config_files) or '-'}")


def cmd_hub_demo(args) -> int:
    """`jupyter share hub-demo`: runs until Ctrl-C; needs no store of its own."""
    from .hub.demo import DemoError, run_demo

    if args.password is not None and len(args.password) < 8:
        raise UsageError("--password must have at least 8 characters")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: not a TCP port")
    try:
        return run_demo(port=args.port, password=args.password, directory=args.directory)
    except DemoError as e:
        return _fail(str(e), EXIT_ERROR)


COMMANDS: dict[str, Callable[[Context, argparse.Namespace], None]] = {
    "list": cmd_list,
    "shared": cmd_shared,
    "show": cmd_show,
    "create-image": cmd_create_image,
    "create-formation": cmd_create_formation,
    "share": cmd_share,
    "revoke": cmd_revoke,
    "grants": cmd_grants,
    "ask": cmd_ask,
    "requests": cmd_requests,
    "approve": cmd_approve,
    "deny": cmd_deny,
    "withdraw": cmd_withdraw,
    "history": cmd_history,
    "delete": cmd_delete,
    "environment": cmd_environment,
    "whoami": cmd_whoami,
    "use": cmd_use,
    "environments": cmd_environments,
    "remove-environment": cmd_remove_environment,
    "guests": cli_guests.cmd_guests,
}


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line; return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[: argv.index("--") if "--" in argv else len(argv)]

    def warn(message: str) -> None:
        print(f"{PROG}: warning: {message}", file=sys.stderr)

    parser = build_parser()
    try:
        trait_options, rest = split_trait_options(argv)
        args = parser.parse_args(rest)
        if not args.command:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        if args.command == "hub-demo":
            return cmd_hub_demo(args)
        app, loaded = make_app(args, trait_options, warn)
        if app.resolved_mode == "hub":
            # The store belongs to the Hub's share service; a local one would share nothing.
            raise UsageError(
                "under JupyterHub the share service keeps what is shared: use the Sharing panel, "
                "the notebook widgets, or jupyter_share.client.ShareClient() (it finds the service "
                "through this server); pass --ShareApp.mode=standalone for a local store"
            )
        check_store_exists(app, args.command)
        try:
            service = app.make_service()
        except Exception as e:
            raise StoreUnavailable(
                f"cannot open the store {_store_label(app.db_url)}: {type(e).__name__}: {_one_line(e)}"
            ) from e
        try:
            from .model import utcnow

            service.store.touch_user(app.username, utcnow())  # as a server does when it starts
            ctx = Context(app, service, app.username, getattr(args, "json", False), loaded)
            COMMANDS[args.command](ctx, args)
        finally:
            service.store.close()
        sys.stdout.flush()
        return EXIT_OK
    except SystemExit as e:  # argparse: --help, --version, usage errors
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    except UsageError as e:
        return _fail(str(e), EXIT_USAGE)
    except BuildError as e:
        return _fail(str(e), EXIT_ERROR)
    except ShareError as e:
        return _fail(e.message, EXIT_CODES.get(e.status, EXIT_ERROR))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `jupyter share list | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except StoreUnavailable as e:
        if debug:
            traceback.print_exc()
        return _fail(str(e), EXIT_ERROR)
    except Exception as e:
        if debug:
            traceback.print_exc()
        return _fail(
            f"{type(e).__name__}: {_one_line(e)}"
            + ("" if debug else " (--debug shows the traceback)"),
            EXIT_ERROR,
        )


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
