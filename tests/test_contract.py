"""The contract declared once (jupyter_share/contract): the shipped openapi.yaml is what the
models and the table of operations generate, every route the server has is described, and the
models refuse bad bodies in the API's words (field and message), never with pydantic's.

In-process, no server: the fast tier.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import jupyter_share
from jupyter_share import contract
from jupyter_share.contract import answers, bodies, openapi
from jupyter_share.handlers import ENDPOINTS
from jupyter_share.model import InvalidInput

SPEC_PATH = Path(jupyter_share.__file__).parent / "openapi.yaml"


def test_the_shipped_description_is_the_generated_one():
    """openapi.yaml is generated: edit the models or contract/paths, then run the command."""
    assert SPEC_PATH.read_text() == openapi.render(), (
        "jupyter_share/openapi.yaml is out of date: run "
        "`python -m jupyter_share.contract.openapi > jupyter_share/openapi.yaml`"
    )


def _template(route: str) -> str:
    """A handler's route as a description's path template (`/{kind}/{id}/grants`)."""
    names = iter(["id", "principal"])
    out = route.replace("(images|formations|sessions)", "{kind}").replace("(sessions)", "sessions")
    return re.sub(r"\(\[\^/\]\+\)", lambda _: "{" + next(names) + "}", out)


def test_every_route_of_the_server_is_described():
    spec = yaml.safe_load(SPEC_PATH.read_text())
    described = {re.sub(r"\{\w+\}", "{}", p) for p in spec["paths"]}
    for route, _endpoint in ENDPOINTS:
        if route == r"/.*":  # what no route matched: a JSON 404
            continue
        template = re.sub(r"\{\w+\}", "{}", _template(route))
        assert template in described, route


def test_every_schema_the_operations_name_is_a_model_and_nothing_is_left_inline():
    spec = openapi.describe()
    names = set(spec["components"]["schemas"])
    for model in [*openapi.BODIES, *answers.MODELS]:
        assert model.__name__ in names
    for item in spec["paths"].values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for media in op.get("requestBody", {}).get("content", {}).values():
                options = media["schema"].get("oneOf", [media["schema"]])
                assert all("$ref" in o for o in options), op["operationId"]


@pytest.mark.parametrize(
    "model,body,field,message",
    [
        (bodies.GrantRequest, None, "body", "the body must be a JSON object"),
        (bodies.GrantRequest, {}, "permission", "permission is required: view, edit or manage"),
        (
            bodies.GrantRequest,
            {"permission": "view", "role": "x"},
            "role",
            "unknown field 'role' in the body: allowed are expires_at, permission",
        ),
        (
            bodies.GrantRequest,
            {"permission": "owner"},
            "permission",
            "nobody can be granted more than 'manage'",
        ),
        (
            bodies.GrantRequest,
            {"permission": "view", "expires_at": 7},
            "expires_at",
            "expires_at must be an ISO 8601 date-time string or null",
        ),
        (
            bodies.ImageCreate,
            {"name": "x", "spec": {"environment": {"packages": [{"name": "six"}]}}},
            "spec.environment.packages[0].version",
            "spec.environment.packages[0] needs 'version' (a string)",
        ),
        (
            bodies.ImageCreate,
            {"name": "x", "spec": {"reference": "busybox", "size": 3}},
            "size",
            "unknown field 'size' in the spec: allowed are environment, reference",
        ),
        (
            bodies.ImageCreate,
            {"name": "x"},
            "spec",
            'an image needs spec.reference (registry/name:tag) or "capture": true',
        ),
        (
            bodies.FormationCreate,
            {"name": "f", "spec": {"image": "busybox", "env": {"GOOD": 1}}},
            "spec.env.GOOD",
            "spec.env.GOOD must be a string",
        ),
        (
            bodies.FormationCreate,
            {"name": "f", "spec": {"image": "busybox", "storage": [{"mount_path": "d"}]}},
            "spec.storage[0].mount_path",
            "spec.storage[0].mount_path must be an absolute path",
        ),
        (
            bodies.FormationCreate,
            {"name": "f", "spec": {"cpu": 2}},
            "spec.image",
            "a formation needs spec.image: an image id or a reference",
        ),
        (
            bodies.ImageCreate,
            {"name": "x", "description": "a\x00b", "spec": {"reference": "busybox"}},
            "description",
            "description must not contain NUL characters",
        ),
        (bodies.DecisionRequest, {"decision": "maybe"}, "decision", None),
        (bodies.UseImageRequest, {"x": 1}, "x", None),
    ],
)
def test_refusals_name_the_field_in_the_apis_words(model, body, field, message):
    with pytest.raises(InvalidInput) as refused:
        contract.parse(model, body, context={"is_image_id": lambda v: None})
    assert refused.value.field == field
    if message is not None:
        assert refused.value.message == message
    assert "pydantic" not in refused.value.message and "{" not in refused.value.message


def test_a_valid_spec_keeps_what_was_sent():
    spec = {
        "image": "busybox",
        "cpu": 2,
        "memory": "4G",
        "gpu": 1,
        "storage": [{"mount_path": "/d", "size": None}],
        "env": {"A": "b"},
        "start_url": "/lab",
    }
    parsed = contract.parse(bodies.FormationCreate, {"name": " f ", "spec": spec})
    assert parsed.name == "f" and parsed.description == ""
    assert parsed.spec.model_dump(exclude_unset=True) == spec
    assert isinstance(parsed.spec.cpu, int)  # a whole number stays one


def test_refusals_of_any_json_never_escape_as_another_error():
    """Whatever JSON arrives, a body is parsed or refused with InvalidInput (a 400)."""
    samples = [None, 0, 1.5, "x", [], [1], {}, {"name": None}, {"name": "x", "spec": []}]
    samples += [{"name": "x", "spec": {"environment": v}} for v in (None, 1, [], {"conda": 1})]
    samples += [{"permission": v} for v in (None, [], {}, 1.5, True)]
    for model in openapi.BODIES:
        for body in samples:
            try:
                contract.parse(model, body)
            except InvalidInput:
                pass
