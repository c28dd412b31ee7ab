"""Asking for more (issue 14): the rules of requests in the service, on a real store (SQLite and
PostgreSQL), with the events and history rows they leave, and the migration that adds them."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from jupyter_share.directory import StandaloneDirectory
from jupyter_share.model import Conflict, Forbidden, InvalidInput, Kind, NotFound, utcnow
from jupyter_share.service import MAX_REQUEST_MESSAGE, ShareService
from jupyter_share.store import SQLStore, migrations

GROUPS = {"class-2026": ["erin"], "staff": ["henry"]}


@pytest.fixture
def svc(store):
    events: list = []
    service = ShareService(
        store,
        StandaloneDirectory(
            store,
            users=["alice", "bob", "carol", "dave", "erin", "henry"],
            groups=GROUPS,
            use_login_accounts=False,
        ),
        emit=events.append,
    )
    service.events = events
    return service


def image(svc, owner="alice", name="CARET"):
    return svc.create(
        owner, Kind.IMAGE, {"name": name, "spec": {"reference": "quay.io/lab/caret:1"}}
    ).resource.id


def share(svc, rid, who, permission, by="alice", **extra):
    return svc.share(by, Kind.IMAGE, rid, who, {"permission": permission, **extra})


def access(svc, user, rid):
    return svc.view(user, Kind.IMAGE, rid).access


def test_ask_approve_changes_the_grant_with_events_and_history(svc):
    rid = image(svc)
    share(svc, rid, "bob", "view")
    svc.events.clear()
    asked = svc.ask(
        "bob", Kind.IMAGE, rid, {"permission": "edit", "message": "  may I fix the spec?  "}
    )
    assert (asked.request.requester, asked.request.permission.label, asked.request.message) == (
        "bob",
        "edit",
        "may I fix the spec?",
    )
    assert asked.holds == "view"
    assert [(e["action"], e["actor"], e["principal"], e["permission"]) for e in svc.events] == [
        ("ask", "bob", "user:bob", "edit")
    ]

    # The owner sees it on the resource and in her list; bob sees his own.
    assert [v.request.requester for v in svc.requests_on("alice", Kind.IMAGE, rid)] == ["bob"]
    mine = svc.requests_for_me("alice")
    assert [(v.request.requester, v.resource.id, v.holds) for v in mine["to_decide"]] == [
        ("bob", rid, "view")
    ]
    assert mine["asked"] == []
    assert [v.resource.id for v in svc.requests_for_me("bob")["asked"]] == [rid]
    assert svc.requests_for_me("bob")["to_decide"] == []

    svc.events.clear()
    decided = svc.decide("alice", Kind.IMAGE, rid, "bob", {"decision": "approve"})
    assert decided.decision == "approve" and decided.share.grant.permission.label == "edit"
    assert access(svc, "bob", rid) == "edit"
    assert [(e["action"], e["actor"], e["principal"], e["permission"]) for e in svc.events] == [
        ("change", "alice", "user:bob", "edit"),
        ("approve", "alice", "user:bob", "edit"),
    ]
    assert (
        svc.requests_on("alice", Kind.IMAGE, rid) == []
        and svc.requests_for_me("bob")["asked"] == []
    )
    history = svc.history("alice", Kind.IMAGE, rid).items
    assert [(e.action, e.actor, e.principal, e.permission) for e in history][-3:] == [
        ("ask", "bob", "user:bob", "edit"),
        ("change", "alice", "user:bob", "edit"),
        ("approve", "alice", "user:bob", "edit"),
    ]
    # The grant keeps who made it.
    assert [g.granted_by for g in svc.grants("alice", Kind.IMAGE, rid)] == ["alice"]


def test_deny_and_withdraw_close_the_request(svc):
    rid = image(svc)
    share(svc, rid, "bob", "view")
    share(svc, rid, "carol", "edit")
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "manage"})
    svc.ask("carol", Kind.IMAGE, rid, {"permission": "manage"})
    svc.events.clear()
    decided = svc.decide("alice", Kind.IMAGE, rid, "user:bob", {"decision": "deny"})
    assert decided.decision == "deny" and decided.share is None
    assert access(svc, "bob", rid) == "view"
    svc.withdraw("carol", Kind.IMAGE, rid, "carol")
    assert [(e["action"], e["actor"], e["principal"]) for e in svc.events] == [
        ("deny", "alice", "user:bob"),
        ("withdraw", "carol", "user:carol"),
    ]
    assert svc.requests_on("alice", Kind.IMAGE, rid) == []
    actions = [e.action for e in svc.history("alice", Kind.IMAGE, rid).items]
    assert actions[-4:] == ["ask", "ask", "deny", "withdraw"]
    # Closed: asking again is allowed, deciding or withdrawing a closed one is a 404.
    with pytest.raises(NotFound):
        svc.decide("alice", Kind.IMAGE, rid, "bob", {"decision": "approve"})
    with pytest.raises(NotFound):
        svc.withdraw("carol", Kind.IMAGE, rid, "carol")
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "edit"})


def test_the_rules_of_asking(svc):
    rid = image(svc)
    hidden = image(svc, name="secret")
    share(svc, rid, "bob", "view")
    share(svc, rid, "carol", "manage")
    share(svc, rid, "dave", "edit")
    with pytest.raises(Conflict, match="own"):
        svc.ask("alice", Kind.IMAGE, rid, {"permission": "edit"})  # none from the owner
    with pytest.raises(InvalidInput, match="more than 'manage'"):
        svc.ask("bob", Kind.IMAGE, rid, {"permission": "owner"})  # none above manage
    with pytest.raises(Conflict, match="hold 'view'"):
        svc.ask("bob", Kind.IMAGE, rid, {"permission": "view"})  # held already
    with pytest.raises(Conflict, match="hold 'edit'"):
        svc.ask("dave", Kind.IMAGE, rid, {"permission": "edit"})
    with pytest.raises(Conflict, match="hold 'manage'"):
        svc.ask("carol", Kind.IMAGE, rid, {"permission": "manage"})  # managers hold the most
    with pytest.raises(NotFound):
        svc.ask("bob", Kind.IMAGE, hidden, {"permission": "edit"})  # not visible: not revealed
    with pytest.raises(NotFound):
        svc.ask("bob", Kind.FORMATION, rid, {"permission": "edit"})  # not a formation
    with pytest.raises(NotFound):
        svc.ask("bob", Kind.IMAGE, "no-such", {"permission": "edit"})
    for body, _field in [
        ({}, "permission"),
        (None, "body"),
        ({"permission": "edit", "colour": "red"}, None),
        ({"permission": "edit", "message": 3}, "message"),
        ({"permission": "edit", "message": "x" * (MAX_REQUEST_MESSAGE + 1)}, "message"),
        ({"permission": "edit", "message": "a\x00b"}, None),
        ({"permission": "admin"}, "permission"),
    ]:
        with pytest.raises(InvalidInput):
            svc.ask("bob", Kind.IMAGE, rid, body)
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "edit"})
    with pytest.raises(Conflict, match="already"):  # one open request per person and resource
        svc.ask("bob", Kind.IMAGE, rid, {"permission": "manage"})
    # Asking through a group's grant: erin sees it through class-2026.
    share(svc, rid, "group:class-2026", "view")
    svc.ask("erin", Kind.IMAGE, rid, {"permission": "edit", "message": None})


def test_who_may_decide_and_see_requests(svc):
    rid = image(svc)
    share(svc, rid, "bob", "view")
    share(svc, rid, "carol", "manage")
    share(svc, rid, "dave", "edit")
    share(svc, rid, "group:staff", "manage")  # henry manages through a group
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "edit"})
    # Below manage: only one's own request is shown; deciding is refused (403: they see it).
    assert svc.requests_on("dave", Kind.IMAGE, rid) == []
    with pytest.raises(Forbidden):
        svc.decide("dave", Kind.IMAGE, rid, "bob", {"decision": "approve"})
    with pytest.raises(NotFound):  # erin does not see it at all
        svc.decide("erin", Kind.IMAGE, rid, "bob", {"decision": "approve"})
    with pytest.raises(NotFound):
        svc.requests_on("erin", Kind.IMAGE, rid)
    with pytest.raises(NotFound):  # dave cannot see bob's request: not revealed
        svc.withdraw("dave", Kind.IMAGE, rid, "bob")
    with pytest.raises(Forbidden, match="only bob"):  # the owner denies instead
        svc.withdraw("alice", Kind.IMAGE, rid, "bob")
    assert [v.request.requester for v in svc.requests_for_me("carol")["to_decide"]] == ["bob"]
    assert [v.request.requester for v in svc.requests_for_me("henry")["to_decide"]] == ["bob"]
    assert svc.requests_for_me("dave")["to_decide"] == []
    for bad in ({}, {"decision": "maybe"}, {"decision": "approve", "permission": "edit"}, "[]"):
        with pytest.raises(InvalidInput):
            svc.decide("carol", Kind.IMAGE, rid, "bob", bad)
    with pytest.raises(InvalidInput):
        svc.decide("carol", Kind.IMAGE, rid, "group:staff", {"decision": "deny"})
    with pytest.raises(NotFound):
        svc.decide("carol", Kind.IMAGE, rid, "dave", {"decision": "deny"})
    # A manager approves: the grant changes through the share rules, made by alice still.
    svc.decide("henry", Kind.IMAGE, rid, "bob", {"decision": "approve"})
    assert access(svc, "bob", rid) == "edit"


def test_approving_keeps_the_expiry_and_never_lowers(svc):
    rid = image(svc)
    until = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    share(svc, rid, "bob", "view", expires_at=until.isoformat() + "Z")
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "edit"})
    grant = svc.decide("alice", Kind.IMAGE, rid, "bob", {"decision": "approve"}).share.grant
    assert grant.permission.label == "edit" and grant.expires_at == until

    # Given more meanwhile: approving closes the request and leaves the grant as it is.
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "manage"})
    share(svc, rid, "bob", "manage")
    decided = svc.decide("alice", Kind.IMAGE, rid, "bob", {"decision": "approve"})
    assert decided.share.unchanged and access(svc, "bob", rid) == "manage"
    assert svc.requests_on("alice", Kind.IMAGE, rid) == []

    # Through a group only: approving gives the requester a grant of their own.
    share(svc, rid, "group:class-2026", "view")
    svc.ask("erin", Kind.IMAGE, rid, {"permission": "edit"})
    decided = svc.decide("alice", Kind.IMAGE, rid, "erin", {"decision": "approve"})
    assert decided.share.created and access(svc, "erin", rid) == "edit"


def test_a_request_of_someone_who_lost_access(svc):
    rid = image(svc)
    share(svc, rid, "bob", "view")
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "edit"})
    svc.revoke("alice", Kind.IMAGE, rid, "bob")
    assert svc.requests_for_me("bob")["asked"] == []  # no longer shared: not shown
    [view] = svc.requests_on("alice", Kind.IMAGE, rid)
    assert view.holds is None
    with pytest.raises(Conflict, match="no longer has access"):
        svc.decide("alice", Kind.IMAGE, rid, "bob", {"decision": "approve"})
    assert access_or_none(svc, "bob", rid) is None
    svc.decide("alice", Kind.IMAGE, rid, "bob", {"decision": "deny"})
    assert svc.requests_on("alice", Kind.IMAGE, rid) == []


def access_or_none(svc, user, rid):
    try:
        return access(svc, user, rid)
    except NotFound:
        return None


def test_requests_go_with_their_resource(svc, store):
    rid = image(svc)
    share(svc, rid, "bob", "view")
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "edit"})
    svc.delete("alice", Kind.IMAGE, rid)
    assert store.open_requests(rid) == []
    assert svc.requests_for_me("alice") == {"to_decide": [], "asked": []}
    assert svc.requests_for_me("bob") == {"to_decide": [], "asked": []}


def test_sessions_and_formations_take_requests_too(svc):
    session = svc.ensure_container("alice", "default", {"url": "http://127.0.0.1:1/"})
    svc.share("alice", Kind.SESSION, session.id, "bob", {"permission": "view"})
    formation = svc.create(
        "alice", Kind.FORMATION, {"name": "f", "spec": {"image": "quay.io/lab/caret:1"}}
    ).resource.id
    svc.share("alice", Kind.FORMATION, formation, "bob", {"permission": "edit"})
    svc.ask("bob", Kind.SESSION, session.id, {"permission": "edit"})
    svc.ask("bob", Kind.FORMATION, formation, {"permission": "manage"})
    kinds = sorted(v.resource.kind.value for v in svc.requests_for_me("alice")["to_decide"])
    assert kinds == ["formation", "session"]
    svc.decide("alice", Kind.SESSION, session.id, "bob", {"decision": "approve"})
    assert svc.view("bob", Kind.SESSION, session.id).access == "edit"


def test_migration_to_v4_keeps_the_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    assert migrations.upgrade(engine, target=3) == 3
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO resources (id, kind, name, owner, description, spec, created_at, updated_at) "
                "VALUES ('r1', 'image', 'old', 'alice', '', '{}', '2026-01-01', '2026-01-01')"
            )
        )
    engine.dispose()
    store = SQLStore(url)  # upgrades to the latest
    try:
        with store.engine.connect() as conn:
            assert migrations.current_version(conn) == migrations.LATEST >= 4
            assert sa.inspect(conn).has_table("requests")
        assert store.get_resource("r1").name == "old" and store.open_requests("r1") == []
    finally:
        store.close()


# -- the REST API on a real in-process server (alice's), both stores ------------------------------


def _json(r):
    return json.loads(r.body) if r.body else None


@pytest.mark.slow
async def test_api_ask_decide_withdraw_with_events(api, jp_serverapp):
    from jupyter_share.app import EVENT_SCHEMA_ID

    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_share"]
    svc = app.service
    seen: list = []

    async def listener(logger, schema_id, data):
        seen.append(data)

    jp_serverapp.event_logger.add_listener(schema_id=EVENT_SCHEMA_ID, listener=listener)

    # bob asks for edit on alice's image; alice sees it in /requests and approves.
    r = await api("POST", "images", {"name": "CARET", "spec": {"reference": "quay.io/lab/caret:1"}})
    rid = _json(r)["id"]
    await api("PUT", f"images/{rid}/grants/bob", {"permission": "view"})
    svc.ask("bob", Kind.IMAGE, rid, {"permission": "edit", "message": "to fix the tag"})
    todo = _json(await api("GET", "requests"))["to_decide"]
    assert [
        (t["requester"], t["permission"], t["message"], t["holds"], t["resource_name"])
        for t in todo
    ] == [("bob", "edit", "to fix the tag", "view", "CARET")]
    r = await api("POST", f"images/{rid}/requests/bob", {"decision": "approve"})
    assert r.code == 200 and _json(r)["grant"]["permission"] == "edit"
    assert svc.view("bob", Kind.IMAGE, rid).access == "edit"
    assert _json(await api("GET", "requests"))["to_decide"] == []

    # alice asks on bob's image and withdraws.
    theirs = svc.create(
        "bob", Kind.IMAGE, {"name": "bob's", "spec": {"reference": "quay.io/lab/caret:1"}}
    ).resource.id
    svc.share("bob", Kind.IMAGE, theirs, "alice", {"permission": "edit"})
    r = await api("POST", f"images/{theirs}/requests", {"permission": "manage"})
    assert r.code == 201 and _json(r)["holds"] == "edit"
    assert (await api("POST", f"images/{theirs}/requests", {"permission": "manage"})).code == 409
    assert [v.request.requester for v in svc.requests_for_me("bob")["to_decide"]] == ["alice"]
    assert (await api("DELETE", f"images/{theirs}/requests/alice")).code == 204

    # Bad input is a 4xx, never a 500.
    for method, path, payload, code in [
        ("POST", f"images/{theirs}/requests", "{not json", 400),
        ("POST", f"images/{theirs}/requests", [], 400),
        ("POST", f"images/{theirs}/requests", {"permission": ["edit"]}, 400),
        ("POST", f"images/{theirs}/requests", {"permission": "edit", "message": {"a": 1}}, 400),
        ("POST", f"images/{rid}/requests/bob", "{}", 400),
        ("POST", f"images/{rid}/requests/b%00b", {"decision": "deny"}, 400),
        ("POST", f"images/{rid}/requests/{'x' * 300}", {"decision": "deny"}, 400),
        ("DELETE", f"images/{rid}/requests/%20", None, 400),
        ("POST", "images/%00/requests", {"permission": "edit"}, 404),
        ("GET", f"pets/{rid}/requests", None, 404),
    ]:
        r = await api(method, path, payload)
        assert r.code == code, (method, path, r.code, r.body)

    for _ in range(50):
        if sum(e["action"] in ("ask", "approve", "withdraw") for e in seen) >= 4:
            break
        await asyncio.sleep(0.02)
    actions = [(e["action"], e["actor"], e.get("principal"), e.get("permission")) for e in seen]
    for expected in [
        ("ask", "bob", "user:bob", "edit"),
        ("change", "alice", "user:bob", "edit"),
        ("approve", "alice", "user:bob", "edit"),
        ("ask", "alice", "user:alice", "manage"),
        ("withdraw", "alice", "user:alice", "manage"),
    ]:
        assert expected in actions
    assert actions.index(("change", "alice", "user:bob", "edit")) < actions.index(
        ("approve", "alice", "user:bob", "edit")
    )


# -- the command line ----------------------------------------------------------------------------


@pytest.mark.slow  # `jupyter share` as a process per command
def test_cli_ask_requests_approve_deny_withdraw(tmp_path):
    from .test_cli import CLI

    cli = CLI(tmp_path)
    cli.configure(db_url=f"sqlite:///{tmp_path / 'share.db'}", users=["bob", "carol"])
    image = cli.json("create-image", "caret", "--reference", "quay.io/lab/caret:2026.1")
    ref = f"images/{image['id']}"
    cli.run("share", ref, "bob")
    cli.run("share", ref, "carol")

    asked = cli.json(
        "ask", "images/caret", "--permission", "edit", "--message", "to fix the tag", user="bob"
    )  # by name
    assert (asked["requester"], asked["permission"], asked["holds"], asked["message"]) == (
        "bob",
        "edit",
        "view",
        "to fix the tag",
    )
    assert (
        cli.run("ask", ref, "--permission", "manage", user="carol").stdout
        == "asked alice for manage on image 'caret'\n"
    )
    cli.run("ask", ref, user="bob", expect=5)  # one open request per person and resource
    cli.run("ask", ref, expect=5)  # none from the owner
    cli.run(
        "ask", ref, "--permission", "owner", user="bob", expect=2
    )  # argparse: none above manage

    listing = cli.run("requests").stdout
    assert "for you to decide" in listing and "to fix the tag" in listing and "carol" in listing
    assert [r["requester"] for r in cli.json("requests")["to_decide"]] == ["bob", "carol"]
    assert [r["resource_id"] for r in cli.json("requests", user="bob")["asked"]] == [image["id"]]
    assert cli.json("requests", ref, user="bob")["total"] == 1  # his own only
    assert cli.json("requests", ref)["total"] == 2

    assert (
        cli.run("approve", ref, "bob").stdout
        == "approved bob's request for edit on image 'caret'\n"
    )
    assert cli.json("show", ref, user="bob")["access"] == "edit"
    cli.run("approve", ref, "bob", expect=3)  # closed
    cli.run("approve", ref, "carol", user="bob", expect=4)  # edit cannot decide
    denied = cli.json("deny", ref, "carol")
    assert denied == {"decision": "deny", "requester": "carol", "permission": "manage"}
    cli.run("ask", ref, "--permission", "manage", user="carol")
    assert (
        cli.run("withdraw", ref, user="carol").stdout == "withdrew your request on image 'caret'\n"
    )
    assert cli.run("requests").stdout == "no requests for you to decide\n"
    history = [(h["action"], h["actor"], h["principal"]) for h in cli.json("history", ref)["items"]]
    assert history[-7:] == [
        ("ask", "bob", "user:bob"),
        ("ask", "carol", "user:carol"),
        ("change", "alice", "user:bob"),
        ("approve", "alice", "user:bob"),
        ("deny", "alice", "user:carol"),
        ("ask", "carol", "user:carol"),
        ("withdraw", "carol", "user:carol"),
    ]


# -- the notebook widgets -------------------------------------------------------------------------


@pytest.mark.slow
def test_widgets_ask_from_shared_with_me_and_decide_in_the_share_panel(tmp_path):
    from jupyter_share.client import ShareClient
    from jupyter_share.widgets import SharedWithMe, SharePanel

    from .servers import running_servers

    with running_servers(
        ["alice", "bob"], f"sqlite:///{tmp_path / 'share.db'}", tmp_path
    ) as servers:
        alice = ShareClient(servers["alice"].url, servers["alice"].token)
        bob = ShareClient(servers["bob"].url, servers["bob"].token)
        image = alice.create_image("asked", {"reference": "quay.io/lab/caret:1"})
        alice.share(image, "bob", "view")

        # bob: "Ask for edit" on his Shared with me row.
        mine = SharedWithMe(client=bob)
        [row] = mine.rows
        assert "ask" in row.buttons and row.buttons["ask"].description == "Ask for edit"
        row.buttons["ask"].click()
        assert mine.last_error is None and "Asked alice for edit on asked" in mine.status.value
        row.buttons["ask"].click()  # one open request: the server's word, in the status line
        assert "already" in mine.last_error

        # alice: the share panel lists it with Approve and Deny.
        panel = SharePanel(image, client=alice)
        [request] = [c for c in panel.requests_box.children if hasattr(c, "approve_button")]
        assert "bob" in request.children[0].value and "asks for" in request.children[0].value
        request.approve_button.click()
        assert (
            panel.last_error is None
            and "Approved bob&#x27;s request for edit" in panel.status.value
        )
        assert bob.get(image)["access"] == "edit" and panel.requests_box.children == ()

        # Now bob may ask for manage; alice denies it.
        mine.refresh()
        assert mine.rows[0].buttons["ask"].description == "Ask for manage"
        mine.rows[0].buttons["ask"].click()
        panel.refresh()
        [request] = [c for c in panel.requests_box.children if hasattr(c, "deny_button")]
        request.deny_button.click()
        assert "Denied bob&#x27;s request for manage" in panel.status.value
        assert bob.get(image)["access"] == "edit"
