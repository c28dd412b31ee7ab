"""Traits of `ShareApp` for the standalone directory: `users` (a list of user names) and
`groups` (`{group: [user, ...]}`), taking every form a Jupyter user types, checked at start.

On the command line of `jupyter lab`, `jupyter server` and `jupyter share`:

    --ShareApp.users=bob --ShareApp.users=carol       (repeated, as traitlets documents)
    --ShareApp.users='["bob", "carol"]'               (a JSON list)
    --ShareApp.users="['bob', 'carol']"               (a Python list, as older docs show)
    --ShareApp.groups='{"class-2026": ["bob", "carol"]}'
    --ShareApp.groups class-2026='["bob","carol"]' --ShareApp.groups staff=dave

A server that does not know `ShareApp` when it parses its command line (JupyterLab, the
server) keeps such a value as a string until the extension loads; traitlets' own `List` then
kept the whole string as one user named `["bob","carol"]`. Here the string is parsed.

Every name must be a user (or group) name as the service accepts them (`model.NAME_PATTERN`:
no spaces, brackets, quotes or commas). A bad value is a `BadShareConfiguration`: the CLI
reports it as a usage error; a server stops with the message instead of starting without the
extension (jupyter_server logs an extension's errors and goes on, which would leave a server
that looks fine and shares nothing).
"""

from __future__ import annotations

import ast
import json
from typing import Any

from traitlets import Dict, List, TraitError, Unicode

from .model import NAME_PATTERN

EXAMPLE_USERS = (
    """--ShareApp.users=bob --ShareApp.users=carol, or --ShareApp.users='["bob","carol"]'"""
)
EXAMPLE_GROUPS = """--ShareApp.groups='{"class-2026": ["bob","carol"]}'"""


class BadShareConfiguration(SystemExit):
    """A configuration value the extension cannot start with.

    A `SystemExit` (with its message as the code: Python prints it and exits with status 1)
    because jupyter_server catches every `Exception` of an extension and starts without it."""

    def __init__(self, message: str):
        super().__init__(f"jupyter_share: bad configuration: {message}")
        self.message = message


def _parse_literal(text: str) -> Any:
    """A JSON value, else a Python literal (`['bob']`), else None."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _looks_like(text: str, opening: str, closing: str) -> bool:
    text = text.strip()
    return text.startswith(opening) and text.endswith(closing)


def check_name(
    trait_name: str | None, value: Any, what: str = "user", example: str = EXAMPLE_USERS
) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise BadShareConfiguration(
            f"ShareApp.{trait_name}: {value!r} is not a {what} name (letters, digits and . _ @ + -, "
            f"at most 128; no spaces, brackets, quotes or commas). Give names as {example}"
        )
    return value


class UserNames(List):
    """A list of user names: repeated options, a JSON or Python list, or one name."""

    def __init__(self, default_value: Any = (), **kwargs: Any):
        super().__init__(Unicode(), default_value=list(default_value), **kwargs)

    def _parse(self, text: str) -> Any:
        if _looks_like(text, "[", "]"):
            parsed = _parse_literal(text)
            if isinstance(parsed, (list, tuple)):
                return list(parsed)
            raise BadShareConfiguration(
                f"ShareApp.{self.name}: {text!r} is not a list of names. Give names as {EXAMPLE_USERS}"
            )
        return [text]

    def from_string(self, s: str) -> Any:
        return self._parse(s)

    def from_string_list(self, s_list: list[str]) -> Any:
        names: list = []
        for text in s_list:
            names.extend(self._parse(text))
        return names

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, str):  # a value that reached the trait unparsed
            value = self._parse(value)
        if isinstance(value, (list, tuple)):
            for name in value:
                check_name(self.name, name)
        try:
            return super().validate(obj, value)
        except TraitError as e:
            raise BadShareConfiguration(f"ShareApp.{self.name}: {e}") from None


class GroupMembers(Dict):
    """`{group: [user, ...]}`: a JSON or Python dict, or repeated `GROUP=MEMBERS` options where
    MEMBERS is one name or a list as `UserNames` takes it."""

    def __init__(self, default_value: Any = None, **kwargs: Any):
        super().__init__(
            value_trait=List(Unicode()), default_value=dict(default_value or {}), **kwargs
        )

    def _parse_members(self, text: str) -> list:
        if _looks_like(text, "[", "]"):
            parsed = _parse_literal(text)
            if isinstance(parsed, (list, tuple)):
                return list(parsed)
        return [text]

    def _parse(self, text: str) -> dict:
        if _looks_like(text, "{", "}"):
            parsed = _parse_literal(text)
            if isinstance(parsed, dict):
                return parsed
        elif "=" in text:
            group, _, members = text.partition("=")
            return {group.strip(): self._parse_members(members.strip())}
        raise BadShareConfiguration(
            f"ShareApp.{self.name}: {text!r} is not GROUP=[MEMBERS] or a dict. Give groups as {EXAMPLE_GROUPS}"
        )

    def from_string(self, s: str) -> Any:
        return self._parse(s)

    def from_string_list(self, s_list: list[str]) -> Any:
        combined: dict = {}
        for text in s_list:
            for group, members in self._parse(text).items():
                combined.setdefault(group, []).extend(
                    m for m in members if m not in combined.get(group, [])
                )
        return combined

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, str):
            value = self._parse(value)
        if isinstance(value, dict):
            for group, members in value.items():
                check_name(self.name, group, "group", EXAMPLE_GROUPS)
                if isinstance(members, str):
                    members = self._parse_members(members)
                    value = {**value, group: members}
                if not isinstance(members, (list, tuple)):
                    raise BadShareConfiguration(
                        f"ShareApp.{self.name}: the members of {group!r} are not a list. Give groups as {EXAMPLE_GROUPS}"
                    )
                for member in members:
                    check_name(self.name, member, "user", EXAMPLE_GROUPS)
        try:
            return super().validate(obj, value)
        except TraitError as e:
            raise BadShareConfiguration(f"ShareApp.{self.name}: {e}") from None
