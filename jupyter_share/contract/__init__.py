"""The REST API's contract, declared once (docs/architecture.md, "The contract").

- `bodies`: the request bodies as pydantic models, of the values in `values`; the service
  validates what clients send with them (`parse`).
- `answers`: the answers as pydantic models, for the description only (the serializers in
  `serialize` build them).
- `openapi`: the OpenAPI description, generated from both and the table of operations
  (`python -m jupyter_share.contract.openapi > jupyter_share/openapi.yaml`); the
  extension's TypeScript types are generated from that file.

`parse` is the one place where pydantic's refusals become the API's: an `InvalidInput` with
the field at fault and the message the model's validators give, or one of the few below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..model import InvalidInput

M = TypeVar("M", bound=BaseModel)

_SURROGATE = re.compile("[\ud800-\udfff]")


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


def field_path(loc: tuple[int | str, ...], where: str = "body") -> str:
    """`("spec", "storage", 0, "size")` as the API names it: `spec.storage[0].size`."""
    path = "" if where == "body" else where
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path or where


def parse(
    model: type[M], body: Any, where: str = "body", context: Mapping[str, Any] | None = None
) -> M:
    """`body` validated by `model`, or `InvalidInput` naming the field at fault.

    The text check comes first (it covers the whole value, known fields or not), then unknown
    fields (as before the models: a body with a typo is refused for the typo), then the first
    refusal in the model's order."""
    no_nul(body, where)
    try:
        return model.model_validate(body, strict=True, context=dict(context or {}))
    except ValidationError as e:
        raise _refusal(model, e, where) from None


def _refusal(model: type[BaseModel], error: ValidationError, where: str) -> InvalidInput:
    errors = error.errors(include_url=False)
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    first = extra[0] if extra else errors[0]
    loc = tuple(first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        # The object's own fields, at the object the unknown field is in.
        owner = field_path(loc[:-1], where)
        allowed = _fields_at(model, loc[:-1])
        return InvalidInput(
            f"unknown field {loc[-1]!r} in the {owner}: allowed are {', '.join(allowed)}",
            field=str(loc[-1]),
        )
    ctx = first.get("ctx") or {}
    if "at" in ctx:  # a validator of a whole object names the entry at fault
        loc = (*loc, str(ctx["at"]))
    field = field_path(loc, where)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return InvalidInput(f"the {field} must be a JSON object", field=field)
    if kind == "missing":
        message = str(
            getattr(model, "missing", {}).get(field)
            or getattr(_model_at(model, loc[:-1]), "needs", "{field} is required")
        )
        return InvalidInput(_words(message, loc, where), field=field)
    if kind == "jupyter_share":
        return InvalidInput(_words(first["msg"], loc, where), field=field)
    # A refusal of pydantic's own that no validator words (a wrong type inside a union, say).
    return InvalidInput(f"{field} is not valid: {first['msg']}", field=field)


def _words(message: str, loc: tuple[int | str, ...], where: str) -> str:
    """A validator's message with its places filled: `{field}` the field's path, `{parent}` the
    object's it is in, `{name}` its own name."""
    return (
        message.replace("{field}", field_path(loc, where))
        .replace("{parent}", field_path(loc[:-1], where))
        .replace("{name}", str(loc[-1]) if loc else where)
    )


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model at `loc` in `model`, sorted."""
    found = _model_at(model, loc)
    return sorted(found.model_fields) if found is not None else []


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> Any:
    """The model at `loc` in `model` (lists and optional values stepped through), or None."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part) if _is_model(current) else None
        if info is None:
            return []
        current = _inner_model(info.annotation)
    return current if _is_model(current) else None


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _inner_model(annotation: Any) -> Any:
    if _is_model(annotation):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and hasattr(annotation, "__metadata__"):  # Annotated
        return _inner_model(origin)
    return None
