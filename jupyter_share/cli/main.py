"""`jupyter share` itself: a `JupyterApp` whose subcommands are the commands (as `jupyter
server` and `jupyter labextension` dispatch theirs), and `run`, which turns what a command
raises into its one-line error and exit code."""

from __future__ import annotations

import os
import re
import sys
import textwrap
import traceback
from collections.abc import Generator, Sequence
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets.config.loader import ArgumentError
from traitlets.utils.importstring import import_item

from ..model import ShareError
from .base import (
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    BuildError,
    ShareCommand,
    StoreUnavailable,
    UsageError,
    one_line,
)

#: Each command: its class, imported when it runs (the module `jupyter_share.cli.<group>`).
COMMANDS: dict[str, str] = {
    "list": "resources.ListCommand",
    "shared": "resources.SharedCommand",
    "show": "resources.ShowCommand",
    "create-image": "resources.CreateImageCommand",
    "create-formation": "resources.CreateFormationCommand",
    "share": "sharing.ShareGrantCommand",
    "revoke": "sharing.RevokeCommand",
    "ask": "requests.AskCommand",
    "requests": "requests.RequestsCommand",
    "approve": "requests.ApproveCommand",
    "deny": "requests.DenyCommand",
    "withdraw": "requests.WithdrawCommand",
    "grants": "sharing.GrantsCommand",
    "history": "sharing.HistoryCommand",
    "delete": "resources.DeleteCommand",
    "environment": "environments.EnvironmentCommand",
    "use": "environments.UseCommand",
    "environments": "environments.EnvironmentsCommand",
    "remove-environment": "environments.RemoveEnvironmentCommand",
    "whoami": "people.WhoamiCommand",
    "guests": "people.GuestsCommand",
    "launch": "launch.LaunchCommand",
    "stop": "launch.StopCommand",
    "hub-demo": "hub_demo.HubDemoCommand",
}

#: The one-line help of each command, for `jupyter share --help` (without importing them all).
SUMMARIES: dict[str, str] = {
    "list": "list the images, formations and sessions you own or that are shared with you",
    "shared": "list what others shared with you (with you or a group of yours)",
    "show": "show one resource: its spec, your access and (if you manage it) its access list",
    "create-image": "create an image from a container reference or this environment",
    "create-formation": "create a formation: a launch template (image, size, settings)",
    "share": "give a user or a group access to a resource (or change their permission)",
    "revoke": "take a user's or a group's access away (your own name: leave)",
    "ask": "ask the owner of a resource shared with you for more: edit or manage",
    "requests": "list the open requests for more: on what you own or manage, and your own",
    "approve": "approve a request for more: the requester's grant becomes what they asked for",
    "deny": "deny a request for more; it closes",
    "withdraw": "take your own open request for more back",
    "grants": "list who has access to a resource you manage",
    "history": "show the history of a resource, oldest first: all of it if you manage it, "
    "else the rows about you",
    "delete": "delete a resource you own; its grants go with it",
    "environment": "print an image's captured environment as requirements.txt or environment.yml",
    "use": "build an environment and a kernel here from an image's captured packages",
    "environments": "list the environments made here from images (by you)",
    "remove-environment": "remove an environment made from an image, and its kernel",
    "whoami": "show who you act as, your groups, the store and the config files read",
    "guests": "show who is in your running container now (asks its server)",
    "launch": "launch a formation as a new Jupyter server of yours on this machine",
    "stop": "stop a container that your running server launched",
    "hub-demo": "run a demo JupyterHub with jupyter_share on this machine (alice, bob, carol)",
}

DESCRIPTION = """\
Share images, formations and containers with other Jupyter users.

Acts as ShareApp.username on the store of the Jupyter server's configuration.
Any --ShareApp.TRAIT=VALUE option is accepted too, as by jupyter lab: e.g.
--ShareApp.users=bob --ShareApp.users=carol, or --ShareApp.users='["bob", "carol"]'."""

COMMON_OPTIONS = """\
common options (before or after the command):
  --json                print the JSON the REST API answers instead of a table
  --user NAME           act as NAME (ShareApp.username; default: configured, else the OS
                        login name)
  --db-url URL          SQLAlchemy URL of the store (ShareApp.db_url; default: configured,
                        else a SQLite file in the Jupyter data dir)
  --config FILE         read this config file instead of jupyter_server_config from the
                        config path
  --debug               show tracebacks of unexpected errors
  --Class.trait=VALUE   any configurable trait, e.g. --ShareApp.users=bob
  -h, --help            show this help (`jupyter share COMMAND --help`: a command's)
  --version             show the version"""

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
  jupyter share launch formations/ID        (a new server of yours from it; stop sessions/ID)
  jupyter share hub-demo --port 8000        (a demo JupyterHub with alice, bob and carol)

