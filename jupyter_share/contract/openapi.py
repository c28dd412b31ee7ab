"""The OpenAPI description of the REST API, generated: `jupyter_share/openapi.yaml` is this
module's output, never edited by hand.

    python -m jupyter_share.contract.openapi > jupyter_share/openapi.yaml

The schemas come from the models (`bodies`, `answers`), the operations from the tables in
`contract.paths`. pydantic writes JSON Schema 2020-12; the description is OpenAPI 3.0 (what
the fuzzing and the TypeScript generator read best), so `nullable` stands for a union with
null. `.ci/run` and tests/test_contract.py regenerate it and fail on a difference.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from . import answers, bodies
from .paths import common, environments, grants, launch, requests, resources

#: The request bodies the description names.
BODIES: list[type[BaseModel]] = [
    bodies.ImageCreate,
    bodies.FormationCreate,
    bodies.ImageUpdate,
    bodies.FormationUpdate,
    bodies.SessionUpdate,
    bodies.GrantRequest,
    bodies.AccessRequestCreate,
    bodies.DecisionRequest,
    bodies.UseImageRequest,
    bodies.LaunchRequest,
    bodies.StopRequest,
]

#: Values that have a schema of their own, referred to wherever a field has them.
NAMED_VALUES: dict[str, Any] = {
    "Name": bodies.Name,
    "Description": bodies.Description,
    "ResourceUpdate": bodies.ResourceUpdate,
}

REF = "#/components/schemas/{model}"


def _openapi30(schema: Any) -> Any:
    """A JSON Schema 2020-12 as OpenAPI 3.0 writes it."""
    if isinstance(schema, list):
        return [_openapi30(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _openapi30(v) for k, v in schema.items() if k != "title"}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if options and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del out[key]
            one = rest[0] if len(rest) == 1 else {key: rest}
            if "$ref" in one:  # 3.0 ignores what stands beside a $ref
                one = {"allOf": [one]}
            out = {**one, **out, "nullable": True}
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
    if "examples" in out:
        out["example"] = out.pop("examples")[0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("exclusiveMinimum"), (int, float)) and not isinstance(
        out.get("exclusiveMinimum"), bool
    ):
        out["minimum"], out["exclusiveMinimum"] = out["exclusiveMinimum"], True
    if "default" in out and out["default"] is None:  # absent is the same as null
        del out["default"]
    return out


def _named(schema: Any, named: dict[str, dict[str, Any]]) -> Any:
    """Refer to a named value's schema wherever a field's schema is that value's."""
    if isinstance(schema, list):
        return [_named(s, named) for s in schema]
    if not isinstance(schema, dict):
        return schema
    for name, value in named.items():
        own = {k: v for k, v in schema.items() if k not in ("default", "description")}
        if own == {k: v for k, v in value.items() if k != "description"}:
            extra = {
                k: v
                for k, v in schema.items()
                if k in ("default", "description") and value.get(k) != v
            }
            ref = {"$ref": REF.format(model=name)}
            return {"allOf": [ref], **extra} if extra else ref
    return {k: _named(v, named) for k, v in schema.items()}


def _nullable_refs(schema: Any, found: dict[str, Any]) -> Any:
    """A nullable reference as 3.0 validators read it: the model's schema inline, nullable
    (beside `allOf` they would not let null through a schema that is not nullable itself)."""
    if isinstance(schema, list):
        return [_nullable_refs(s, found) for s in schema]
    if not isinstance(schema, dict):
        return schema
    all_of = schema.get("allOf")
    if schema.get("nullable") and isinstance(all_of, list) and len(all_of) == 1:
        name = all_of[0].get("$ref", "").rsplit("/", 1)[-1]
        if name in found:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return _nullable_refs({**found[name], **rest}, found)
    return {k: _nullable_refs(v, found) for k, v in schema.items()}


def schemas() -> dict[str, Any]:
    """The components' schemas: every model's, and the named values'."""
    models = [*BODIES, *answers.MODELS]
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    found: dict[str, Any] = {k: _openapi30(v) for k, v in top.get("$defs", {}).items()}
    named = {
        name: _openapi30(
            {
                k: v
                for k, v in TypeAdapter(value).json_schema(ref_template=REF).items()
                if k != "$defs"  # the models', which are above
            }
        )
        for name, value in NAMED_VALUES.items()
    }
    found = {k: _named(v, named) for k, v in found.items()}
    found = {k: _nullable_refs(v, found) for k, v in found.items()}
    return {**found, **named}


def describe() -> dict[str, Any]:
    """The whole description, as a dict."""
    head = common.INFO
    paths: dict[str, Any] = {}
    for table in (
        resources.PATHS,
        grants.PATHS,
        requests.PATHS,
        environments.PATHS,
        launch.PATHS,
    ):
        paths.update(table)
    order = [
        "/me",
        "/directory",
        "/shared-with-me",
        "/{kind}",
        "/{kind}/{id}",
        "/{kind}/{id}/grants",
        "/{kind}/{id}/grants/{principal}",
        "/{kind}/{id}/grants/{principal}/link",
        "/{kind}/{id}/history",
        "/requests",
        "/{kind}/{id}/requests",
        "/{kind}/{id}/requests/{requester}",
        "/sessions/{id}/guests",
        "/images/{id}/environment",
    ]
    paths = {
        **{p: paths[p] for p in order if p in paths},
        **{p: v for p, v in paths.items() if p not in order},
    }
    found = schemas()
    description = {
        "openapi": "3.0.3",
        **head,
        "paths": paths,
        **common.EXTRA_PATHS,
        "components": {
            "securitySchemes": common.SECURITY_SCHEMES,
            "parameters": common.PARAMETERS,
            "responses": common.RESPONSES,
            "schemas": found,
        },
    }
    missing = sorted(_refs(description) - {REF.format(model=name) for name in found})
    missing = [m for m in missing if m.startswith("#/components/schemas/")]
    if missing:
        raise ValueError(f"operations refer to schemas no model declares: {missing}")
    return description


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        own = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        return own.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


HEADER = """\
# GENERATED by `python -m jupyter_share.contract.openapi > jupyter_share/openapi.yaml`
# from the models in jupyter_share/contract: do not edit by hand (.ci/run checks it).
"""


def render() -> str:
    """The description as the YAML file the package ships."""
    return HEADER + yaml.safe_dump(
        describe(), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
