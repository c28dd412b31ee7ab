"""What every `jupyter share` subcommand shares: a traitlets `JupyterApp` whose options are
traits, so a config file and `--Class.trait=value` set them as they set any Jupyter
application's (traitlets parses and merges; nothing here re-implements that).

A subcommand declares its options as traits tagged `option=True` (a `Bool` is a flag, anything
else an alias named after the trait, `--start-url` for `start_url`), and its positional
arguments in `arguments`. The argparse parser traitlets builds is given the options' help,
metavars, choices and checks, so usage errors read as they always did.

Configuration, lowest priority first: the extension's `jupyter_jupyter_share_config`, then what
a Jupyter server reads (`jupyter_config`, then `jupyter_server_config` or the `--config` file),
then the command line's own `jupyter_share_config`; then `--Class.trait=value` options; then
`--user` and `--db-url`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Generator, Sequence
from typing import Any, ClassVar

from jupyter_core.application import JupyterApp, base_aliases, base_flags
from traitlets import Bool, TraitError, TraitType, Unicode, default, observe
from traitlets.config.application import Application
from traitlets.config.loader import (
    ArgumentError,
    ConfigFileNotFound,
    KVArgParseConfigLoader,
    _KVArgParser,
)

from ..model import Conflict, Forbidden, InvalidInput, NotFound
from .options import Positional

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

#: The config files a Jupyter server reads for the extension, and the command line's own.
EXTENSION_CONFIG = "jupyter_jupyter_share_config"
SERVER_CONFIG = "jupyter_server_config"
CLI_CONFIG = "jupyter_share_config"


class UsageError(Exception):
    """Bad command line input found after parsing: exits 2 like argparse's own errors."""


class BuildError(Exception):
    """An environment could not be built (the message names the package and why): exits 1."""


class StoreUnavailable(Exception):
    """The configured store cannot be opened."""


def _undecorated(method: Any) -> Any:
    """A traitlets method without `catch_config_error`, which logs and exits 1."""
    return getattr(method, "__wrapped__", method)


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# -- the parser traitlets builds, dressed as the command line always read ---------------------


class _Parser(_KVArgParser):
    """traitlets' parser (`--Class.trait` options implicitly defined), with the positional
    arguments allowed between options and errors in the command line's words."""

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        return self.parse_intermixed_args(args, namespace)

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{PROG}: error: {message}\n")


class CommandLoader(KVArgParseConfigLoader):
    """traitlets' loader, with each option parsed by its own argparse action (its choices and
    checks apply; traitlets would rewrite `--permission` into `--Class.permission` first)."""

    parser_class = _Parser

    def _parse_args(self, args: Any) -> None:
        args = list(args)
        split = args.index("--") if "--" in args else len(args)
        self.parsed_data = self.parser.parse_args(args[:split])
        self.extra_args = args[split + 1 :]

    def __init__(self, *args: Any, command: ShareCommand, **kw: Any):
        super().__init__(*args, **kw)
        self.command = command

    def _add_arguments(self, aliases: Any, flags: Any, classes: Any) -> None:
        super()._add_arguments(aliases, flags, classes)
        options = type(self.command).options()
        for action in self.parser._actions:
            for option in action.option_strings:
                trait = options.get(option[2:])
                if trait is None:
                    if isinstance(action.metavar, str) and "." in action.metavar:
                        action.metavar = option[2:].upper()
                    continue
                action.help = trait.help or None
                choices = trait.metadata.get("choices")
                if choices:
                    action.choices, action.metavar = choices, None
                elif not isinstance(trait, Bool):
                    action.metavar = trait.metadata.get("metavar", option[2:].upper())
                if trait.metadata.get("check"):
                    action.type = trait.metadata["check"]
        # The positional arguments: traitlets collects them in `extra_args`; shown by name.
        for action in self.parser._actions:
            if action.dest == "extra_args":
                action.help = argparse.SUPPRESS


