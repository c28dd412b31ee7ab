"""The command line's words: checks of option values (argparse `type`s that check and give
the text back, for the trait to convert), positional arguments, and option traits."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from traitlets import TraitType

from ..model import InvalidInput, Kind


def kind_text(text: str) -> str:
    try:
        Kind.parse(text)
    except InvalidInput as e:
        raise argparse.ArgumentTypeError(e.message) from None
    return text


def whole_text(text: str) -> str:
    try:
        int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    return text


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    return (
        int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    )


def number_text(text: str) -> str:
    number(text)
    return text


def env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def env_pair_text(text: str) -> str:
    env_pair(text)
    return text


# -- positional arguments ---------------------------------------------------------------------


def ref(text: str) -> tuple[Kind, str]:
    kind_part, sep, rid = text.partition("/")
    if not sep or not rid or "/" in rid or not kind_part:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not KIND/ID: use images/ID, formations/ID or sessions/ID"
        )
    return Kind.parse(kind_text(kind_part)), rid


def image_ref(text: str) -> tuple[Kind, str]:
    if "/" not in text:
        return Kind.IMAGE, text
    kind, rid = ref(text)
    if kind != Kind.IMAGE:
        raise argparse.ArgumentTypeError(f"only images have an environment, not {kind.plural}")
    return kind, rid


REF_HELP = "images/ID, formations/ID or sessions/ID; the ID may be the resource's name"


@dataclass(frozen=True)
class Positional:
    """A positional argument: its attribute, how usage shows it, its conversion."""

    name: str
    metavar: str
    convert: Callable[[str], Any] = str
    help: str = ""
    optional: bool = False


REF = Positional("ref", "KIND/ID", ref, REF_HELP)
IMAGE_REF = Positional("ref", "images/ID", image_ref, "images/ID (or the image's name)")


def option(trait: TraitType, **metadata: Any) -> Any:
    """A trait that is a command line option of its subcommand (and configurable)."""
    return trait.tag(config=True, option=True, **metadata)


def choice(values: Sequence[str], default_value: str | None, help: str) -> Any:
    """An option taking one of `values` (argparse checks and lists them in --help)."""
    from traitlets import Enum

    trait: Any = Enum  # its overloads type allow_none only as a literal
    return option(
        trait(
            list(values), default_value=default_value, allow_none=default_value is None, help=help
        ),
        choices=tuple(values),
    )


def paging_options() -> tuple[Any, Any]:
    from traitlets import Integer

    return (
        option(
            Integer(None, allow_none=True, help="at most this many rows (default 100, up to 1000)"),
            check=whole_text,
        ),
        option(Integer(None, allow_none=True, help="skip this many rows"), check=whole_text),
    )
