"""The OpenAPI spec shipped in the package (`jupyter_share/openapi.yaml`) describes the REST API
exactly (docs/architecture.md, "Layers"): every route and method, and every answer the server gives.

The scenario drives the in-process server (alice's) through every path and method and validates
each real request and response against the spec with openapi-core: a response the spec does not
describe (an undocumented status code, a missing field, a wrong type, an extra field) fails.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_spec_validator import validate
from tornado import web
from werkzeug.datastructures import Headers, ImmutableMultiDict

import jupyter_share
from jupyter_share import service as service_module
from jupyter_share.contract import bodies as specs
from jupyter_share.handlers import API_PREFIX, handlers
from jupyter_share.model import HISTORY_ACTIONS, NAME_PATTERN, Kind, Permission

# Starts an in-process Jupyter server per test.
pytestmark = pytest.mark.slow

SPEC_PATH = Path(jupyter_share.__file__).parent / "openapi.yaml"
EVENT_SCHEMA_PATH = Path(jupyter_share.__file__).parent / "events" / "change.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
REFERENCE = "docker.io/library/python:3.12"

#: Documented answers the scenario below does not reach, and why. Keep it short and honest:
#: the coverage check fails for an entry that is reached or no longer documented. (401 is
#: reached by a request without credentials on every path and method.)
NOT_REACHED: dict[tuple[str, str, str], str] = {
    ("/{kind}", "post", "403"): "a cookie request without its XSRF token; test_api.py checks it",
    (
        "/{kind}/{id}/grants/{principal}/link",
        "post",
        "403",
    ): "a guest below manage asks; test_links.py checks it",
    **{
        (template, method, "403"): "a guest asks in the owner's container; test_use_image.py"
        for template, method in (
            ("/images/{id}/use", "get"),
            ("/images/{id}/use", "post"),
            ("/environments", "get"),
            ("/environments/{env}", "get"),
            ("/environments/{env}", "delete"),
            ("/environments/{env}/cancel", "post"),
            ("/environments/{env}/log", "get"),
        )
    },
    **{
        ("/formations/{id}/launch", "post", code): "a real launch: test_launch.py"
        for code in ("201", "202", "403", "409")
    },
    ("/sessions/{id}/stop", "post", "200"): "stopping a real launch: test_launch.py",
    ("/sessions/{id}/stop", "post", "403"): "someone else's container: test_launch.py",
    **{
        (template, method, "400"): "the Hub's share service: environments are built by a "
        "Jupyter server in its own container (test_hub_environments.py)"
        for template, method in (
            ("/environments", "get"),
            ("/environments/{env}", "get"),
            ("/environments/{env}", "delete"),
            ("/environments/{env}/cancel", "post"),
            ("/environments/{env}/log", "get"),
        )
    },
}


#: Answers under JupyterHub only: the share service or the Hub down (503) or refusing (502).
HUB_ONLY = {"502", "503"}


@pytest.fixture(scope="module")
def spec_dict() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    # openapi-core reads text/plain as a string; environment.yml and history.csv are text too.
    def decoded(value, **parameters):
        return value.decode(parameters.get("charset", "utf-8"))

    text = {"application/x-yaml": decoded, "text/csv": decoded}
    return OpenAPI.from_file_path(
        str(SPEC_PATH), config=Config(extra_media_type_deserializers=text)
    )


def operations(spec: dict):
    """(path template, method, operation) of every documented operation."""
    for template, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield template, method, item[method]


# -- the file itself -----------------------------------------------------------------------


def test_spec_is_valid_and_shipped_in_the_package(spec_dict):
    assert SPEC_PATH.is_file(), "openapi.yaml must live inside the jupyter_share package"
    validate(spec_dict)
    assert spec_dict["info"]["title"] == "jupyter_share REST API"
    assert str(spec_dict["info"]["version"]) == "1"
    assert [s["url"] for s in spec_dict["servers"]] == ["/" + API_PREFIX, "/services/share/api/v1"]
    schemes = spec_dict["components"]["securitySchemes"]
    assert schemes["token"] == {
        **schemes["token"],
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
    }
    assert schemes["cookie"]["type"] == "apiKey" and schemes["cookie"]["in"] == "cookie"
    for name in (
        "Resource",
        "Grant",
        "HistoryEntry",
        "Me",
        "Directory",
        "ResourcePage",
        "GrantList",
        "HistoryPage",
        "Error",
        "ImageSpec",
        "FormationSpec",
        "Environment",
    ):
        assert name in spec_dict["components"]["schemas"], name
    for template, method, op in operations(spec_dict):
        assert op.get("summary") and "\n" not in op["summary"].strip(), (method, template)
        assert op.get("x-permission") in ("signed-in", "view", "edit", "manage", "owner"), (
            method,
            template,
        )
        assert not op.get("security") == [], f"{method} {template} must not be public"


def test_spec_limits_and_enums_follow_the_code(spec_dict):
    """The numbers and patterns the spec promises are the ones the service enforces."""
    schemas, params = spec_dict["components"]["schemas"], spec_dict["components"]["parameters"]
    assert schemas["Name"]["maxLength"] == specs.MAX_NAME
    assert schemas["Description"]["maxLength"] == specs.MAX_DESCRIPTION
    assert params["limit"]["schema"]["maximum"] == specs.MAX_LIMIT
    assert params["limit"]["schema"]["default"] == specs.DEFAULT_LIMIT
    assert (
        params["principal"]["schema"]["pattern"]
        == "^(?:(?:user|group):)?" + NAME_PATTERN.pattern[1:]
    )
    assert schemas["ImageSpec"]["properties"]["reference"]["pattern"] == specs._REFERENCE.pattern
    assert schemas["FormationSpec"]["properties"]["memory"]["pattern"] == specs._QUANTITY.pattern
    assert params["kind"]["schema"]["enum"] == [k.plural for k in Kind]
    assert schemas["Resource"]["properties"]["kind"]["enum"] == [k.value for k in Kind]
    labels = [p.label for p in Permission]
    assert schemas["Grant"]["properties"]["permission"]["enum"] == labels
    assert schemas["GrantRequest"]["properties"]["permission"]["enum"] == labels
    assert set(schemas["Resource"]["properties"]["access"]["enum"]) == {*labels, "owner"}
    list_op = spec_dict["paths"]["/{kind}"]["get"]
    scope = next(p for p in list_op["parameters"] if p["name"] == "scope")
    assert tuple(scope["schema"]["enum"]) == service_module.SCOPES
    events = yaml.safe_load(EVENT_SCHEMA_PATH.read_text())
    # Every change is an event and a history row; a sign-in by link is a history row whose
    # event is the presence stream's (events/presence.yaml), not a change.
    history_actions = schemas["HistoryEntry"]["properties"]["action"]["enum"]
    assert [a for a in history_actions if a != "signin"] == events["properties"]["action"]["enum"]
    assert tuple(history_actions) == HISTORY_ACTIONS
    history_op = spec_dict["paths"]["/{kind}/{id}/history"]["get"]
    fmt = next(p for p in history_op["parameters"] if p.get("name") == "format")
    assert tuple(fmt["schema"]["enum"]) == service_module.HISTORY_FORMATS


# -- routes ----------------------------------------------------------------------------------


def implemented_methods(cls: type) -> set[str]:
    return {m for m in METHODS if getattr(cls, m) is not getattr(web.RequestHandler, m)}


def concrete_paths(spec: dict, template: str) -> list[str]:
    """The template with sample values, every `kind` of its enum: what a client would call."""
    samples = {
        "kind": spec["components"]["parameters"]["kind"]["schema"]["enum"],
        "id": ["0123456789abcdef", "current"],
        "principal": ["user:bob", "group:class-2026", "bob"],
        "requester": ["bob", "user:bob"],
        "env": ["0123456789abcdef-0123456789ab"],
    }
    names = re.findall(r"\{(\w+)\}", template)
    assert set(names) <= set(samples), template
    out = []
    for values in itertools.product(*(samples[n] for n in names)):
        path = template
        for name, value in zip(names, values, strict=False):
            path = path.replace("{" + name + "}", value, 1)
        out.append(spec["servers"][0]["url"] + path)
    return out


def test_every_route_and_method_is_documented_and_nothing_else(spec_dict):
    routes = handlers()
    # The last route answers every other path with the API's JSON 404 (not an operation).
    assert routes[-1][0].endswith("/.*") and routes[-1][1].__name__ == "UnknownPathHandler"
    routes = routes[:-1]
    reached = set()
    for template, item in spec_dict["paths"].items():
        documented = {m for m in METHODS if m in item}
        assert documented, template
        for path in concrete_paths(spec_dict, template):
            matching = [(pattern, cls) for pattern, cls in routes if re.fullmatch(pattern, path)]
            assert len(matching) == 1, (
                f"{path} (from {template}) matches {len(matching)} routes: {matching}"
            )
            pattern, cls = matching[0]
            reached.add(pattern)
            assert documented == implemented_methods(cls), (
                f"{template}: the spec documents {sorted(documented)}, "
                f"{cls.__name__} implements {sorted(implemented_methods(cls))}"
            )
    missing = [pattern for pattern, _ in routes if pattern not in reached]
    assert not missing, f"routes the spec does not document: {missing}"


# -- requests and responses against the spec -------------------------------------------------


class RawRequest:
    """A tornado client request as openapi-core reads one (openapi_core.protocols.Request)."""

    def __init__(self, request, base_url: str):
        url = urlsplit(request.url)
        assert url.path.startswith(base_url), (url.path, base_url)
        self.host_url = f"{url.scheme}://{url.netloc}"
        # The spec's server url is relative to the Jupyter server's base_url.
        self.path = "/" + unquote(url.path[len(base_url) :])
        self.method = request.method.lower()
        self.body: bytes | None = request.body or None
        self.content_type = "application/json" if self.body else ""
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query, keep_blank_values=True)),
            header=Headers([(k, v) for k, v in request.headers.get_all() if v]),
            cookie=ImmutableMultiDict(),
        )


class RawResponse:
    """A tornado HTTPResponse as openapi-core reads one (openapi_core.protocols.Response)."""

    def __init__(self, response):
        self.status_code = response.code
        self.headers = Headers(list(response.headers.get_all()))
        self.content_type = response.headers.get("Content-Type", "").lower()
        self.data = response.body


class SpecClient:
    """Calls the API as alice and checks each exchange against the spec; records what it saw."""

    def __init__(self, api, openapi: OpenAPI, spec: dict, base_url: str):
        self.api = api
        self.openapi = openapi
        self.base_url = base_url
        self.templates = sorted(spec["paths"], key=lambda t: t.count("{"))
        self.reached: set[tuple[str, str, str]] = set()

    def template_of(self, path: str) -> str:
        prefix = "/" + API_PREFIX
        assert path.startswith(prefix), path
        rest = path[len(prefix) :]
        for template in self.templates:  # literal paths first, as openapi-core matches them
            if re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)), rest):
                return template
        raise AssertionError(f"{path} is not a documented path")

    async def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        expect: int,
        params: dict | None = None,
        valid: bool | None = True,
        token: bool = True,
    ):
        """`valid`: whether the request itself conforms to the spec (True / False), or None
        where the spec cannot tell (e.g. a duplicate name, an unknown user)."""
        headers = {} if token else {"Authorization": ""}
        r = await self.api(method, path, body, params=params, headers=headers)
        assert r.code == expect, (
            f"{method} {path}: expected {expect}, got {r.code}: {r.body[:500]!r}"
        )
        request, response = RawRequest(r.request, self.base_url), RawResponse(r)
        if valid is True:
            try:
                self.openapi.validate_request(request)
            except OpenAPIError as e:
                raise AssertionError(
                    f"{method} {path}: the spec refuses this request, the server took it: {e!r}"
                ) from e
        elif valid is False:
            try:
                self.openapi.validate_request(request)
            except OpenAPIError:
                pass
            else:
                raise AssertionError(
                    f"{method} {path}: the spec accepts this request, the server refused it with {r.code}"
                )
        try:
            self.openapi.validate_response(request, response)
        except OpenAPIError as e:
            detail = "; ".join(str(x) for x in getattr(e, "schema_errors", []) or [])
            raise AssertionError(
                f"{method} {path} -> {r.code}: the spec does not describe this answer: {e!r} {detail}\n{r.body[:1000]!r}"
            ) from e
        self.reached.add((self.template_of(request.path), method.lower(), str(r.code)))
        return (
            json.loads(r.body)
            if r.body and response.content_type.startswith("application/json")
            else None
        )


@pytest.fixture
def share_app(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_share"]
    return app


@pytest.fixture
def client(api, openapi, spec_dict, jp_base_url):
    return SpecClient(api, openapi, spec_dict, jp_base_url)


def image(name: str, **extra) -> dict:
    return {"name": name, "spec": {"reference": REFERENCE}, **extra}


async def test_every_operation_answers_as_documented(client, share_app, spec_dict):
    c = client

    # -- who I am ----------------------------------------------------------------------
    me = await c("GET", "me", expect=200)
    assert me["username"] == "alice" and me["mode"] == "standalone"
    await c("GET", "directory", expect=200, params={"q": "b"})
    await c("GET", "directory", expect=200)

    # -- create --------------------------------------------------------------------------
    img = await c("POST", "images", image("py", description="Python 3.12"), expect=201)
    other = await c("POST", "images", image("other"), expect=201)
    captured = await c("POST", "images", {"name": "captured", "capture": True}, expect=201)
    assert captured["spec"]["environment"]["packages"]
    formation = await c(
        "POST",
        "formations",
        {
            "name": "gpu box",
            "spec": {
                "image": img["id"],
                "cpu": 2,
                "memory": "8Gi",
                "gpu": 1,
                "storage": [{"name": "data", "mount_path": "/data", "size": "10G"}],
                "env": {"MODE": "train"},
                "start_url": "/lab",
            },
        },
        expect=201,
    )
    doomed = await c(
        "POST", "formations", {"name": "doomed", "spec": {"image": REFERENCE}}, expect=201
    )
    await c("POST", "images", image("py"), expect=409, valid=None)  # same name, same owner
    await c("POST", "images", image("x", colour="red"), expect=400, valid=False)  # unknown field
    await c(
        "POST",
        "images",
        {"name": "x", "spec": {"reference": REFERENCE, "tag": "3"}},
        expect=400,
        valid=False,
    )
    await c("POST", "images", {"name": "x"}, expect=400, valid=False)  # neither spec nor capture
    await c(
        "POST",
        "images",
        {"name": "x" * 129, "spec": {"reference": REFERENCE}},
        expect=400,
        valid=False,
    )
    await c("POST", "images", "{not json", expect=400, valid=False)
    await c("POST", "images", "[]", expect=400, valid=False)
    await c(
        "POST",
        "formations",
        {"name": "x", "spec": {"image": "Not A Reference!"}},
        expect=400,
        valid=None,
    )
    await c(
        "POST",
        "formations",
        {"name": "x", "spec": {"image": REFERENCE, "cpu": 0}},
        expect=400,
        valid=False,
    )
    await c("POST", "sessions", {"name": "mine"}, expect=405, valid=None)

    # -- lists ---------------------------------------------------------------------------
    page = await c("GET", "images", expect=200)
    assert {r["id"] for r in page["items"]} >= {img["id"], other["id"], captured["id"]}
    await c("GET", "images", expect=200, params={"scope": "owned", "offset": 1, "limit": 1})
    await c("GET", "formations", expect=200, params={"scope": "shared"})
    await c("GET", "sessions", expect=200, params={"scope": "all"})
    await c("GET", "images", expect=400, params={"scope": "mine"}, valid=False)
    await c("GET", "images", expect=400, params={"limit": 0}, valid=False)
    await c("GET", "images", expect=400, params={"offset": "first"}, valid=False)
    await c("GET", "shared-with-me", expect=200)
    await c("GET", "shared-with-me", expect=200, params={"kind": "image"})
    await c("GET", "shared-with-me", expect=200, params={"kind": "formations", "limit": 10})
    await c("GET", "shared-with-me", expect=400, params={"kind": "pets"}, valid=False)

    # -- one resource ----------------------------------------------------------------------
    await c("GET", f"images/{img['id']}", expect=200)
    await c("GET", f"formations/{formation['id']}", expect=200)
    session = await c("GET", "sessions/current", expect=200)
    assert session["kind"] == "session" and session["owner"] == "alice"
    await c("GET", f"sessions/{session['id']}", expect=200)
    await c("GET", "images/no-such-id", expect=404)
    await c("GET", f"images/{formation['id']}", expect=404)  # a formation is not an image

    await c("PATCH", f"images/{img['id']}", {"description": "changed"}, expect=200)
    await c(
        "PATCH",
        f"images/{img['id']}",
        {"spec": {"reference": "quay.io/jupyter/base-notebook:latest"}},
        expect=200,
    )
    await c(
        "PATCH",
        f"formations/{formation['id']}",
        {"name": "big box", "spec": {"image": REFERENCE, "cpu": 8}},
        expect=200,
    )
    await c("PATCH", "sessions/current", {"description": "my server"}, expect=200)
    await c("PATCH", f"images/{img['id']}", {"owner": "bob"}, expect=400, valid=False)
    await c("PATCH", f"images/{img['id']}", {"name": ""}, expect=400, valid=False)
    await c(
        "PATCH",
        f"formations/{formation['id']}",
        {"spec": {"image": REFERENCE, "gpu": 65}},
        expect=400,
        valid=False,
    )
    await c(
        "PATCH", "sessions/current", {"spec": {}}, expect=400, valid=None
    )  # a session's spec is its server's
    await c("PATCH", f"images/{img['id']}", None, expect=400, valid=False)  # no body
    await c(
        "PATCH", f"images/{other['id']}", {"name": "py"}, expect=409
    )  # a name alice already uses
    await c("PATCH", "images/no-such-id", {"description": "x"}, expect=404)

    # -- personal links to this container ------------------------------------------------
    guest = await c("PUT", "sessions/current/grants/ivy", {"permission": "view"}, expect=201)
    assert guest["link"].startswith("http") and "/jupyter-share/link/" in guest["link"]
    again = await c("PUT", "sessions/current/grants/ivy", {"permission": "edit"}, expect=200)
    assert "link" not in again  # the link stays as it was; its secret is not kept
    relinked = await c("POST", "sessions/current/grants/ivy/link", expect=201)
    assert relinked["link"] != guest["link"]
    await c("POST", "sessions/current/grants/dave/link", expect=404)  # dave holds no grant
    await c("POST", f"images/{img['id']}/grants/ivy/link", expect=400)  # only containers have links

    # -- grants --------------------------------------------------------------------------
    rid = img["id"]
    grant = await c("PUT", f"images/{rid}/grants/bob", {"permission": "view"}, expect=201)
    assert grant["principal"] == "user:bob" and grant["expires_at"] is None
    grant = await c(
        "PUT",
        f"images/{rid}/grants/user:bob",
        {"permission": "edit", "expires_at": "2099-01-31T12:00:00Z"},
        expect=200,
    )
    assert grant["permission"] == "edit" and grant["expires_at"].startswith("2099-01-31T12:00:00")
    await c(
        "PUT",
        f"images/{rid}/grants/group:class-2026",
        {"permission": "manage", "expires_at": None},
        expect=201,
    )
    await c("PUT", f"sessions/{session['id']}/grants/carol", {"permission": "view"}, expect=201)
    await c("PUT", f"images/{rid}/grants/bob", {"permission": "owner"}, expect=400, valid=False)
    await c("PUT", f"images/{rid}/grants/bob", {}, expect=400, valid=False)
    await c(
        "PUT",
        f"images/{rid}/grants/bob",
        {"permission": "view", "until": "never"},
        expect=400,
        valid=False,
    )
    await c(
        "PUT",
        f"images/{rid}/grants/bob",
        {"permission": "view", "expires_at": "2001-01-01T00:00:00Z"},
        expect=400,
        valid=None,
    )
    await c(
        "PUT",
        f"images/{rid}/grants/bob",
        {"permission": "view", "expires_at": "soon"},
        expect=400,
        valid=None,
    )
    await c(
        "PUT", f"images/{rid}/grants/bobb", {"permission": "view"}, expect=400, valid=None
    )  # did you mean bob?
    await c(
        "PUT",
        f"images/{rid}/grants/group:class-2027",
        {"permission": "view"},
        expect=400,
        valid=None,
    )
    await c(
        "PUT", f"images/{rid}/grants/robot:bob", {"permission": "view"}, expect=400, valid=False
    )
    await c(
        "PUT", f"images/{rid}/grants/alice", {"permission": "view"}, expect=409, valid=None
    )  # the owner
    await c("PUT", "images/no-such-id/grants/bob", {"permission": "view"}, expect=404)

    grants = await c("GET", f"images/{rid}/grants", expect=200)
    assert {g["principal"] for g in grants["items"]} == {"user:bob", "group:class-2026"}
    await c("GET", f"sessions/{session['id']}/grants", expect=200)
    await c("GET", "formations/no-such-id/grants", expect=404)

    await c("DELETE", f"images/{rid}/grants/user:bob", expect=204)
    await c("DELETE", f"images/{rid}/grants/user:bob", expect=404)  # holds nothing any more
    await c("DELETE", f"images/{rid}/grants/robot:bob", expect=400, valid=False)
    await c("DELETE", "images/no-such-id/grants/bob", expect=404)

    history = await c("GET", f"images/{rid}/history", expect=200)
    assert [e["action"] for e in history["items"]][:1] == ["create"]
    await c("GET", f"images/{rid}/history", expect=200, params={"offset": 1, "limit": 2})
    await c(
        "GET",
        f"images/{rid}/history",
        expect=400,
        params={"limit": specs.MAX_LIMIT + 1},
        valid=False,
    )
    await c("GET", "images/no-such-id/history", expect=404)
    # Filtered, and exported as CSV.
    await c(
        "GET",
        f"images/{rid}/history",
        expect=200,
        params={"person": "bob", "action": "share,revoke"},
    )
    await c("GET", f"images/{rid}/history", expect=200, params={"format": "csv"})
    for bad in ({"action": "explode"}, {"person": "robot:x"}, {"format": "xml"}):
        await c("GET", f"images/{rid}/history", expect=400, params=bad, valid=False)

    # -- who is in this container now (the guests in this server's memory) -----------------
    present = await c("GET", "sessions/current/guests", expect=200)
    assert present == {"items": [], "total": 0}
    await c("GET", f"sessions/{session['id']}/guests", expect=200)
    await c("GET", "sessions/no-such-id/guests", expect=404)

    # -- the environment file ---------------------------------------------------------------
    await c("GET", f"images/{captured['id']}/environment", expect=200)
    await c("GET", f"images/{captured['id']}/environment", expect=200, params={"format": "conda"})
    await c(
        "GET",
        f"images/{captured['id']}/environment",
        expect=400,
        params={"format": "zip"},
        valid=False,
    )
    await c("GET", f"images/{img['id']}/environment", expect=404)  # no captured environment
    await c("GET", "images/no-such-id/environment", expect=404)

    # -- using an image here: a build that fails (no wheel), one cancelled, one removed --------
    usable = await c(
        "POST",
        "images",
        {
            "name": "usable",
            "spec": {
                "environment": {
                    "python": "3.8.1",
                    "packages": [{"name": "nowhere", "version": "1.0"}],
                }
            },
        },
        expect=201,
    )
    plan = await c("GET", f"images/{usable['id']}/use", expect=200)
    assert plan["python"]["captured"] == "3.8.1" and plan["requirements"] == ["nowhere==1.0"]
    started = await c("POST", f"images/{usable['id']}/use", expect=202)
    cancelled = await c("POST", f"environments/{started['id']}/cancel", expect=200)
    assert cancelled["state"] == "cancelled"
    started = await c("POST", f"images/{usable['id']}/use", {}, expect=202)
    again = await c("POST", f"images/{usable['id']}/use", expect=200)  # not built twice
    assert again["id"] == started["id"]
    for _ in range(600):
        env = await c("GET", f"environments/{started['id']}", expect=200)
        if env["state"] != "building":
            break
        await asyncio.sleep(0.1)
    assert env["state"] == "failed" and env["error"]["package"] == "nowhere==1.0"
    await c("GET", f"environments/{started['id']}/log", expect=200)
    await c("POST", f"environments/{started['id']}/cancel", expect=409)
    listed = await c("GET", "environments", expect=200)
    assert [e["id"] for e in listed["items"]] == [started["id"]]
    await c("DELETE", f"environments/{started['id']}", expect=204)
    await c("DELETE", f"environments/{started['id']}", expect=404)
    await c("GET", f"environments/{started['id']}", expect=404)
    await c("GET", f"environments/{started['id']}/log", expect=404)
    await c("POST", f"environments/{started['id']}/cancel", expect=404)
    await c("GET", f"images/{img['id']}/use", expect=400)  # a reference only
    await c("POST", f"images/{img['id']}/use", expect=400)
    await c("POST", f"images/{usable['id']}/use", {"now": True}, expect=400, valid=False)
    await c("GET", "images/no-such-id/use", expect=404)
    await c("POST", "images/no-such-id/use", expect=404)

    # -- bob's resources, as alice sees them: 403 where she sees but holds too little --------
    svc = share_app.service
    theirs = svc.create("bob", Kind.IMAGE, image("bob's image")).resource.id
    hidden = svc.create("bob", Kind.IMAGE, image("bob's secret")).resource.id
    svc.share(
        "bob",
        Kind.IMAGE,
        theirs,
        "alice",
        {"permission": "view", "expires_at": "2099-01-01T00:00:00Z"},
    )
    svc.share("bob", Kind.IMAGE, theirs, "carol", {"permission": "edit"})
    seen = await c("GET", f"images/{theirs}", expect=200)
    assert seen["access"] == "view" and seen["share_count"] is None and seen["shared_at"]
    shared = await c("GET", "shared-with-me", expect=200)
    assert [r["id"] for r in shared["items"]] == [theirs]
    await c("GET", f"images/{hidden}", expect=404)  # not shared with alice: not revealed
    await c("PATCH", f"images/{theirs}", {"description": "mine now"}, expect=403)
    await c("DELETE", f"images/{theirs}", expect=403)
    await c("GET", f"images/{theirs}/grants", expect=403)
    await c("PUT", f"images/{theirs}/grants/dave", {"permission": "view"}, expect=403)
    await c("DELETE", f"images/{theirs}/grants/carol", expect=403)
    # Below manage, the history answers the rows about the caller (issue 15; was 403).
    mine = await c("GET", f"images/{theirs}/history", expect=200)
    assert {e["principal"] for e in mine["items"]} == {"user:alice"}
    await c("DELETE", f"images/{theirs}/grants/alice", expect=204)  # anyone may leave
    # Who is in bob's container: his managers may ask, but only his own server knows (400).
    box = svc.ensure_container("bob", "bob's box", {"url": "http://bob.example/"}).id
    svc.share("bob", Kind.SESSION, box, "alice", {"permission": "edit"})
    await c("GET", f"sessions/{box}/guests", expect=403)
    svc.share("bob", Kind.SESSION, box, "alice", {"permission": "manage"})
    await c("GET", f"sessions/{box}/guests", expect=400)
    await c("GET", f"images/{theirs}", expect=404)

    # -- requests for more ------------------------------------------------------------------
    # alice asks on bob's image that she sees...
    asked_on = svc.create("bob", Kind.IMAGE, image("bob's tools")).resource.id
    svc.share("bob", Kind.IMAGE, asked_on, "alice", {"permission": "view"})
    assert (await c("GET", "requests", expect=200)) == {"to_decide": [], "asked": []}
    assert (await c("GET", f"images/{asked_on}/requests", expect=200))["total"] == 0
    mine = await c(
        "POST",
        f"images/{asked_on}/requests",
        {"permission": "edit", "message": "may I?"},
        expect=201,
    )
    assert (mine["requester"], mine["holds"], mine["message"]) == ("alice", "view", "may I?")
    assert [r["resource_id"] for r in (await c("GET", "requests", expect=200))["asked"]] == [
        asked_on
    ]
    assert (await c("GET", f"images/{asked_on}/requests", expect=200))["items"] == [mine]  # her own
    await c(
        "POST", f"images/{asked_on}/requests", {"permission": "manage"}, expect=409, valid=None
    )  # one open
    await c("POST", f"images/{asked_on}/requests", {"permission": "owner"}, expect=400, valid=False)
    await c(
        "POST",
        f"images/{asked_on}/requests",
        {"permission": "edit", "why": "x"},
        expect=400,
        valid=False,
    )
    await c("POST", f"images/{hidden}/requests", {"permission": "edit"}, expect=404)  # not revealed
    await c("GET", f"images/{hidden}/requests", expect=404)
    await c(
        "POST", f"images/{asked_on}/requests/carol", {"decision": "approve"}, expect=403
    )  # she holds view
    await c("DELETE", f"images/{asked_on}/requests/alice", expect=204)
    await c("DELETE", f"images/{asked_on}/requests/alice", expect=404)
    await c("DELETE", f"images/{asked_on}/requests/group:staff", expect=400, valid=None)
    # ...and decides on her own: bob and carol ask.
    asking = await c("POST", "images", image("asked"), expect=201)
    for who in ("bob", "carol"):
        await c("PUT", f"images/{asking['id']}/grants/{who}", {"permission": "view"}, expect=201)
        svc.ask(who, Kind.IMAGE, asking["id"], {"permission": "edit"})
    await c(
        "POST", f"images/{asking['id']}/requests", {"permission": "edit"}, expect=409, valid=None
    )  # the owner
    assert (await c("GET", f"images/{asking['id']}/requests", expect=200))["total"] == 2
    todo = (await c("GET", "requests", expect=200))["to_decide"]
    assert [(r["requester"], r["permission"], r["holds"]) for r in todo] == [
        ("bob", "edit", "view"),
        ("carol", "edit", "view"),
    ]
    approved = await c(
        "POST", f"images/{asking['id']}/requests/bob", {"decision": "approve"}, expect=200
    )
    assert (
        approved["grant"]["permission"] == "edit" and approved["grant"]["principal"] == "user:bob"
    )
    await c(
        "POST", f"images/{asking['id']}/requests/user:bob", {"decision": "approve"}, expect=404
    )  # closed
    await c(
        "POST",
        f"images/{asking['id']}/requests/carol",
        {"decision": "maybe"},
        expect=400,
        valid=False,
    )
    await c("DELETE", f"images/{asking['id']}/requests/carol", expect=403)  # she denies it instead
    await c("DELETE", f"images/{asking['id']}/grants/carol", expect=204)
    await c(
        "POST", f"images/{asking['id']}/requests/carol", {"decision": "approve"}, expect=409
    )  # lost access
    denied = await c(
        "POST", f"images/{asking['id']}/requests/carol", {"decision": "deny"}, expect=200
    )
    assert denied["decision"] == "deny" and "grant" not in denied
    await c("POST", "formations/no-such-id/requests/bob", {"decision": "deny"}, expect=404)

    # -- launching: what a launch refuses (test_launch.py launches real servers) ------------
    launch = f"formations/{doomed['id']}/launch"
    await c("POST", launch, {"cpu": 2}, expect=400, valid=False)
    await c("POST", launch, {"name": ""}, expect=400, valid=False)
    await c("POST", "formations/0123456789abcdef/launch", {}, expect=404)
    await c("POST", "sessions/current/stop", {"now": True}, expect=400, valid=False)
    await c("POST", "sessions/current/stop", expect=409)  # not launched by this server
    await c("POST", "sessions/0123456789abcdef/stop", expect=404)

    # -- not signed in: every path and method, with a request that is fine but for the token --
    bodies = {
        ("/{kind}", "post"): image("anonymous"),
        ("/{kind}/{id}", "patch"): {"description": "x"},
        ("/{kind}/{id}/grants/{principal}", "put"): {"permission": "view"},
        ("/{kind}/{id}/requests", "post"): {"permission": "edit"},
        ("/{kind}/{id}/requests/{requester}", "post"): {"decision": "deny"},
    }
    for template, method, _ in operations(spec_dict):
        path = (
            template.replace("{kind}", "images")
            .replace("{id}", rid)
            .replace("{principal}", "user:bob")
            .replace("{requester}", "bob")
            .replace("{env}", "0123456789abcdef-0123456789ab")
        )
        await c(
            method.upper(),
            path.lstrip("/"),
            bodies.get((template, method)),
            expect=401,
            token=False,
            valid=False,
        )

    # -- delete, last --------------------------------------------------------------------
    await c("DELETE", f"formations/{doomed['id']}", expect=204)
    await c("DELETE", f"formations/{doomed['id']}", expect=404)
    await c("GET", f"formations/{doomed['id']}/grants", expect=404)  # the grants went with it
    await c("DELETE", "sessions/current", expect=204)  # recreated on next use
    await c("GET", "sessions/current", expect=200)
    # Revoking with re-keying, last of all: the server's token changes.
    await c("PUT", "sessions/current/grants/bob", {"permission": "edit"}, expect=201)
    await c(
        "DELETE", "sessions/current/grants/bob", params={"rekey": "maybe"}, expect=400, valid=None
    )
    rekeyed = await c("DELETE", "sessions/current/grants/bob", params={"rekey": "true"}, expect=200)
    assert rekeyed["rekeyed"] is True

    # -- every documented answer was seen, or is listed with its reason --------------------
    documented = {
        (template, method, code)
        for template, method, op in operations(spec_dict)
        for code in op["responses"]
    }
    assert set(NOT_REACHED) <= documented, (
        f"NOT_REACHED lists undocumented answers: {set(NOT_REACHED) - documented}"
    )
    assert not (c.reached & set(NOT_REACHED)), (
        f"reached, drop from NOT_REACHED: {c.reached & set(NOT_REACHED)}"
    )
    # The Hub's answers cannot happen on a standalone server; test_hub_service.py checks them.
    hub_only = {(t, m, code) for t, m, code in documented if code in HUB_ONLY}
    assert not (c.reached & hub_only), f"a standalone server answered {c.reached & hub_only}"
    missing = documented - c.reached - set(NOT_REACHED) - hub_only
    assert not missing, f"documented answers the scenario never saw: {sorted(missing)}"


async def test_environment_file_as_documented(client):
    environment = {
        "python": "3.12.1",
        "platform": "linux-x86_64",
        "packages": [
            {"name": "numpy", "version": "2.1.0"},
            {"name": "mine", "version": "0.1", "source": "local"},
        ],
        "conda": None,
        "kernelspecs": [{"name": "python3", "display_name": "Python 3", "language": "python"}],
        "captured_at": "2026-01-01T00:00:00Z",
    }
    img = await client(
        "POST", "images", {"name": "env", "spec": {"environment": environment}}, expect=201
    )
    r = await client.api("GET", f"images/{img['id']}/environment")
    assert (
        r.code == 200 and b"numpy==2.1.0" in r.body and b"\nmine==" not in r.body
    )  # local: a comment
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["Content-Disposition"] == 'attachment; filename="requirements.txt"'
    r = await client.api("GET", f"images/{img['id']}/environment", params={"format": "conda"})
    assert r.code == 200 and yaml.safe_load(r.body)["name"] == "env"
    assert r.headers["Content-Type"].startswith("application/x-yaml")
    assert r.headers["Content-Disposition"] == 'attachment; filename="environment.yml"'
    assert await client("GET", f"images/{img['id']}/environment", expect=200) is None  # not JSON
    await client("GET", f"images/{img['id']}/environment", expect=200, params={"format": "conda"})