# --debug here shows tracebacks; jupyter_core's --debug (log level) stays as --log-level=DEBUG.
COMMON_FLAGS: dict[Any, Any] = {k: v for k, v in base_flags.items() if k != "debug"}
COMMON_FLAGS.update(
    {
        "json": (
            {"ShareCommand": {"json": True}},
            "print the JSON the REST API answers instead of a table",
        ),
        "debug": ({"ShareCommand": {"debug": True}}, "show tracebacks of unexpected errors"),
    }
)
COMMON_ALIASES: dict[Any, Any] = dict(base_aliases)
COMMON_ALIASES.update(
    {
        "user": "ShareCommand.user",
        "db-url": "ShareCommand.db_url",
        "config": "JupyterApp.config_file",
    }
)


class _Formatter(logging.Formatter):
    """`jupyter share: warning: ...`, one line: an error's traceback only with --debug."""

    #: Set by --debug.
    tracebacks = False

    def __init__(self, *args: Any, **kw: Any):
        super().__init__()

    def format(self, record: logging.LogRecord) -> str:
        text = f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            if self.tracebacks:
                return text + "\n" + self.formatException(record.exc_info)
            text += f": {type(record.exc_info[1]).__name__}: {one_line(record.exc_info[1])}"
        return text


class ShareCommand(JupyterApp):
    """A `jupyter share` subcommand; subclasses set `name`, `description`, `arguments` and
    their options, and implement `run_command`."""

    #: The subcommand's word on the command line.
    command: ClassVar[str] = ""
    arguments: ClassVar[tuple[Positional, ...]] = ()
    config_file_name = Unicode(CLI_CONFIG)
    _log_formatter_cls = _Formatter  # type: ignore[assignment]

    json = Bool(False, help="print the JSON the REST API answers instead of a table").tag(
        config=True
    )
    debug = Bool(False, help="show tracebacks of unexpected errors").tag(config=True)
    user = Unicode(
        None,
        allow_none=True,
        help="act as NAME (ShareApp.username; default: configured, else the OS login name)",
    ).tag(config=True, metavar="NAME")
    db_url = Unicode(
        None,
        allow_none=True,
        help="SQLAlchemy URL of the store (ShareApp.db_url; default: configured, else a "
        "SQLite file in the Jupyter data dir)",
    ).tag(config=True, metavar="URL")

    @observe("debug")
    def _debug_changed(self, change: Any) -> None:
        _Formatter.tracebacks = change["new"]

    def __init_subclass__(cls, **kw: Any):
        super().__init_subclass__(**kw)
        flags, aliases = dict(COMMON_FLAGS), dict(COMMON_ALIASES)
        for name, trait in cls.options().items():
            target = trait.metadata.get("trait", "")
            if name in flags or name in aliases:
                continue
            if isinstance(trait, Bool):
                flags[name] = ({cls.__name__: {target: True}}, trait.help)
            else:
                aliases[name] = f"{cls.__name__}.{target}"
        cls.flags, cls.aliases = flags, aliases

    @classmethod
    def options(cls) -> dict[str, TraitType]:
        """Option name -> trait (with its `trait` name in metadata), the common ones too."""
        found: dict[str, TraitType] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, TraitType) and (
                    value.metadata.get("option") or attr in ("user", "db_url", "json", "debug")
                ):
                    value.metadata["trait"] = attr
                    found[value.metadata.get("name", attr.replace("_", "-"))] = value
        found["config"] = Unicode(
            help="read this config file instead of jupyter_server_config from the config path"
        ).tag(metavar="FILE")
        return found

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        # This command and `config_classes`: what `--Class.trait` and --help-all know.
        self.classes = [type(self), *self.config_classes()]

    def config_classes(self) -> list[type]:
        """The classes `--Class.trait` options may set by name (their container traits are
        repeatable options): `ShareApp` for the commands on the store."""
        return []

    @default("log_level")
    def _log_level_default(self) -> int:
        return logging.WARNING

    @property
    def usage(self) -> str:
        args = " ".join(f"[{a.metavar}]" if a.optional else a.metavar for a in self.arguments)
        return f"{PROG} {self.command} [options] {args}".rstrip()

    def _create_loader(self, argv: Any, aliases: Any, flags: Any, classes: Any) -> Any:
        return CommandLoader(
            argv,
            aliases,
            flags,
            classes=classes,
            log=self.log,
            subcommands=self.subcommands,
            command=self,
            prog=f"{PROG} {self.command}",
            usage=self.usage,
            description=self.description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
            add_help=False,
        )

    # -- help ----------------------------------------------------------------------------------

    def emit_help(self, classes: bool = False) -> Generator[str, None, None]:
        flags, aliases = self.flatten_flags()
        loader = self._create_loader([], aliases, flags, list(self._classes_with_config_traits()))
        loader._create_parser()
        parser = loader.parser
        parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
        if self.arguments:
            group = parser.add_argument_group("arguments")
            for positional in self.arguments:
                group.add_argument(
                    f"__{positional.name}", metavar=positional.metavar, help=positional.help
                )
        yield parser.format_help().rstrip()
        yield ""
        yield (
            "Any --Class.trait=VALUE option is accepted too (--help-all lists them), e.g. "
            "--ShareApp.users=bob."
            if not classes
            else ""
        )
        if classes:
            yield from self.emit_help_all()

    def emit_help_all(self) -> Generator[str, None, None]:
        for cls in self._classes_with_config_traits():
            yield from cls.class_get_help().splitlines()

    def print_version(self) -> None:
        from .. import __version__

        print(f"{PROG} (jupyter_share) {__version__}")

    # -- configuration -------------------------------------------------------------------------

    def load_config_file(self, suppress_errors: bool = True) -> None:  # type: ignore[override]
        """The files a Jupyter server started here would read, then the CLI's own."""
        paths = self.config_file_paths
        for basename in (EXTENSION_CONFIG, "jupyter_config"):
            self._load_config_file(basename, paths)
        if self.config_file:
            path = os.path.abspath(os.path.expanduser(self.config_file))
            directory, name = os.path.split(path)
            stem, ext = os.path.splitext(name)
            if not os.path.isfile(path) or ext not in (".py", ".json"):
                raise UsageError(f"--config {self.config_file!r}: no such .py or .json file")
            self._load_config_file(stem, [directory])
        else:
            self._load_config_file(SERVER_CONFIG, paths)
        self._load_config_file(CLI_CONFIG, paths)

    def _load_config_file(self, basename: str, paths: Sequence[str]) -> None:
        # A broken file is logged by traitlets and skipped, as a server does.
        try:
            _undecorated(Application.load_config_file)(self, basename, path=list(paths))
        except ConfigFileNotFound:
            pass
        except (TraitError, ArgumentError) as e:
            raise UsageError(f"{basename}: {e}") from None

    def parse_command_line(self, argv: Any = None) -> None:
        # traitlets' own would log a bad value and exit 1; a bad option exits 2 here.
        try:
            _undecorated(Application.parse_command_line)(self, argv)
        except (TraitError, ArgumentError) as e:
            self.usage_error(str(e))

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        self.parse_arguments(self.extra_args)

    def parse_arguments(self, values: list[str]) -> None:
        """The positional arguments, checked and converted as argparse would."""
        missing = [a.metavar for a in self.arguments[len(values) :] if not a.optional]
        missing += [
            f"--{name}"
            for name, trait in self.options().items()
            if trait.metadata.get("required") and getattr(self, trait.metadata["trait"]) is None
        ]
        if missing:
            self.usage_error(f"the following arguments are required: {', '.join(missing)}")
        if len(values) > len(self.arguments):
            self.usage_error(f"unrecognized arguments: {' '.join(values[len(self.arguments) :])}")
        for i, positional in enumerate(self.arguments):
            if i >= len(values):
                setattr(self, positional.name, None)
                continue
            try:
                setattr(self, positional.name, positional.convert(values[i]))
            except argparse.ArgumentTypeError as e:
                self.usage_error(f"argument {positional.metavar}: {e}")

    def usage_error(self, message: str) -> None:
        print(f"usage: {self.usage}", file=sys.stderr)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.generate_config:  # --generate-config: jupyter_share_config.py, as JupyterApp
            self.write_default_config()
            return
        self.execute()

    def execute(self) -> None:
        self.run_command()
        sys.stdout.flush()

    def run_command(self) -> None:
        raise NotImplementedError

    def out(self, text: str = "") -> None:
        print(text)

    def dump(self, data: Any) -> None:
        print(json.dumps(data, indent=2))
