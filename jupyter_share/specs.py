"""Validation of request bodies and resource specs, for the service.

Each function takes what a client sent and returns a clean value or raises `InvalidInput`
naming the field. No I/O; resolving an image id is the service's, which passes `is_image_id`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from .model import InvalidInput

MAX_NAME = 128
MAX_DESCRIPTION = 4096
MAX_SPEC_BYTES = 64 * 1024
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
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


def no_nul(value: Any, field: str = "body") -> Any:
    """Refuse NUL characters anywhere in a JSON value (PostgreSQL cannot store them), and lone
    surrogates (JSON's "\\ud800" escapes decode to text that no database driver can encode)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(f"{field} must not contain NUL characters", field=field)
        if _SURROGATE.search(value):
            raise InvalidInput(
                f"{field} must be valid Unicode text (it has a lone surrogate)", field=field
            )
    elif isinstance(value, dict):
        for key, sub in value.items():
            no_nul(key, field)
            no_nul(sub, f"{field}.{key}" if field != "body" else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            no_nul(sub, f"{field}[{i}]")
    return value


def check_fields(body: Any, allowed: set[str], where: str = "body") -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"the {where} must be a JSON object", field=where)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(
            f"unknown field {unknown[0]!r} in the {where}: allowed are {', '.join(sorted(allowed))}",
            field=unknown[0],
        )
    return body


def name(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("name must be a string", field="name")
    value = value.strip()
    if not value:
        raise InvalidInput("name must not be empty", field="name")
    if len(value) > MAX_NAME:
        raise InvalidInput(f"name is longer than {MAX_NAME} characters", field="name")
    if _CONTROL.search(value):
        raise InvalidInput("name must not contain control characters", field="name")
    return value


def description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("description must be a string", field="description")
    if len(value) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"description is longer than {MAX_DESCRIPTION} characters", field="description"
        )
    return value


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false", field=field)
    return value


def expires_at(value: Any, now: datetime) -> datetime | None:
    """ISO 8601 with a zone (a naive one is taken as UTC); must be in the future."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(
            "expires_at must be an ISO 8601 date-time string or null", field="expires_at"
        )
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"expires_at {value!r} is not an ISO 8601 date-time (e.g. 2030-01-31T12:00:00Z)",
            field="expires_at",
        ) from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise InvalidInput("expires_at is out of range", field="expires_at") from None
    if parsed <= now:
        raise InvalidInput("expires_at is in the past", field="expires_at")
    return parsed


def page(offset: Any, limit: Any) -> tuple[int, int]:
    def number(value: Any, field: str, default: int, low: int, high: int) -> int:
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


def reference(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > 512 or not _REFERENCE.match(value):
        raise InvalidInput(
            f"{field} must be a container image reference like registry/name:tag", field=field
        )
    return value


def _spec_size(spec: Any) -> None:
    try:
        size = len(json.dumps(spec, allow_nan=False, separators=(",", ":")).encode())
    except ValueError:
        raise InvalidInput("spec must be plain JSON (no NaN or Infinity)", field="spec") from None
    if size > MAX_SPEC_BYTES:
        raise InvalidInput(
            f"spec is larger than {MAX_SPEC_BYTES // 1024} KiB ({size} bytes)", field="spec"
        )


def _string(value: Any, field: str, max_len: int = 1024) -> str:
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidInput(f"{field} must be a string of at most {max_len} characters", field=field)
    return value


def _list_of_objects(value: Any, field: str, allowed: set[str], required: set[str]) -> list:
    if not isinstance(value, list):
        raise InvalidInput(f"{field} must be a list", field=field)
    for i, item in enumerate(value):
        check_fields(item, allowed, where=f"{field}[{i}]")
        for key in required:
            if not isinstance(item.get(key), str) or not item[key]:
                raise InvalidInput(
                    f"{field}[{i}] needs {key!r} (a string)", field=f"{field}[{i}].{key}"
                )
        for key, sub in item.items():
            if sub is not None and not isinstance(sub, str):
                raise InvalidInput(
                    f"{field}[{i}].{key} must be a string", field=f"{field}[{i}].{key}"
                )
    return value


def environment(value: Any) -> dict:
    """A captured environment, as `capture.capture_environment` makes it."""
    env = check_fields(
        value,
        {"python", "platform", "packages", "conda", "kernelspecs", "captured_at"},
        "spec.environment",
    )
    for key in ("python", "platform", "captured_at"):
        if key in env:
            _string(env[key], f"spec.environment.{key}")
    if "packages" in env:
        _list_of_objects(
            env["packages"],
            "spec.environment.packages",
            {"name", "version", "source"},
            {"name", "version"},
        )
    if env.get("conda") is not None:
        conda = check_fields(
            env["conda"], {"name", "prefix", "channels", "packages"}, "spec.environment.conda"
        )
        for key in ("name", "prefix"):
            if key in conda:
                _string(conda[key], f"spec.environment.conda.{key}")
        if "channels" in conda and not (
            isinstance(conda["channels"], list)
            and all(isinstance(c, str) for c in conda["channels"])
        ):
            raise InvalidInput(
                "spec.environment.conda.channels must be a list of strings",
                field="spec.environment.conda.channels",
            )
        if "packages" in conda:
            _list_of_objects(
                conda["packages"],
                "spec.environment.conda.packages",
                {"name", "version", "build", "channel"},
                {"name", "version"},
            )
    if "kernelspecs" in env:
        _list_of_objects(
            env["kernelspecs"],
            "spec.environment.kernelspecs",
            {"name", "display_name", "language"},
            {"name"},
        )
    return dict(env)


def image_spec(value: Any, *, captured: bool = False) -> dict:
    spec = dict(check_fields({} if value is None else value, {"reference", "environment"}, "spec"))
    _spec_size(spec)
    if "reference" in spec:
        reference(spec["reference"], "spec.reference")
    if "environment" in spec:
        spec["environment"] = environment(spec["environment"])
    if not captured and not spec.get("reference") and not spec.get("environment"):
        raise InvalidInput(
            'an image needs spec.reference (registry/name:tag) or "capture": true', field="spec"
        )
    return spec


def _positive_number(value: Any, field: str, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{field} must be a number", field=field)
    # Compare before isfinite: a huge int overflows a float conversion.
    if not 0 < value <= high or not math.isfinite(value):
        raise InvalidInput(f"{field} must be above 0 and at most {high:g}", field=field)
    return value


def quantity_bytes(value: Any) -> int | None:
    """The bytes of a size (`_QUANTITY`), or None if `value` is not one."""
    if not isinstance(value, str) or not _QUANTITY.match(value):
        return None
    number = value.removesuffix("i").rstrip("KMGTP")
    return int(Decimal(number) * _UNITS[value[len(number) : len(number) + 1]])


def _quantity(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _QUANTITY.match(value):
        raise InvalidInput(f"{field} must be a size like 512M, 4G or 1.5Gi", field=field)
    return value


def formation_spec(value: Any, is_image_id: Callable[[str], bool | None]) -> dict:
    """`is_image_id(v)`: True for an image the caller sees, False for another resource id,
    None when `v` is no resource id."""
    spec = dict(
        check_fields(
            value, {"image", "cpu", "memory", "gpu", "storage", "env", "start_url"}, "spec"
        )
    )
    _spec_size(spec)
    if "image" not in spec:
        raise InvalidInput(
            "a formation needs spec.image: an image id or a reference", field="spec.image"
        )
    image = spec["image"]
    # An existing resource id must be an image the caller sees; anything else is a reference.
    known = is_image_id(image) if isinstance(image, str) else False
    if (
        not isinstance(image, str)
        or known is False
        or (known is None and not _REFERENCE.match(image))
    ):
        raise InvalidInput(
            "spec.image must be the id of an image you can see or a reference like registry/name:tag",
            field="spec.image",
        )
    if "cpu" in spec:
        _positive_number(spec["cpu"], "spec.cpu", 1024)
    if "memory" in spec:
        _quantity(spec["memory"], "spec.memory")
    if "gpu" in spec:
        gpu = spec["gpu"]
        if isinstance(gpu, bool) or not isinstance(gpu, int) or not 0 <= gpu <= 64:
            raise InvalidInput("spec.gpu must be a whole number from 0 to 64", field="spec.gpu")
    if "storage" in spec:
        mounts = _list_of_objects(
            spec["storage"], "spec.storage", {"name", "mount_path", "size"}, {"mount_path"}
        )
        for i, mount in enumerate(mounts):
            if not mount["mount_path"].startswith("/"):
                raise InvalidInput(
                    f"spec.storage[{i}].mount_path must be an absolute path",
                    field=f"spec.storage[{i}].mount_path",
                )
            if mount.get("size") is not None:
                _quantity(mount["size"], f"spec.storage[{i}].size")
    if "env" in spec:
        env = spec["env"]
        if not isinstance(env, dict):
            raise InvalidInput("spec.env must be an object of strings", field="spec.env")
        for key, val in env.items():
            if not _ENV_NAME.match(key):
                raise InvalidInput(
                    f"spec.env: {key!r} is not a valid variable name", field="spec.env"
                )
            if not isinstance(val, str):
                raise InvalidInput(f"spec.env.{key} must be a string", field=f"spec.env.{key}")
    if "start_url" in spec:
        url = spec["start_url"]
        if (
            not isinstance(url, str)
            or not url.startswith("/")
            or url.startswith("//")
            or len(url) > 2048
        ):
            raise InvalidInput(
                "spec.start_url must be a path on the server, like /lab", field="spec.start_url"
            )
    return spec