KIND/ID is images/ID, formations/ID or sessions/ID (singular kinds work too); an id may be
replaced by the name of a resource you can see when no other resource of that kind has it.
PRINCIPAL is user:NAME, group:NAME, or NAME for a user.

configuration: as the Jupyter server's, through traitlets. jupyter_server_config.py/.json
in the Jupyter config path (`jupyter --paths`) may set c.ShareApp.username, db_url, users
and groups, and jupyter_share_config.py/.json any command's options (c.ListCommand.scope);
any --Class.TRAIT=VALUE option overrides them, and --user / --db-url override those.

exit codes: 0 ok, 1 unexpected error or a build that failed, 2 bad input or usage, 3 not found, 4 forbidden,
5 conflict (a duplicate name, sharing with yourself or the owner, a request already open or
for what you hold)."""

USAGE = f"usage: {PROG} [options] COMMAND [command options] [ARGUMENTS]"

#: Options that take the next word as their value (when not given as --option=value).
_VALUE_OPTIONS = {"--user", "--db-url", "--config", "--log-level"}
_TRAIT_OPTION = re.compile(r"^--[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def _command_factory(path: str) -> Any:
    def make(parent: JupyterApp) -> ShareCommand:
        command: ShareCommand = import_item(f"{__package__}.{path}")(parent=parent)
        return command

    return make


class JupyterShareApp(JupyterApp):
    """`jupyter share COMMAND`: dispatches to the command's own application."""

    name = "jupyter-share"
    description = DESCRIPTION
    subcommands = {
        name: (_command_factory(path), SUMMARIES[name]) for name, path in COMMANDS.items()
    }

    def print_version(self) -> None:
        from .. import __version__

        print(f"{PROG} (jupyter_share) {__version__}")

    def emit_help(self, classes: bool = False) -> Generator[str, None, None]:
        yield USAGE
        yield ""
        yield DESCRIPTION
        yield ""
        yield "commands:"
        for name in COMMANDS:
            lines = textwrap.wrap(SUMMARIES[name], 96 - 24)
            yield f"    {name:<19} {lines[0]}"
            yield from (" " * 24 + line for line in lines[1:])
        yield ""
        yield COMMON_OPTIONS
        yield ""
        yield EXAMPLES

    def parse_command_line(self, argv: Any = None) -> None:
        """The command is the first word that is not an option: the common options may come
        before it (`jupyter share --user bob shared`), and are handed to it."""
        argv = list(sys.argv[1:] if argv is None else argv)
        words = argv[: argv.index("--")] if "--" in argv else argv
        i = 0
        while i < len(words):
            word = words[i]
            if not word.startswith("-"):
                if word not in self.subcommands:
                    choices = ", ".join(repr(c) for c in COMMANDS)
                    self._usage_exit(
                        f"argument COMMAND: invalid choice: {word!r} (choose from {choices})"
                    )
                self.initialize_subcommand(word, argv[:i] + argv[i + 1 :])
                return
            if "=" not in word and (word in _VALUE_OPTIONS or _TRAIT_OPTION.match(word)):
                i += 1
            i += 1
        if any(h in words for h in ("-h", "--help", "--help-all")):
            self.print_help()
            self.exit(EXIT_OK)
        if "--version" in words or "-V" in words:
            self.print_version()
            self.exit(EXIT_OK)
        for line in self.emit_help():
            print(line, file=sys.stderr)
        self.exit(EXIT_USAGE)

    def _usage_exit(self, message: str) -> None:
        print(USAGE, file=sys.stderr)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        self.exit(EXIT_USAGE)

    def start(self) -> None:
        if self.subapp:
            self.subapp.start()


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line; return its exit code."""
    from ..config_traits import BadShareConfiguration
    from .hub_demo import DemoFailed

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[: argv.index("--") if "--" in argv else len(argv)]
    app = JupyterShareApp()
    try:
        app.initialize(argv)
        app.start()
        return EXIT_OK
    except BadShareConfiguration as e:  # a SystemExit: before the generic one
        return _fail(e.message, EXIT_USAGE)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    except UsageError as e:
        return _fail(str(e), EXIT_USAGE)
    except ArgumentError as e:
        return _fail(f"bad configuration option: {one_line(e)}", EXIT_USAGE)
    except (BuildError, DemoFailed) as e:
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
        from traitlets import TraitError

        if isinstance(e, TraitError):  # a config file's or option's value of the wrong type
            return _fail(str(e), EXIT_USAGE)
        if debug:
            traceback.print_exc()
        return _fail(
            f"{type(e).__name__}: {one_line(e)}"
            + ("" if debug else " (--debug shows the traceback)"),
            EXIT_ERROR,
        )
    finally:
        app.clear_instance()


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(argv))
