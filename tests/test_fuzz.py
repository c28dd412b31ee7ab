"""Fuzzing the REST API from its shipped OpenAPI spec (schemathesis) against a live server.

A real `jupyter server` of alice (tests/servers.py) on a SQLite store, called with its token,
answers requests that schemathesis generates from `jupyter_share/openapi.yaml`: its examples,
its coverage cases (boundaries, each constraint broken in turn) and random ones, valid and
invalid, on every operation. Every answer must be no 5xx, carry a status code the spec
documents for that operation, match the documented schema, content type and headers, and an
invalid request must be refused (4xx). The server's log must hold no traceback.

Generated ids would almost never name a resource, so path ids are drawn half of the time from
a fixed set of resources seeded into the store before each operation's run: alice's own image
(with a captured environment), formation and container, bob's image shared with alice
(manage), bob's formation shared with alice (view), and bob's image that alice may not see.

The run is deterministic (derandomized, fixed seed) and bounded (`MAX_EXAMPLES` per operation;
`JUPYTER_SHARE_FUZZ_EXAMPLES` overrides it for a longer hunt), about 40 s on a 2-core machine.

`test_what_fuzzing_found` keeps the requests that answered 500 before their fixes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import hypothesis
import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.deserialization import deserialize_yaml
from schemathesis.core.media_types import YAML_MEDIA_TYPES

import jupyter_share
from jupyter_share.model import AuditEntry, Grant, Kind, Permission, Principal, Resource, utcnow
from jupyter_share.store import SQLStore

from .servers import API, start_servers

# Starts real servers fuzzed through the spec.
pytestmark = pytest.mark.slow

SPEC_PATH = Path(jupyter_share.__file__).parent / "openapi.yaml"
MAX_EXAMPLES = int(os.environ.get("JUPYTER_SHARE_FUZZ_EXAMPLES", 150))
USERS = ["bob", "carol", "dave", "erin"]
GROUPS = {"class-2026": ["erin", "alice"], "staff": ["bob"]}

#: Seeded resources, by id: (kind, owner, name, spec, alice's grant or None).
ENVIRONMENT = {
    "python": "3.12.1",
    "platform": "linux-x86_64",
    "packages": [
        {"name": "numpy", "version": "2.1.0"},
        {"name": "mine", "version": "0.1", "source": "local"},
    ],
    "conda": {
        "name": "base",
        "prefix": "/opt/conda",
        "channels": ["conda-forge"],
        "packages": [
            {"name": "python", "version": "3.12.1", "build": "h1", "channel": "conda-forge"}
        ],
    },
    "kernelspecs": [{"name": "python3", "display_name": "Python 3", "language": "python"}],
    "captured_at": "2026-01-01T00:00:00Z",
}
SEEDS = {
    "a11ce00000000001": (
        Kind.IMAGE,
        "alice",
        "alice image",
        {"reference": "docker.io/library/python:3.12", "environment": ENVIRONMENT},
        None,
    ),
    "a11ce00000000002": (
        Kind.FORMATION,
        "alice",
        "alice formation",
        {"image": "a11ce00000000001", "cpu": 2, "memory": "4G"},
        None,
    ),
    "b0b0000000000001": (
        Kind.IMAGE,
        "bob",
        "bob image",
        {"reference": "quay.io/bob/r:4"},
        Permission.MANAGE,
    ),
    "b0b0000000000002": (
        Kind.FORMATION,
        "bob",
        "bob formation",
        {"image": "busybox"},
        Permission.VIEW,
    ),
    "b0b0000000000003": (Kind.IMAGE, "bob", "bob secret", {"reference": "busybox"}, None),
}
PATH_IDS = list(SEEDS) + ["current"]
KINDS = [kind.plural for kind in Kind]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 2026,
        "generation": {
            "mode": "all",
            "deterministic": True,
            "max-examples": MAX_EXAMPLES,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
        },
    }
)
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """alice's real server, on a store that knows the seeded users and groups."""
    workdir = tmp_path_factory.mktemp("fuzz")
    db_url = f"sqlite:///{workdir / 'share.db'}"
    server = start_servers(["alice"], db_url, workdir, users=USERS, groups=GROUPS)["alice"]
    store = SQLStore(db_url)
    yield server, store
    store.close()
    server.stop()
    log = server.log()
    assert "Traceback" not in log, log[-5000:]


@pytest.fixture
def seeded(live):
    """Put back whatever an earlier operation's run deleted or changed of the seeds."""
    server, store = live
    now = utcnow()
    for rid, (kind, owner, name, spec, alices) in SEEDS.items():
        existing = store.get_resource(rid)
        resource = Resource(rid, kind, name, owner, "", spec, now, now)
        entry = AuditEntry(rid, now, owner, "create", kind=kind)
        if existing is None:
            store.create_resource(resource, entry)
        elif (existing.name, existing.spec) != (name, spec):
            store.update_resource(resource, AuditEntry(rid, now, owner, "update", kind=kind))
        if alices is not None:
            store.put_grant(
                Grant(rid, Principal.user("alice"), alices, owner, now),
                AuditEntry(rid, now, owner, "share", kind=kind),
            )
    return server


