"""How the client turns its arguments into the API's paths and values: resource paths, kinds,
history filters and expiry times."""

from __future__ import annotations

import datetime as _dt
from typing import Any
from urllib.parse import quote

from ..model import InvalidInput, Kind
from .errors import BadRequest

Resource = str | dict


def _resource_path(resource: Resource, kind: str | None = None) -> str:
    """`kind/id` of a resource given as "images/ID", "sessions/current", a bare id (when the
    kind is known) or a dict from the API."""
    if isinstance(resource, dict):
        rkind, rid = resource.get("kind"), resource.get("id")
        if not rkind or not rid:
            raise BadRequest(
                "a resource dict needs 'kind' and 'id', as the API answers it", field="resource"
            )
        text = f"{rkind}/{rid}"
    elif isinstance(resource, str):
        text = resource.strip().strip("/")
    else:
        raise BadRequest(
            f"resource must be 'images/ID', 'formations/ID', 'sessions/current' or a dict, not {type(resource).__name__}",
            field="resource",
        )
    head, sep, rid = text.partition("/")
    if not sep and kind:
        head, rid = kind, text
    try:
        plural = Kind.parse(head).plural
    except InvalidInput:
        plural = ""
    if not plural or not rid or "/" in rid:
        raise BadRequest(
            f"resource {text!r} is not 'images/ID', 'formations/ID' or 'sessions/current'",
            field="resource",
        )
    if kind and plural != kind:
        raise BadRequest(f"{text!r} is not one of {kind}", field="resource")
    return f"{plural}/{quote(rid, safe='')}"


def _history_filter(person: Any, action: Any) -> dict:
    def joined(value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value or None
        return ",".join(value) or None

    return {
        k: v for k, v in (("person", joined(person)), ("action", joined(action))) if v is not None
    }


def _kind(kind: str) -> str:
    try:
        return Kind.parse(kind).plural
    except InvalidInput as e:
        raise BadRequest(e.message, field=e.field) from None


def _iso(value: Any) -> Any:
    """An expiry as the API takes it: datetimes and dates become ISO 8601 (a naive datetime is
    local time, as Python's `datetime.now()` gives it; a date means the start of that day)."""
    if isinstance(value, _dt.datetime):
        return value.astimezone().isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, _dt.date):
        return _iso(_dt.datetime(value.year, value.month, value.day))
    return value
