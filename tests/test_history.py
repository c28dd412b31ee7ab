"""The history you can read (issue 15): filters by person and action, CSV and JSON export,
who reads what (the owner and managers all of it, a grantee the rows about them, a stranger
nothing: 404), sign-ins by personal link with their address, no secret in any answer or
export, retention; and list answers that carry the badge's grantees but no captured
environment.

The first part runs on the in-process server (SQLite and PostgreSQL); the second on real
servers of alice, bob and carol on one store (slow)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx
import pytest

from jupyter_share.model import Kind, utcnow
from jupyter_share.service import ShareService

from .servers import running_servers

IMAGE = {"name": "CARET", "spec": {"reference": "quay.io/lab/caret:2026.1"}}
ENVIRONMENT = {
    "python": "3.12.1 (main)",
    "platform": "linux-x86_64",
    "captured_at": "2026-12-01T10:00:00Z",
    "packages": [{"name": f"pkg{i}", "version": "1.0"} for i in range(40)],
    "kernelspecs": [{"name": "python3"}],
}


def body(r):
    return json.loads(r.body) if r.body else None


async def story(api) -> str:
    """An image shared with bob, changed, with the group, revoked; bob asks for more."""
    r = await api("POST", "images", IMAGE)
    assert r.code == 201
    image = body(r)["id"]
    path = f"images/{image}/grants"
    for principal, permission in (("bob", "view"), ("bob", "edit"), ("group:class-2026", "view")):
        assert (await api("PUT", f"{path}/{principal}", {"permission": permission})).code in (
            200,
            201,
        )
    assert (await api("PUT", f"{path}/carol", {"permission": "view"})).code == 201
    assert (await api("DELETE", f"{path}/carol")).code == 204
    return image


async def test_filters_by_person_and_action(api):
    image = await story(api)
    history = f"images/{image}/history"
    everything = body(await api("GET", history))
    assert [h["action"] for h in everything["items"]] == [
        "create",
        "share",
        "change",
        "share",
        "share",
        "revoke",
    ]
    assert all(h["address"] is None for h in everything["items"])

    bob = body(await api("GET", f"{history}?person=bob"))
    assert [(h["action"], h["principal"]) for h in bob["items"]] == [
        ("share", "user:bob"),
        ("change", "user:bob"),
    ]
    assert bob["total"] == 2
    # user:bob is the same person; alice is the actor of every row.
    assert body(await api("GET", f"{history}?person=user:bob")) == bob
    assert body(await api("GET", f"{history}?person=alice"))["total"] == 6
    group = body(await api("GET", f"{history}?person=group:class-2026"))
    assert [h["principal"] for h in group["items"]] == ["group:class-2026"]

    shares = body(await api("GET", f"{history}?action=share"))
    assert [h["principal"] for h in shares["items"]] == [
        "user:bob",
        "group:class-2026",
        "user:carol",
    ]
    both = body(await api("GET", f"{history}?action=share,revoke&person=carol"))
    assert [h["action"] for h in both["items"]] == ["share", "revoke"]
    # Paging within a filter.
    page = body(await api("GET", f"{history}?action=share&offset=1&limit=1"))
    assert page["total"] == 3 and [h["principal"] for h in page["items"]] == ["group:class-2026"]


async def test_csv_export(api):
    image = await story(api)
    r = await api("GET", f"images/{image}/history?format=csv&person=bob")
    assert r.code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert 'filename="history.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.body.decode())))
    assert rows[0] == ["at", "actor", "action", "principal", "permission", "address"]
    assert [row[1:5] for row in rows[1:]] == [
        ["alice", "share", "user:bob", "view"],
        ["alice", "change", "user:bob", "edit"],
    ]
    everything = list(
        csv.reader(io.StringIO(body_text(await api("GET", f"images/{image}/history?format=csv"))))
    )
    assert len(everything) == 1 + 6
    # The JSON format is the page itself.
    assert body(await api("GET", f"images/{image}/history?format=json"))["total"] == 6


def body_text(r) -> str:
    return r.body.decode()


@pytest.mark.parametrize(
    "query, field",
    [
        ("action=explode", "action"),
        ("action=share,nope", "action"),
        ("person=bad%20name", "person"),
        ("person=robot:x", "person"),
        ("format=xml", "format"),
        ("format=csv&limit=0", "limit"),
        ("limit=5000", "limit"),
        ("offset=-1", "offset"),
        ("person=" + ",".join(f"u{i}" for i in range(21)), "person"),
        ("person=bob:", "person"),
    ],
)
async def test_bad_filters_are_a_json_400(api, query, field):
    r = await api("POST", "images", IMAGE)
    image = body(r)["id"]
    r = await api("GET", f"images/{image}/history?{query}")
    assert r.code == 400, r.body
    assert r.headers["Content-Type"].startswith("application/json")
    assert body(r)["field"] == field and body(r)["message"]
    # Nothing about the resource is needed to refuse, and nothing else is answered.
    assert (await api("GET", f"images/0000000000000000/history?{query}")).code == 400


async def test_a_missing_resource_is_404_in_every_format(api):
    for query in ("", "?format=csv", "?person=bob&action=share"):
        r = await api("GET", f"images/0000000000000000/history{query}")
        assert r.code == 404 and body(r)["reason"] == "Not Found"


async def test_lists_carry_the_grantees_and_no_captured_environment(api):
    r = await api(
        "POST",
        "images",
        {
            "name": "captured",
            "spec": {"reference": IMAGE["spec"]["reference"], "environment": ENVIRONMENT},
        },
    )
    assert r.code == 201
    created = body(r)
    # The answer to the creation and the image itself carry the whole spec.
    assert created["spec"]["environment"] == ENVIRONMENT
    assert created["environment"] == {
        "python": "3.12.1 (main)",
        "packages": 40,
        "kernelspecs": 1,
        "captured_at": "2026-12-01T10:00:00Z",
    }
    for principal in ("group:class-2026", "carol", "bob"):
        await api("PUT", f"images/{created['id']}/grants/{principal}", {"permission": "view"})
    full = body(await api("GET", f"images/{created['id']}"))
    assert full["spec"]["environment"] == ENVIRONMENT
    assert [g["principal"] for g in full["grantees"]] == [
        "user:bob",
        "user:carol",
        "group:class-2026",
    ]

    for path in ("images", "images?scope=owned"):
        listed = body(await api("GET", path))
        item = next(i for i in listed["items"] if i["id"] == created["id"])
        assert "environment" not in item["spec"] and item["spec"]["reference"]
        assert item["environment"] == created["environment"]
        assert item["share_count"] == 3
        assert item["grantees"] == [
            {"principal": "user:bob", "kind": "user", "name": "bob", "permission": "view"},
            {"principal": "user:carol", "kind": "user", "name": "carol", "permission": "view"},
            {
                "principal": "group:class-2026",
                "kind": "group",
                "name": "class-2026",
                "permission": "view",
            },
        ]
    # A resource shared with nobody lists nobody; a formation has no environment summary.
    r = await api(
        "POST", "formations", {"name": "small", "spec": {"image": created["id"], "cpu": 1}}
    )
    listed = body(await api("GET", "formations"))["items"]
    assert listed[0]["grantees"] == [] and "environment" not in listed[0]
    # The environment file is still there.
    assert (await api("GET", f"images/{created['id']}/environment")).code == 200


def test_grantees_are_capped_and_the_count_says_how_many(store):
    from jupyter_share.directory import StandaloneDirectory

    names = [f"user{i:02d}" for i in range(25)]
    service = ShareService(store, StandaloneDirectory(store=store, users=names, groups={}))
    image = service.create("alice", Kind.IMAGE, IMAGE)
    for name in names:
        service.share("alice", Kind.IMAGE, image.resource.id, name, {"permission": "view"})
    (view,) = service.list("alice", Kind.IMAGE, "owned").items
    assert view.share_count == 25
    assert [g.principal.name for g in view.grantees] == names[:20]


def test_retention_keeps_each_grantees_last_share(store):
    """Rows older than the retention go, but the row that says who made a live grant stays
    (a manager must not become its maker once the history forgets)."""
    from jupyter_share.directory import StandaloneDirectory

    now = [utcnow() - timedelta(days=400)]
    service = ShareService(
        store,
        StandaloneDirectory(store=store, users=["bob", "carol"], groups={}),
        clock=lambda: now[0],
        history_retention=timedelta(days=365),
    )
    image = service.create("alice", Kind.IMAGE, IMAGE).resource
    service.share("alice", Kind.IMAGE, image.id, "bob", {"permission": "view"})
    service.share("alice", Kind.IMAGE, image.id, "bob", {"permission": "edit"})
    service.share("alice", Kind.IMAGE, image.id, "carol", {"permission": "view"})
    now[0] = utcnow()
    service.share("alice", Kind.IMAGE, image.id, "carol", {"permission": "edit"})
    assert service.purge_history() == 2  # create, and bob's change
    rows = service.history("alice", Kind.IMAGE, image.id).items
    assert [(e.action, e.principal) for e in rows] == [
        ("share", "user:bob"),
        ("share", "user:carol"),
        ("change", "user:carol"),
    ]
    assert service.purge_history() == 0
    forever = ShareService(store, service.directory)
    assert forever.purge_history() == 0


def test_a_sign_in_row_keeps_the_address_and_no_link(store):
    from jupyter_share.directory import StandaloneDirectory

    service = ShareService(store, StandaloneDirectory(store=store, users=["bob"], groups={}))
    session = service.ensure_container("alice", "alice@host:~", {"url": "http://x/"})
    service.share("alice", Kind.SESSION, session.id, "bob", {"permission": "view"}, with_link=True)
    service.record_signin(session.id, "bob", "10.0.0.7" + "9" * 100)
    (row,) = service.history("alice", Kind.SESSION, session.id, action="signin").items
    assert row.actor == "bob" and row.principal == "user:bob" and row.permission == "view"
    assert row.address == ("10.0.0.7" + "9" * 100)[:64]
    # A resource that is gone records nothing.
    service.record_signin("0000000000000000", "bob", "10.0.0.7")
    assert store.history("0000000000000000")[1] == 0
    assert service.history("alice", Kind.SESSION, session.id, action="signin").total == 1


# -- real servers: who reads what, sign-ins, secrets --------------------------------------


@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("history")
    with running_servers(
        ["alice", "bob", "carol", "dave"],
        f"sqlite:///{workdir / 'share.db'}",
        workdir,
        users=["alice", "bob", "carol", "dave"],
        groups={"class-2026": ["carol"]},
    ) as servers:
        yield servers


@pytest.mark.slow
def test_who_reads_what(trio):
    alice, bob, carol, dave = (trio[n] for n in ("alice", "bob", "carol", "dave"))
    image = alice.post("/images", IMAGE).json()["id"]
    grants = f"/images/{image}/grants"
    assert alice.put(f"{grants}/bob", {"permission": "view"}).status_code == 201
    assert alice.put(f"{grants}/group:class-2026", {"permission": "view"}).status_code == 201
    assert alice.put(f"{grants}/dave", {"permission": "manage"}).status_code == 201
    assert alice.put(f"{grants}/ivy", {"permission": "view"}).status_code == 400  # unknown
    assert bob.post(f"/images/{image}/requests", {"permission": "edit"}).status_code == 201
    assert alice.post(f"/images/{image}/requests/bob", {"decision": "deny"}).status_code == 200
    history = f"/images/{image}/history"
    everything = alice.get(history).json()
    assert everything["total"] == 6
    # A manager reads all of it, as the owner does.
    assert dave.get(history).json() == everything
    # bob (view) reads the rows about him: his share, his request and its denial.
    mine = bob.get(history).json()
    assert [(h["action"], h["principal"]) for h in mine["items"]] == [
        ("share", "user:bob"),
        ("ask", "user:bob"),
        ("deny", "user:bob"),
    ]
    # Repeated parameters are the same as a comma-separated one.
    r = alice.get(history, params=[("person", "bob"), ("person", "dave"), ("action", "share")])
    assert [h["principal"] for h in r.json()["items"]] == ["user:bob", "user:dave"]
    # A filter cannot reach past the rule.
    assert bob.get(history, params={"person": "dave"}).json() == {"items": [], "total": 0}
    assert bob.get(history, params={"action": "share"}).json()["total"] == 1
    csv_rows = list(csv.reader(io.StringIO(bob.get(history, params={"format": "csv"}).text)))
    assert [row[2] for row in csv_rows[1:]] == ["share", "ask", "deny"]
    # carol, through her group, reads the group's rows.
    theirs = carol.get(history).json()
    assert [h["principal"] for h in theirs["items"]] == ["group:class-2026"]
    # Once bob's access ends he reads nothing: 404, as for a stranger.
    assert alice.delete(f"{grants}/bob").status_code == 204
    for query in ({}, {"format": "csv"}, {"person": "bob"}):
        r = bob.get(history, params=query)
        assert r.status_code == 404 and r.json()["reason"] == "Not Found"
    # Under a name the store never knew, or a resource id that does not exist: 404 too.
    assert bob.get("/images/0000000000000000/history").status_code == 404


@pytest.mark.slow
def test_sign_ins_by_link_are_in_the_history_and_no_secret_is(trio):
    alice = trio["alice"]
    for grant in alice.get("/sessions/current/grants").json()["items"]:
        alice.delete(f"/sessions/current/grants/{grant['principal']}")
    link = alice.put("/sessions/current/grants/bob", {"permission": "view"}).json()["link"]
    secret = link.rsplit("/", 1)[1]
    guest = httpx.Client(timeout=30)
    assert guest.get(link).status_code == 302
    relinked = alice.post("/sessions/current/grants/bob/link").json()["link"]
    assert guest.get(relinked).status_code == 302
    assert guest.get(link).status_code == 403  # the old link died with the new one

    history = "/sessions/current/history"
    rows = alice.get(history, params={"person": "bob"}).json()["items"]
    assert [h["action"] for h in rows][-4:] == ["share", "signin", "relink", "signin"]
    signins = alice.get(history, params={"action": "signin"}).json()["items"]
    assert signins[-1]["address"] == "127.0.0.1" and signins[-1]["actor"] == "bob"
    assert signins[-1]["permission"] == "view"

    answers = [
        alice.get(history).text,
        alice.get(history, params={"format": "csv"}).text,
        alice.get(history, params={"action": "signin,relink", "format": "csv"}).text,
    ]
    # The guest reads their own rows in the container they are in.
    guest.cookies.set("_xsrf", "x")
    own = guest.get(f"{alice.url}jupyter-share/api/v1{history}")
    assert own.status_code == 200, own.text
    answers.append(own.text)
    assert {h["principal"] for h in own.json()["items"]} == {"user:bob"}
    for text in answers:
        for value in (secret, secret.split(".", 1)[1], relinked.rsplit(".", 1)[1], alice.token):
            assert value not in text
        assert "jupyter-share/link" not in text