def known_ids(context, strategy):
    """Half of the generated path ids name a seeded resource (or this container)."""

    def swap(parameters):
        if not isinstance(parameters, dict) or "id" not in parameters:
            return st.just(parameters)
        return st.one_of(
            st.just(parameters), st.sampled_from(PATH_IDS).map(lambda i: {**parameters, "id": i})
        )

    return strategy.flatmap(swap)


def routable(context, parameters):
    """Only URLs of this API: a `kind` outside its enum or an empty id or principal names
    another URL of the Jupyter server (its own 404 page, or a trailing-slash redirect), not an
    input this API parses."""
    if not isinstance(parameters, dict):
        return True
    if "kind" in parameters and parameters["kind"] not in KINDS:
        return False
    return all(
        isinstance(parameters.get(name, "x"), str) and parameters.get(name, "x")
        for name in ("id", "principal")
    )


def yaml_file_as_text(context, response):
    """environment.yml is a file: the spec's `{type: string}` is its text, as test_openapi.py
    reads it (schemathesis parses YAML bodies into objects, which are no string)."""
    text = response.content.decode(response.encoding or "utf-8")
    if context.operation.path == "/images/{id}/environment":
        return text
    return deserialize_yaml(text)


# Every YAML media type: schemathesis takes the first registered one of the same family.
schemathesis.deserializer(*YAML_MEDIA_TYPES)(yaml_file_as_text)


def as_the_server_reads(query: dict) -> dict:
    """The query parameters as the API reads them, for schemathesis to judge the request
    by. An empty value is the same as none (the spec says so in words; its enums and integer
    types cannot); an object is sent as parameters of other names, so the named one is absent;
    of a repeated parameter (an array) tornado reads the last, with control characters made
    blanks and blanks stripped (`RequestHandler.get_query_argument`)."""
    read = {}
    for name, value in query.items():
        if isinstance(value, list):
            value = value[-1] if value else None
        if isinstance(value, str):
            value = re.sub(r"[\x00-\x08\x0e-\x1f]", " ", value).strip()
        if value is None or value == "" or isinstance(value, (dict, list)):
            continue
        read[name] = value
    return read


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@schema.hooks.apply(routable, name="filter_path_parameters")
@schema.hooks.apply(known_ids, name="before_generate_path_parameters")
@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_answers_as_its_spec_says(case, seeded):
    if not routable(None, case.path_parameters):
        return  # the coverage phase does not ask the filter hook
    if case.query:
        case.query = as_the_server_reads(case.query)
    case.call_and_validate(
        base_url=f"http://127.0.0.1:{seeded.port}{API}",
        headers={"Authorization": f"token {seeded.token}"},
        checks=CHECKS,
    )


#: Requests that answered 500 (or stored what they should refuse) before their fixes, found
#: by fuzzing beyond what schemathesis generates (its strings hold no lone surrogates; it nests
#: JSON only a little deep): (method, path, raw body, the field the refusal names).
FOUND = [
    # JSON's "\ud800" escapes decode to text no database driver can encode: 500.
    ("POST", "/images", rb'{"name": "\ud800", "spec": {"reference": "busybox"}}', "name"),
    (
        "POST",
        "/images",
        rb'{"name": "x", "description": "a\udfffb", "spec": {"reference": "busybox"}}',
        "description",
    ),
    ("PATCH", "/images/a11ce00000000001", rb'{"description": "\ud800"}', "description"),
    # ... stored inside a spec (JSON keeps the escape), and handed to every client as is.
    (
        "POST",
        "/formations",
        rb'{"name": "x", "spec": {"image": "busybox", "env": {"A": "\udc00"}}}',
        "spec.env.A",
    ),
    # Deeper than Python's recursion limit: json.loads raised RecursionError.
    ("POST", "/images", b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", None),
    (
        "PUT",
        "/images/a11ce00000000001/grants/bob",
        b'{"permission": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}",
        None,
    ),
]


@pytest.mark.parametrize(
    "method,path,raw,field", FOUND, ids=[f"{m} {p} {f}" for m, p, _, f in FOUND]
)
def test_what_fuzzing_found(seeded, method, path, raw, field):
    r = seeded.client.request(method, path.lstrip("/"), content=raw)
    assert r.status_code == 400, r.text
    assert r.json().get("field") == field and r.json()["message"]


@pytest.mark.parametrize("value", ["1_0", "\u0663", "+1", "0x1", "1e2"])
def test_page_numbers_are_plain_digits(seeded, value):
    # int() alone took "1_0" as 10 and Arabic-Indic digits as numbers.
    r = seeded.get("/images", params={"offset": value})
    assert r.status_code == 400 and r.json()["field"] == "offset", r.text
