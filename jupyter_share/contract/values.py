"""The values of the request bodies: each constrained value a type whose validator words its
refusal (`{field}` becomes the field's path, e.g. `spec.storage[0].size`), with the constraint
the description shows declared beside it, from the same constant. The bodies that use them
are in `contract.bodies`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from ..model import Permission

MAX_NAME = 128
MAX_DESCRIPTION = 4096
MAX_SPEC_BYTES = 64 * 1024
MAX_CPU = 1024
MAX_REQUEST_MESSAGE = 1000
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A container image reference, as the OCI distribution spec and docker accept them.
_REFERENCE = re.compile(
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
#: A size (memory, storage): `512M`, `4G`, `1.5Gi` or bytes (openapi.yaml has the same pattern).
_QUANTITY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:[KMGTP]i?)?$")
#: A unit's bytes: powers of 1024, with or without the `i`, as JupyterHub's `mem_limit` reads them.
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def refuse(message: str, **context: Any) -> PydanticCustomError:
    """A refusal in the API's words; `{field}` in `message` is the field's path."""
    return PydanticCustomError("jupyter_share", message, context or None)


# -- values ------------------------------------------------------------------------------------


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse("{field} must be a string")
    value = value.strip()
    if not value:
        raise refuse("{field} must not be empty")
    if len(value) > MAX_NAME:
        raise refuse(f"{{field}} is longer than {MAX_NAME} characters")
    if _CONTROL.search(value):
        raise refuse("{field} must not contain control characters")
    return value


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise refuse("{field} must be a string")
    if len(value) > MAX_DESCRIPTION:
        raise refuse(f"{{field}} is longer than {MAX_DESCRIPTION} characters")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise refuse("{field} must be true or false")
    return value


def _reference(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 512 or not _REFERENCE.match(value):
        raise refuse("{field} must be a container image reference like registry/name:tag")
    return value


def _text(max_len: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > max_len:
            raise refuse(f"{{field}} must be a string of at most {max_len} characters")
        return value

    return check


#: The refusal of an item's required text that is missing, null or empty.
NEEDS = "{parent} needs '{name}' (a string)"


def _needed(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise refuse(NEEDS)
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse("{field} must be a string")
    return value


def _positive_number(high: float) -> Callable[[Any], float | int]:
    def check(value: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise refuse("{field} must be a number")
        # Compare before isfinite: a huge int overflows a float conversion.
        if not 0 < value <= high or not math.isfinite(value):
            raise refuse(f"{{field}} must be above 0 and at most {high:g}")
        return value

    return check


def quantity_bytes(value: Any) -> int | None:
    """The bytes of a size (`_QUANTITY`), or None if `value` is not one."""
    if not isinstance(value, str) or not _QUANTITY.match(value):
        return None
    number = value.removesuffix("i").rstrip("KMGTP")
    return int(Decimal(number) * _UNITS[value[len(number) : len(number) + 1]])


def _quantity(value: Any) -> str:
    if not isinstance(value, str) or not _QUANTITY.match(value):
        raise refuse("{field} must be a size like 512M, 4G or 1.5Gi")
    return value


def _gpu(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 64:
        raise refuse("{field} must be a whole number from 0 to 64")
    return value


def _mount_path(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise refuse(NEEDS)
    if not value.startswith("/"):
        raise refuse("{field} must be an absolute path")
    return value


def _env(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise refuse("{field} must be an object of strings")
    for key, val in value.items():
        if not _ENV_NAME.match(key):
            raise refuse(f"{{field}}: {key!r} is not a valid variable name")
        if not isinstance(val, str):
            raise refuse("{field} must be a string", at=key)
    return value


def _start_url(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value.startswith("/")
        or value.startswith("//")
        or len(value) > 2048
    ):
        raise refuse("{field} must be a path on the server, like /lab")
    return value


def _strings(value: Any) -> list[str]:
    if not (isinstance(value, list) and all(isinstance(c, str) for c in value)):
        raise refuse("{field} must be a list of strings")
    return value


def _list(value: Any) -> Any:
    if not isinstance(value, list):
        raise refuse("{field} must be a list")
    return value


def _permission(value: Any) -> str:
    return Permission.parse(value).label  # its refusals are InvalidInput: see _permission_of


def _permission_of(value: Any) -> str:
    try:
        return _permission(value)
    except Exception as e:  # InvalidInput: the model's words, at this field
        raise refuse(str(getattr(e, "message", e))) from None


def _expires_at(value: Any, info: ValidationInfo) -> datetime | None:
    """ISO 8601 with a zone (a naive one is taken as UTC); must be in the future."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise refuse("{field} must be an ISO 8601 date-time string or null")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise refuse(
            f"{{field}} {value!r} is not an ISO 8601 date-time (e.g. 2030-01-31T12:00:00Z)"
        ) from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise refuse("{field} is out of range") from None
    now = (info.context or {}).get("now")
    if now is not None and parsed <= now:
        raise refuse("{field} is in the past")
    return parsed


def _message(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise refuse("{field} must be a string")
    value = value.strip()
    if len(value) > MAX_REQUEST_MESSAGE:
        raise refuse(f"{{field}} is longer than {MAX_REQUEST_MESSAGE} characters")
    return value


def _decision(value: Any) -> str:
    if value not in ("approve", "deny"):
        raise refuse("{field} is required: approve or deny")
    return value


# The constraints (Field) come before the validator: pydantic's schema keeps them so; the
# validator, outermost, runs first and words the refusal.
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_NAME,
        pattern=r"\S",
        description="Unique per owner and kind; no control characters; leading and trailing "
        "blanks are dropped.",
    ),
    BeforeValidator(_name),
]
Description = Annotated[
    str,
    # null is taken for "" (the schema says so: generated clients may send it).
    Field(max_length=MAX_DESCRIPTION, json_schema_extra={"nullable": True}),
    BeforeValidator(_description),
]
Reference = Annotated[
    str,
    Field(
        max_length=512,
        pattern=_REFERENCE.pattern,
        description="A container image reference, like `docker.io/library/python:3.12`.",
        examples=["docker.io/library/python:3.12"],
    ),
    BeforeValidator(_reference),
]
Quantity = Annotated[
    str, Field(pattern=_QUANTITY.pattern, examples=["4G"]), BeforeValidator(_quantity)
]
Text = Annotated[str, Field(max_length=1024), BeforeValidator(_text(1024))]
#: A string or null.
OptionalText = Annotated[str, BeforeValidator(_string)] | None
#: Optional, but not null when given: pydantic leaves a default unchecked, a null is refused.
ABSENT: Any = Field(default=None)


def absent(description: str, format: str | None = None) -> Any:
    """`ABSENT`, described (and its string's format)."""
    extra: Any = {"format": format} if format else None
    return Field(default=None, description=description, json_schema_extra=extra)


# -- query parameters --------------------------------------------------------------------------


def page(offset: Any, limit: Any) -> tuple[int, int]:
    """`offset` and `limit` of a list's query (`0` and `DEFAULT_LIMIT` when not given)."""

    def number(value: Any, field: str, default: int, low: int, high: int) -> int:
        from ..model import InvalidInput

        if value is None or value == "":
            return default
        try:
            # Plain ASCII digits: int() alone also takes " 1", "1_0" and other scripts' digits.
            if isinstance(value, str) and not _WHOLE_NUMBER.fullmatch(value):
                raise ValueError(value)
            result = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{field} must be a whole number", field=field) from None
        if not low <= result <= high:
            raise InvalidInput(f"{field} must be between {low} and {high}", field=field)
        return result

    return (
        number(offset, "offset", 0, 0, 2**62),
        number(limit, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
    )
