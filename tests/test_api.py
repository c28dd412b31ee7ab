"""REST API v1 on a real in-process server (pytest-jupyter), owner alice, SQLite store:
creation, updates, lists, expiry, events, identity, and every refusal of docs/architecture.md, "The rules"."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_share.app import EVENT_SCHEMA_ID
from jupyter_share.directory import LoginAccounts

# Starts an in-process Jupyter server (pytest-jupyter) per test. (That a formation names only
# an image its author sees is the rules' to decide: tests/test_rules.py, in-process.)
pytestmark = pytest.mark.slow

IMAGE = {"name": "CARET", "spec": {"reference": "quay.io/lab/caret:2026.1"}}


def body(r):
    return json.loads(r.body) if r.body else None


async def make(api, kind="images", payload=None):
    r = await api("POST", kind, payload or IMAGE)
    assert r.code == 201, r.body
    return body(r)


def future(**delta):
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat().replace("+00:00", "Z")


async def test_me_and_directory(api):
    me = body(await api("GET", "me"))
    assert me == {
        "username": "alice",
        "display_name": "alice",
        "mode": "standalone",
        "groups": ["staff"],
    }
    found = body(await api("GET", "directory?q=c"))
    found["users"] = [
        u for u in found["users"] if u not in LoginAccounts().names()
    ]  # this machine's
    assert found == {"users": ["carol"], "groups": ["class-2026"]}
    everyone = body(await api("GET", "directory"))
    assert {"alice", "bob", "ivy"} <= set(everyone["users"])


async def test_create_get_patch_delete_image(api):
    created = await make(api)
    assert created["owner"] == "alice" and created["access"] == "owner"
    assert created["shared"] is False and created["share_count"] == 0
    got = body(await api("GET", f"images/{created['id']}"))
    assert got == created
    r = await api(
        "PATCH", f"images/{created['id']}", {"name": "CARET 2", "description": "R and caret"}
    )
    assert r.code == 200
    assert body(r)["name"] == "CARET 2" and body(r)["updated_at"] >= created["updated_at"]
    r = await api("DELETE", f"images/{created['id']}")
    assert r.code == 204 and not r.body
    assert (await api("GET", f"images/{created['id']}")).code == 404
    history = await api("GET", f"images/{created['id']}/history")
    assert history.code == 404  # gone with the resource, as far as the API shows


async def test_share_change_revoke_and_history(api):
    image = await make(api)
    path = f"images/{image['id']}/grants"
    r = await api("PUT", f"{path}/bob", {"permission": "view"})
    assert r.code == 201
    grant = body(r)
    assert grant["principal"] == "user:bob" and grant["kind"] == "user" and grant["name"] == "bob"
    assert (
        grant["permission"] == "view"
        and grant["granted_by"] == "alice"
        and grant["expires_at"] is None
    )
    r = await api("PUT", f"{path}/user:bob", {"permission": "edit"})
    assert r.code == 200 and body(r)["permission"] == "edit"
    assert body(r)["created_at"] == grant["created_at"]  # a change keeps when it was first shared
    r = await api(
        "PUT", f"{path}/group:class-2026", {"permission": "view", "expires_at": future(days=1)}
    )
    assert r.code == 201 and body(r)["kind"] == "group" and body(r)["expires_at"]
    listed = body(await api("GET", path))
    assert [g["principal"] for g in listed["items"]] == ["user:bob", "group:class-2026"]
    view = body(await api("GET", f"images/{image['id']}"))
    assert view["shared"] is True and view["share_count"] == 2
    assert (await api("DELETE", f"{path}/bob")).code == 204
    assert (await api("DELETE", f"{path}/bob")).code == 404
    history = body(await api("GET", f"images/{image['id']}/history"))
    assert [(h["action"], h["principal"], h["permission"]) for h in history["items"]] == [
        ("create", None, None),
        ("share", "user:bob", "view"),
        ("change", "user:bob", "edit"),
        ("share", "group:class-2026", "view"),
        ("revoke", "user:bob", "edit"),
    ]
    assert history["total"] == 5 and all(h["actor"] == "alice" for h in history["items"])


async def test_formation_spec_and_image_reference(api):
    image = await make(api)
    spec = {
        "image": image["id"],
        "cpu": 2.5,
        "memory": "8Gi",
        "gpu": 1,
        "storage": [{"name": "data", "mount_path": "/data", "size": "100G"}],
        "env": {"OMP_NUM_THREADS": "2"},
        "start_url": "/lab",
    }
    formation = await make(api, "formations", {"name": "gpu-small", "spec": spec})
    assert formation["spec"] == spec
    by_reference = await make(
        api, "formations", {"name": "plain", "spec": {"image": "jupyter/scipy-notebook:2024-01-01"}}
    )
    assert by_reference["spec"]["image"] == "jupyter/scipy-notebook:2024-01-01"


async def test_pagination_scope_and_order(api):
    for i in range(7):
        await make(
            api, payload={"name": f"img-{i}", "spec": {"reference": f"registry.example/img:{i}"}}
        )
    first = body(await api("GET", "images?limit=3"))
    assert first["total"] == 7 and [i["name"] for i in first["items"]] == [
        "img-6",
        "img-5",
        "img-4",
    ]
    last = body(await api("GET", "images?offset=6&limit=3"))
    assert [i["name"] for i in last["items"]] == ["img-0"]
    assert body(await api("GET", "images?scope=shared"))["total"] == 0
    assert body(await api("GET", "images?scope=owned"))["total"] == 7
    assert body(await api("GET", "formations"))["total"] == 0


async def test_current_session(api, jp_serverapp):
    current = body(await api("GET", "sessions/current"))
    assert current["kind"] == "session" and current["owner"] == "alice"
    assert current["spec"]["root_dir"] == str(jp_serverapp.root_dir)
    assert body(await api("GET", f"sessions/{current['id']}"))["id"] == current["id"]
    r = await api("PUT", "sessions/current/grants/bob", {"permission": "view"})
    assert r.code == 201
    sessions = body(await api("GET", "sessions?scope=owned"))
    assert [s["id"] for s in sessions["items"]] == [current["id"]]
    assert sessions["items"][0]["share_count"] == 1
    r = await api("PATCH", "sessions/current", {"description": "my analysis"})
    assert r.code == 200 and body(r)["description"] == "my analysis"
    assert (await api("POST", "sessions", {"name": "x"})).code == 405


async def test_capture_and_environment_files(api):
    import yaml
    from packaging.requirements import Requirement

    r = await api("POST", "images", {"name": "this container", "capture": True})
    assert r.code == 201, r.body
    env = body(r)["spec"]["environment"]
    names = {p["name"].lower() for p in env["packages"]}
    assert {"jupyter-server", "sqlalchemy", "tornado"} <= {n.replace("_", "-") for n in names}
    assert env["python"].count(".") == 2 and any(k["name"] == "python3" for k in env["kernelspecs"])
    image_id = body(r)["id"]
    r = await api("GET", f"images/{image_id}/environment?format=requirements")
    assert r.code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert 'filename="requirements.txt"' in r.headers["Content-Disposition"]
    lines = [ln for ln in r.body.decode().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) > 20
    for line in lines:  # each line is a requirement pip parses
        req = Requirement(line)
        assert str(req.specifier).startswith("==")
    r = await api("GET", f"images/{image_id}/environment?format=conda")
    doc = yaml.safe_load(r.body)
    assert doc["name"] == "this-container" and doc["channels"]
    assert any(str(d).startswith("python=") for d in doc["dependencies"])
    pip_section = [d for d in doc["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert any(p.lower().startswith("tornado==") for p in pip_section)
    # An image made from a reference has no environment to export.
    plain = await make(api)
    assert (await api("GET", f"images/{plain['id']}/environment")).code == 404


async def test_expired_grants_vanish_and_are_purged(api):
    image = await make(api)
    r = await api(
        "PUT",
        f"images/{image['id']}/grants/bob",
        {"permission": "view", "expires_at": future(seconds=1)},
    )
    assert r.code == 201
    assert body(await api("GET", f"images/{image['id']}"))["share_count"] == 1
    await asyncio.sleep(1.6)  # past expiry, and past a few purge sweeps (every 0.2 s here)
    assert body(await api("GET", f"images/{image['id']}/grants"))["items"] == []
    assert body(await api("GET", f"images/{image['id']}"))["shared"] is False
    history = body(await api("GET", f"images/{image['id']}/history"))["items"]
    assert history[-1]["action"] == "expire" and history[-1]["actor"] == "system"
    assert history[-1]["principal"] == "user:bob"


async def test_every_change_emits_one_event(api, jp_serverapp):
    seen = []

    async def listener(logger, schema_id, data):
        seen.append(data)

    jp_serverapp.event_logger.add_listener(schema_id=EVENT_SCHEMA_ID, listener=listener)
    image = await make(api)
    await api("PATCH", f"images/{image['id']}", {"description": "x"})
    await api("PUT", f"images/{image['id']}/grants/bob", {"permission": "view"})
    await api("PUT", f"images/{image['id']}/grants/bob", {"permission": "manage"})
    await api("DELETE", f"images/{image['id']}/grants/bob")
    await api(
        "PUT", f"images/{image['id']}/grants/bobb", {"permission": "view"}
    )  # refused: no event
    await api("DELETE", f"images/{image['id']}")
    for _ in range(50):
        if len(seen) >= 6:
            break
        await asyncio.sleep(0.02)
    assert [(e["action"], e.get("principal"), e.get("permission")) for e in seen] == [
        ("create", None, None),
        ("update", None, None),
        ("share", "user:bob", "view"),
        ("change", "user:bob", "manage"),
        ("revoke", "user:bob", "manage"),
        ("delete", None, None),
    ]
    assert all(
        e["resource_id"] == image["id"] and e["actor"] == "alice" and e["kind"] == "image"
        for e in seen
    )


async def test_login_cookie_acts_as_the_owner_and_xsrf_stays_on(jp_fetch, jp_serverapp):
    # A token request sets the login cookie; the cookie alone then acts as alice, as the
    # browser's requests do, and a cookie request that changes something needs the XSRF token.
    r = await jp_fetch("jupyter-share", "api", "v1", "me")
    cookies = [c.split(";", 1)[0] for c in r.headers.get_list("Set-Cookie")]
    login = [c for c in cookies if c.startswith("username-")]
    assert login, cookies
    from tornado.httpclient import AsyncHTTPClient

    client = AsyncHTTPClient()
    base = f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}jupyter-share/api/v1/"
    r = await client.fetch(base + "me", headers={"Cookie": login[0]}, raise_error=False)
    assert r.code == 200 and json.loads(r.body)["username"] == "alice"
    post = dict(method="POST", body=json.dumps(IMAGE), raise_error=False)
    r = await client.fetch(base + "images", headers={"Cookie": login[0]}, **post)
    assert r.code == 403  # no XSRF token
    xsrf = "2|abcdef01|0123456789abcdef0123456789abcdef|1700000000"
    r = await client.fetch(
        base + "images",
        headers={"Cookie": f"{login[0]}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        **post,
    )
    assert r.code == 201 and json.loads(r.body)["owner"] == "alice"
    # Without token or cookie: not signed in.
    for path, method in [("me", "GET"), ("images", "GET"), ("images", "POST")]:
        r = await client.fetch(
            base + path, method=method, body=b"{}" if method == "POST" else None, raise_error=False
        )
        assert r.code == 401, (path, r.code)
        assert json.loads(r.body)["message"].startswith("not signed in")


# -- bad input: a clear 4xx, and nothing changes --------------------------------------------


async def _state(api):
    images = body(await api("GET", "images?limit=1000"))
    state = {"images": images}
    for item in images["items"]:
        state[item["id"]] = (
            body(await api("GET", f"images/{item['id']}/grants")),
            body(await api("GET", f"images/{item['id']}/history"))["total"],
        )
    return state


async def make_shared_image(api):
    image = await make(api)
    await make(api, payload={"name": "other", "spec": {"reference": "busybox:1"}})
    assert (
        await api("PUT", f"images/{image['id']}/grants/bob", {"permission": "view"})
    ).code == 201
    return image


BAD_CREATE = [
    ({"name": "x", "spec": {"reference": "busybox"}, "colour": "red"}, 400, "colour"),
    ({"name": 5, "spec": {"reference": "busybox"}}, 400, "name"),
    ({"name": "", "spec": {"reference": "busybox"}}, 400, "name"),
    ({"name": "   ", "spec": {"reference": "busybox"}}, 400, "name"),
    ({"name": "x" * 129, "spec": {"reference": "busybox"}}, 400, "name"),
    ({"name": "tab\there", "spec": {"reference": "busybox"}}, 400, "name"),
    ({"spec": {"reference": "busybox"}}, 400, "name"),
    ({"name": "x", "description": 7, "spec": {"reference": "busybox"}}, 400, "description"),
    (
        {"name": "x", "description": "d" * 5000, "spec": {"reference": "busybox"}},
        400,
        "description",
    ),
    ({"name": "x"}, 400, "spec"),
    ({"name": "x", "spec": {}}, 400, "spec"),
    ({"name": "x", "spec": "busybox"}, 400, "spec"),
    ({"name": "x", "spec": {"reference": "Not A Reference!"}}, 400, "spec.reference"),
    ({"name": "x", "spec": {"reference": "busybox", "size": 3}}, 400, "size"),
    (
        {"name": "x", "spec": {"environment": {"packages": [{"name": "six"}]}}},
        400,
        "spec.environment.packages[0].version",
    ),
    ({"name": "x", "spec": {"environment": {"python": 3}}}, 400, "spec.environment.python"),
    (
        {
            "name": "x",
            "spec": {"environment": {"packages": [{"name": "six", "version": "1", "hash": "x"}]}},
        },
        400,
        "hash",
    ),
    ({"name": "x", "capture": "yes"}, 400, "capture"),
    (
        {
            "name": "x",
            "spec": {
                "reference": "busybox",
                "environment": {"packages": [{"name": "p" * 900, "version": "1"}] * 80},
            },
        },
        400,
        "spec",
    ),
    (
        {"name": "x", "spec": {"environment": {"packages": [{"name": None, "version": "1"}]}}},
        400,
        "spec.environment.packages[0].name",
    ),
    (
        {"name": "x", "description": "nul\u0000here", "spec": {"reference": "busybox"}},
        400,
        "description",
    ),
    (
        {"name": "x", "spec": {"reference": "busybox", "environment": {"platform": "a\u0000"}}},
        400,
        "spec.environment.platform",
    ),
    ({"name": "CARET", "spec": {"reference": "busybox"}}, 409, "name"),
]


@pytest.mark.parametrize("payload,status,field", BAD_CREATE)
async def test_bad_image_creation(api, payload, status, field):
    await make_shared_image(api)
    before = await _state(api)
    r = await api("POST", "images", payload)
    assert r.code == status, r.body
    error = body(r)
    assert error["field"] == field and field.split(".")[-1].split("[")[0] in error["message"]
    assert "Traceback" not in r.body.decode()
    assert await _state(api) == before


BAD_FORMATIONS = [
    ({"cpu": 2}, "spec.image"),
    ({"image": "Not A Ref!"}, "spec.image"),
    ({"image": "busybox", "cpu": "two"}, "spec.cpu"),
    ({"image": "busybox", "cpu": 0}, "spec.cpu"),
    ({"image": "busybox", "cpu": True}, "spec.cpu"),
    ({"image": "busybox", "memory": "lots"}, "spec.memory"),
    ({"image": "busybox", "memory": 4}, "spec.memory"),
    ({"image": "busybox", "gpu": 1.5}, "spec.gpu"),
    ({"image": "busybox", "gpu": -1}, "spec.gpu"),
    ({"image": "busybox", "env": {"1BAD": "x"}}, "spec.env"),
    ({"image": "busybox", "env": {"GOOD": 1}}, "spec.env.GOOD"),
    ({"image": "busybox", "env": ["A=1"]}, "spec.env"),
    ({"image": "busybox", "storage": [{"mount_path": "data"}]}, "spec.storage[0].mount_path"),
    ({"image": "busybox", "storage": [{"size": "1G"}]}, "spec.storage[0].mount_path"),
    (
        {"image": "busybox", "storage": [{"mount_path": "/d", "size": "huge"}]},
        "spec.storage[0].size",
    ),
    ({"image": "busybox", "start_url": "http://evil.example/"}, "spec.start_url"),
    ({"image": "busybox", "start_url": "//evil.example/"}, "spec.start_url"),
    ({"image": "busybox", "network": "host"}, "network"),
    ({"image": "busybox", "storage": [{"mount_path": None}]}, "spec.storage[0].mount_path"),
    ({"image": "busybox", "cpu": 10**400}, "spec.cpu"),
]


@pytest.mark.parametrize("spec,field", BAD_FORMATIONS)
async def test_bad_formation_spec(api, spec, field):
    await make_shared_image(api)
    r = await api("POST", "formations", {"name": "f", "spec": spec})
    assert r.code == 400, r.body
    assert body(r)["field"] == field
    assert body(await api("GET", "formations"))["total"] == 0


BAD_SHARES = [
    ("bob", {"permission": "admin"}, 400, "permission"),
    ("bob", {"permission": "owner"}, 400, "permission"),
    ("bob", {}, 400, "permission"),
    ("bob", {"permission": 2}, 400, "permission"),
    ("bob", {"permission": "view", "role": "x"}, 400, "role"),
    ("bob", {"permission": "view", "expires_at": "2001-01-01T00:00:00Z"}, 400, "expires_at"),
    ("bob", {"permission": "view", "expires_at": "next tuesday"}, 400, "expires_at"),
    ("bob", {"permission": "view", "expires_at": 1700000000}, 400, "expires_at"),
    ("bob", {"permission": "view", "expires_at": "9999-12-31T23:59:59-23:59"}, 400, "expires_at"),
    ("bob", ["view"], 400, "body"),
    ("bobb", {"permission": "view"}, 400, "principal"),
    ("nobody-at-all", {"permission": "view"}, 400, "principal"),
    ("group:class-2025", {"permission": "view"}, 400, "principal"),
    ("team:bob", {"permission": "view"}, 400, "principal"),
    ("user:", {"permission": "view"}, 400, "principal"),
    ("user:bad%20name", {"permission": "view"}, 400, "principal"),
    ("%20", {"permission": "view"}, 400, "principal"),
    ("alice", {"permission": "view"}, 409, "principal"),
    ("user:alice", {"permission": "edit"}, 409, "principal"),
]


@pytest.mark.parametrize("principal,payload,status,field", BAD_SHARES)
async def test_bad_shares(api, principal, payload, status, field):
    shared_image = await make_shared_image(api)
    before = await _state(api)
    r = await api("PUT", f"images/{shared_image['id']}/grants/{principal}", payload)
    assert r.code == status, r.body
    assert body(r)["field"] == field
    assert await _state(api) == before


async def test_unknown_user_gets_a_did_you_mean(api):
    shared_image = await make_shared_image(api)
    r = await api("PUT", f"images/{shared_image['id']}/grants/bobb", {"permission": "view"})
    assert body(r)["message"] == "unknown user 'bobb', did you mean 'bob'?"
    r = await api(
        "PUT", f"images/{shared_image['id']}/grants/group:class2026", {"permission": "view"}
    )
    assert body(r)["message"] == "unknown group 'class2026', did you mean 'class-2026'?"


async def test_bad_json_bodies(api):
    shared_image = await make_shared_image(api)
    before = await _state(api)
    for raw in (
        b"{bad",
        b"\xff\xfe",
        b"[1, 2]",
        b"null",
        b'"text"',
        b'{"name": "x", "spec": {"reference": "busybox"}, "description": NaN}',
    ):
        r = await api("POST", "images", raw)
        assert r.code == 400, (raw, r.body)
        assert body(r)["message"]
        r = await api("PATCH", f"images/{shared_image['id']}", raw)
        assert r.code == 400, (raw, r.body)
    assert (await api("POST", "images")).code == 400  # no body at all
    assert await _state(api) == before


async def test_bad_updates(api):
    shared_image = await make_shared_image(api)
    await make(api, payload={"name": "taken", "spec": {"reference": "busybox"}})
    before = await _state(api)
    rid = shared_image["id"]
    for payload, status in [
        ({"name": "taken"}, 409),
        ({"owner": "bob"}, 400),
        ({"id": "x"}, 400),
        ({"spec": {"reference": "NOPE!"}}, 400),
        ({"name": None}, 400),
    ]:
        r = await api("PATCH", f"images/{rid}", payload)
        assert r.code == status, (payload, r.body)
    r = await api("PATCH", "sessions/current", {"spec": {"url": "http://elsewhere/"}})
    assert r.code == 400
    assert await _state(api) == before


@pytest.mark.parametrize(
    "path",
    [
        "images?scope=everything",
        "images?offset=-1",
        "images?offset=x",
        "images?limit=0",
        "images?limit=100000",
        "shared-with-me?kind=pizzas",
        "shared-with-me?limit=abc",
        "images/{id}/environment?format=docker",
        "images/{id}/history?limit=-5",
    ],
)
async def test_bad_query_parameters(api, path):
    shared_image = await make_shared_image(api)
    r = await api("GET", path.format(id=shared_image["id"]))
    assert r.code == 400, r.body
    assert body(r)["field"] in ("scope", "offset", "limit", "kind", "format", "q")


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "images/0000000000000000"),
        ("PATCH", "images/0000000000000000"),
        ("DELETE", "images/0000000000000000"),
        ("GET", "images/0000000000000000/grants"),
        ("PUT", "images/0000000000000000/grants/bob"),
        ("DELETE", "images/0000000000000000/grants/bob"),
        ("GET", "images/0000000000000000/history"),
        ("GET", "images/0000000000000000/environment"),
        ("GET", "formations/{id}"),  # an image's id under the wrong kind
        ("GET", "pizzas"),
        ("GET", "images/a/b/c/d"),
        ("GET", "images/nul%00id"),
        ("GET", "images/" + "7" * 40),
    ],
)
async def test_absent_is_404(api, method, path):
    shared_image = await make_shared_image(api)
    payload = (
        {"permission": "view"}
        if method == "PUT"
        else ({"name": "n"} if method == "PATCH" else None)
    )
    r = await api(method, path.format(id=shared_image["id"]), payload)
    assert r.code == 404, r.body


async def test_unknown_api_paths_answer_a_json_404(api):
    for method, path in [
        ("GET", "nope"),
        ("POST", "images/x/y/z/w"),
        ("DELETE", "sessions/current/grants/bob/link/x"),
    ]:
        r = await api(method, path)
        assert r.code == 404, (method, path, r.code)
        assert r.headers["Content-Type"].startswith("application/json")
        assert "no such path" in json.loads(r.body)["message"]
