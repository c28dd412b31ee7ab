"""The rules (docs/architecture.md, "The rules") in-process: `ShareService` on a real SQLite
store, no server. Status matrices in the style of JupyterHub's tests/test_shares.py: for each
kind (image, formation, container) and each role (owner, manage, edit and view grantees, a
group member, a stranger, an expired grant, one who left), what each action answers, what it
audits and what it emits, and that a refusal changes nothing.

test_permissions.py checks the same matrix through real servers (slow); this is the fast tier's
check that the service itself decides it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jupyter_share.directory import StandaloneDirectory
from jupyter_share.model import Kind, ShareError, utcnow
from jupyter_share.service import ShareService
from jupyter_share.store import SQLStore

ROLES = ["owner", "manage", "edit", "view", "group", "stranger", "expired", "left"]
USER_OF = {
    "owner": "alice",
    "manage": "bob",
    "edit": "carol",
    "view": "dave",
    "group": "erin",  # through group:class-2026 (view)
    "stranger": "frank",
    "expired": "henry",  # an edit grant that has run out
    "left": "gina",  # had view, removed it herself
}
ACCESS = {"owner": "owner", "manage": "manage", "edit": "edit", "view": "view", "group": "view"}
GROUPS = {"class-2026": ["erin"], "staff": ["alice", "henry"]}
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "henry", "ivy"]
KINDS = [Kind.IMAGE, Kind.FORMATION, Kind.SESSION]
#: The grants every resource starts with (henry's and gina's are made, then end).
GRANTS = {
    "user:bob": "manage",
    "user:carol": "edit",
    "user:dave": "view",
    "group:class-2026": "view",
}

#: "ok" where the call succeeds, else the refusal's HTTP status.
OK = "ok"


def _by_role(ok: tuple[str, ...], forbidden: tuple[str, ...] = ()) -> dict[str, Any]:
    """A status per role: `ok` roles succeed, `forbidden` ones are 403, the rest 404."""
    return {role: OK if role in ok else 403 if role in forbidden else 404 for role in ROLES}


EVERY_GRANTEE = ("manage", "edit", "view", "group")


@dataclass
class World:
    service: ShareService
    store: SQLStore
    ids: dict[Kind, str]
    events: list[dict] = field(default_factory=list)
    now: list[datetime] = field(default_factory=list)

    def call(self, fn: Callable[[], Any]) -> Any:
        """`ok` (and the answer) or the refusal's status."""
        try:
            return OK, fn()
        except ShareError as e:
            return e.status, None

    def history(self, kind: Kind) -> list[tuple[str, str, str | None, str | None]]:
        entries, _ = self.store.history(self.ids[kind], 0, 1000)
        return [(e.action, e.actor, e.principal, e.permission) for e in entries]

    def grants(self, kind: Kind) -> dict[str, str]:
        live = self.store.live_grants(self.ids[kind], self.now[0])
        return {str(g.principal): g.permission.label for g in live}

    def snapshot(self, kind: Kind) -> tuple:
        """Everything a change could touch: the resource, its grants, history and events."""
        rid = self.ids[kind]
        resource = self.store.get_resource(rid)
        live = self.store.live_grants(rid, self.now[0])
        grants = sorted((str(g.principal), g.permission.label, g.granted_by) for g in live)
        return resource, grants, self.history(kind), len(self.events), self.store.open_requests(rid)


def _service(db: Path, now: list[datetime], events: list[dict]) -> ShareService:
    store = SQLStore(f"sqlite:///{db}")
    return ShareService(
        store,
        StandaloneDirectory(store, USERS, GROUPS, use_login_accounts=False),
        emit=events.append,
        clock=lambda: now[0],
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, datetime]:
    """alice's image, formation and container, each shared as USER_OF says, written once
    through the service; each test gets a copy of the file (hundreds of tests would otherwise
    wait on hundreds of fsyncs)."""
    db = tmp_path_factory.mktemp("rules") / "share.db"
    now = [utcnow()]
    service = _service(db, now, [])
    image = service.create(
        "alice",
        Kind.IMAGE,
        {
            "name": "CARET",
            "spec": {
                "reference": "quay.io/lab/caret:2026.1",
                "environment": {
                    "python": "3.11.7",
                    "packages": [{"name": "six", "version": "1.16.0"}],
                },
            },
        },
    )
    formation = service.create(
        "alice",
        Kind.FORMATION,
        {"name": "gpu-small", "spec": {"image": image.resource.id, "cpu": 4, "memory": "16G"}},
    )
    session = service.ensure_container("alice", "alice@host:~", {"url": "http://127.0.0.1:8888/"})
    expiry = (now[0] + timedelta(hours=1)).isoformat()
    for kind, rid in _ids(image.resource.id, formation.resource.id, session.id).items():
        for principal, permission in GRANTS.items():
            service.share("alice", kind, rid, principal, {"permission": permission})
        service.share("alice", kind, rid, "henry", {"permission": "edit", "expires_at": expiry})
        service.share("alice", kind, rid, "gina", {"permission": "view"})
        service.revoke("gina", kind, rid, "gina")
    service.store.close()  # checkpoints the WAL into the file that is copied
    return db, now[0]


def _ids(image: str, formation: str, session: str) -> dict[Kind, str]:
    return {Kind.IMAGE: image, Kind.FORMATION: formation, Kind.SESSION: session}


@pytest.fixture
def world(template, tmp_path) -> Iterator[World]:
    """A fresh copy of the template's store, two hours later: henry's grant has run out and
    no sweep has run."""
    db = tmp_path / "share.db"
    shutil.copyfile(template[0], db)
    now = [template[1] + timedelta(hours=2)]
    events: list[dict] = []
    service = _service(db, now, events)
    store = service.store
    assert isinstance(store, SQLStore)
    ids = {}
    for kind, name in [(Kind.IMAGE, "CARET"), (Kind.FORMATION, "gpu-small")]:
        found = store.find_resource("alice", kind, name)
        assert found is not None
        ids[kind] = found.id
    session = store.find_resource("alice", Kind.SESSION, "alice@host:~")
    assert session is not None
    ids[Kind.SESSION] = session.id
    yield World(service, store, ids, events, now)
    store.close()


def _refused_changes_nothing(world: World, kind: Kind, before: tuple, status: Any) -> None:
    if status != OK:
        assert world.snapshot(kind) == before


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
def test_get_and_lists(world, kind, role):
    user, rid = USER_OF[role], world.ids[kind]
    status, view = world.call(lambda: world.service.view(user, kind, rid))
    assert status == (OK if role in ACCESS else 404)
    listed = {v.resource.id: v for v in world.service.list(user, kind, "all", limit=1000).items}
    shared = {v.resource.id: v for v in world.service.shared_with_me(user).items}
    if role not in ACCESS:
        assert rid not in listed and rid not in shared
        return
    assert view.access == ACCESS[role] and view.resource.owner == "alice"
    assert listed[rid].access == ACCESS[role]
    if role == "owner":
        assert rid not in shared
        assert view.shared and view.share_count == len(GRANTS)
    else:
        assert shared[rid].access == ACCESS[role]
        # Only those who may list the grants see how many there are.
        assert view.share_count == (len(GRANTS) if role == "manage" else None)
    assert world.events == []  # reading emits nothing


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
def test_list_grants_and_history(world, kind, role):
    user, rid = USER_OF[role], world.ids[kind]
    expected = _by_role(("owner", "manage"), forbidden=("edit", "view", "group"))[role]
    status, grants = world.call(lambda: world.service.grants(user, kind, rid))
    assert status == expected
    if status == OK:
        # The owner is never in the list; expired and left grants are not either.
        assert {str(g.principal): g.permission.label for g in grants} == GRANTS
    # The history: all of it for the owner and managers; a grantee below manage reads the rows
    # about themselves (their own grant, their group's); anyone else learns nothing (404).
    status, page = world.call(lambda: world.service.history(user, kind, rid))
    assert status == _by_role(("owner",) + EVERY_GRANTEE)[role]
    if status == OK:
        principals = {e.principal for e in page.items}
        if role in ("owner", "manage"):
            actions = [(e.action, e.principal) for e in page.items]
            assert ("share", "user:bob") in actions and ("leave", "user:gina") in actions
        else:
            own = "group:class-2026" if role == "group" else f"user:{user}"
            assert principals == {own}, principals


@pytest.mark.parametrize("role", ROLES)
def test_environment_files(world, role):
    user, rid = USER_OF[role], world.ids[Kind.IMAGE]
    status, answer = world.call(lambda: world.service.environment_file(user, rid, None))
    assert status == (OK if role in ACCESS else 404)
    if status == OK:
        assert "six==1.16.0" in answer[2].splitlines()
    # A bad format is told to whoever sees the image; anyone else learns nothing.
    status, _ = world.call(lambda: world.service.environment_file(user, rid, "zip"))
    assert status == (400 if role in ACCESS else 404)


# -- changing -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
def test_update(world, kind, role):
    user, rid = USER_OF[role], world.ids[kind]
    before = world.snapshot(kind)
    status, _ = world.call(
        lambda: world.service.update(user, kind, rid, {"description": f"by {role}"})
    )
    assert status == _by_role(("owner", "manage", "edit"), forbidden=("view", "group"))[role]
    _refused_changes_nothing(world, kind, before, status)
    if status == OK:
        assert world.store.get_resource(rid).description == f"by {role}"
        assert world.history(kind)[-1] == ("update", user, None, None)
        assert [(e["action"], e["actor"]) for e in world.events] == [("update", user)]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
def test_delete_is_the_owners(world, kind, role):
    user, rid = USER_OF[role], world.ids[kind]
    before = world.snapshot(kind)
    status, _ = world.call(lambda: world.service.delete(user, kind, rid))
    assert status == _by_role(("owner",), forbidden=EVERY_GRANTEE)[role]
    _refused_changes_nothing(world, kind, before, status)
    if status == OK:
        assert world.store.get_resource(rid) is None
        for grantee in ("bob", "dave", "erin"):  # their grants went with it
            assert world.call(lambda: world.service.view(grantee, kind, rid))[0] == 404
        assert [(e["action"], e["actor"]) for e in world.events] == [("delete", "alice")]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
def test_share_with_someone_new(world, kind, role):
    user, rid = USER_OF[role], world.ids[kind]
    before = world.snapshot(kind)
    status, result = world.call(
        lambda: world.service.share(user, kind, rid, "ivy", {"permission": "view"})
    )
    assert status == _by_role(("owner", "manage"), forbidden=("edit", "view", "group"))[role]
    _refused_changes_nothing(world, kind, before, status)
    if status == OK:
        assert result.created and result.grant.granted_by == user
        assert world.grants(kind)["user:ivy"] == "view"
        assert world.history(kind)[-1] == ("share", user, "user:ivy", "view")
        assert [(e["action"], e["principal"]) for e in world.events] == [("share", "user:ivy")]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
def test_change_and_revoke_someone_elses_grant(world, kind, role):
    user, rid = USER_OF[role], world.ids[kind]
    expected = _by_role(("owner", "manage"), forbidden=("edit", "view", "group"))[role]
    before = world.snapshot(kind)
    status, result = world.call(
        lambda: world.service.share(user, kind, rid, "dave", {"permission": "edit"})
    )
    assert status == expected
    _refused_changes_nothing(world, kind, before, status)
    if status == OK:
        # A change keeps who made the grant (alice), whoever changed it.
        assert not result.created and result.grant.granted_by == "alice"
        assert world.history(kind)[-1] == ("change", user, "user:dave", "edit")
    before = world.snapshot(kind)
    status, _ = world.call(lambda: world.service.revoke(user, kind, rid, "group:class-2026"))
    assert status == expected
    _refused_changes_nothing(world, kind, before, status)
    if status == OK:
        assert "group:class-2026" not in world.grants(kind)
        assert world.history(kind)[-1] == ("revoke", user, "group:class-2026", "view")
        assert world.call(lambda: world.service.view("erin", kind, rid))[0] == 404
        assert [e["action"] for e in world.events] == ["change", "revoke"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
def test_leave(world, kind, role):
    """Anyone with a grant of their own may remove it; nobody else has one to remove."""
    user, rid = USER_OF[role], world.ids[kind]
    before = world.snapshot(kind)
    status, _ = world.call(lambda: world.service.revoke(user, kind, rid, user))
    assert status == _by_role(("manage", "edit", "view"))[role]
    _refused_changes_nothing(world, kind, before, status)
    if status == OK:
        assert world.history(kind)[-1] == ("leave", user, f"user:{user}", ACCESS[role])
        assert world.call(lambda: world.service.view(user, kind, rid))[0] == 404
        assert [e["action"] for e in world.events] == ["leave"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
def test_a_group_member_cannot_leave_for_the_whole_group(world, kind):
    rid = world.ids[kind]
    before = world.snapshot(kind)
    status, _ = world.call(lambda: world.service.revoke("erin", kind, rid, "group:class-2026"))
    assert status == 403
    assert world.snapshot(kind) == before


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
def test_nobody_grants_the_owner_themselves_or_above_manage(world, kind):
    rid = world.ids[kind]
    before = world.snapshot(kind)
    for user, principal, permission, status in [
        ("bob", "ivy", "owner", 400),
        ("bob", "alice", "view", 409),
        ("bob", "bob", "manage", 409),
        ("alice", "alice", "edit", 409),
        ("alice", "ivyy", "view", 400),  # unknown, and a near miss of ivy
        ("alice", "group:nobody", "view", 400),
    ]:
        assert (
            world.call(
                lambda: world.service.share(user, kind, rid, principal, {"permission": permission})
            )[0]
            == status
        ), (user, principal, permission)
    assert world.snapshot(kind) == before


# -- containers: personal links and re-keying ---------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_relink_is_the_owners_or_the_grants_maker(world, role):
    """A new link cuts the grantee off and is shown to whoever asked: only the owner, or the
    manager who made that grant, may issue it."""
    user, rid = USER_OF[role], world.ids[Kind.SESSION]
    before = world.snapshot(Kind.SESSION)
    status, token = world.call(lambda: world.service.reissue_link(user, Kind.SESSION, rid, "dave"))
    assert status == _by_role(("owner",), forbidden=("manage", "edit", "view", "group"))[role]
    _refused_changes_nothing(world, Kind.SESSION, before, status)
    if status == OK:
        assert token and world.history(Kind.SESSION)[-1] == ("relink", user, "user:dave", "view")
    # bob made ivy's grant: he may give ivy a new link, carol (edit) may not.
    world.service.share("bob", Kind.SESSION, rid, "ivy", {"permission": "view"})
    assert world.call(lambda: world.service.reissue_link("bob", Kind.SESSION, rid, "ivy"))[0] == OK
    assert (
        world.call(lambda: world.service.reissue_link("carol", Kind.SESSION, rid, "ivy"))[0] == 403
    )


def test_links_are_for_users_on_containers(world):
    image = world.ids[Kind.IMAGE]
    assert (
        world.call(lambda: world.service.reissue_link("alice", Kind.IMAGE, image, "dave"))[0] == 400
    )
    session = world.ids[Kind.SESSION]
    assert (
        world.call(
            lambda: world.service.reissue_link("alice", Kind.SESSION, session, "group:class-2026")
        )[0]
        == 400
    )


@pytest.mark.parametrize("role", ROLES)
def test_rekey_is_the_owners(world, role):
    user, rid = USER_OF[role], world.ids[Kind.SESSION]
    status, answer = world.call(lambda: world.service.check_rekey(user, Kind.SESSION, rid, "true"))
    assert status == _by_role(("owner",), forbidden=EVERY_GRANTEE)[role]
    if status == OK:
        assert answer is True
    # Not asked for: nothing to refuse.
    assert world.service.check_rekey(user, Kind.SESSION, rid, None) is False
    image = world.ids[Kind.IMAGE]
    assert world.call(lambda: world.service.check_rekey("alice", Kind.IMAGE, image, "1"))[0] == 400


# -- asking for more ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("permission", ["edit", "manage"])
def test_ask(world, kind, role, permission):
    user, rid = USER_OF[role], world.ids[kind]
    before = world.snapshot(kind)
    status, _ = world.call(
        lambda: world.service.ask(user, kind, rid, {"permission": permission, "message": "pls"})
    )
    # Whoever sees it and holds less may ask; the owner and whoever holds it already: 409.
    asks = ("view", "group") + (("edit",) if permission == "manage" else ())
    expected = {r: (OK if r in asks else 409 if r in ACCESS else 404) for r in ROLES}
    assert status == expected[role]
    _refused_changes_nothing(world, kind, before, status)
    if status == OK:
        assert world.history(kind)[-1] == ("ask", user, f"user:{user}", permission)
        # One open request per person and resource.
        again = world.call(lambda: world.service.ask(user, kind, rid, {"permission": permission}))
        assert again[0] == 409


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_decide(world, kind, role, decision):
    user, rid = USER_OF[role], world.ids[kind]
    world.service.ask("dave", kind, rid, {"permission": "edit"})
    world.events.clear()
    before = world.snapshot(kind)
    status, _ = world.call(
        lambda: world.service.decide(user, kind, rid, "dave", {"decision": decision})
    )
    assert status == _by_role(("owner", "manage"), forbidden=("edit", "view", "group"))[role]
    _refused_changes_nothing(world, kind, before, status)
    if status == OK:
        assert world.store.open_requests(rid) == []
        assert world.grants(kind)["user:dave"] == ("edit" if decision == "approve" else "view")
        actions = [a for a, *_ in world.history(kind)]
        assert actions[-1] == decision
        if decision == "approve":  # the grant changed through the share rules, audited so
            assert actions[-2:] == ["change", "approve"]
        assert [e["action"] for e in world.events] == actions[len(before[2]) :]


@pytest.mark.parametrize("role", ROLES)
def test_requests_and_withdrawing_them(world, role):
    """The owner and managers see every open request; others only their own. Only the asker
    withdraws; a manager is told to decide instead, anyone else is told nothing."""
    kind, user = Kind.IMAGE, USER_OF[role]
    rid = world.ids[kind]
    world.service.ask("dave", kind, rid, {"permission": "manage"})
    status, seen = world.call(lambda: world.service.requests_on(user, kind, rid))
    assert status == (OK if role in ACCESS else 404)
    if status == OK:
        expected = ["dave"] if role in ("owner", "manage", "view") else []
        assert [r.request.requester for r in seen] == expected
    status, _ = world.call(lambda: world.service.withdraw(user, kind, rid, "dave"))
    expected_withdraw = {
        "owner": 403,
        "manage": 403,
        "edit": 404,
        "view": OK,
        "group": 404,
    }.get(role, 404)
    assert status == expected_withdraw
    if status == OK:
        assert world.history(kind)[-1] == ("withdraw", "dave", "user:dave", "manage")
    else:
        assert len(world.store.open_requests(rid)) == 1


# -- expiry and the audit trail -----------------------------------------------------------


def test_expired_grants_are_invisible_then_purged_by_the_system(world):
    kind, rid = Kind.FORMATION, world.ids[Kind.FORMATION]
    assert world.call(lambda: world.service.view("henry", kind, rid))[0] == 404
    assert "user:henry" not in world.grants(kind)
    # One expired grant per resource: each swept once, audited and told as the system's.
    assert world.service.purge_expired() == len(KINDS)
    for k in KINDS:
        assert world.history(k)[-1] == ("expire", "system", "user:henry", "edit")
    assert sorted(e["kind"] for e in world.events) == sorted(k.value for k in KINDS)
    assert {(e["action"], e["actor"]) for e in world.events} == {("expire", "system")}
    assert world.service.purge_expired() == 0


def test_every_change_is_audited_once_with_one_event(world):
    kind, rid = Kind.IMAGE, world.ids[Kind.IMAGE]
    start = len(world.history(kind))
    s = world.service
    s.update("carol", kind, rid, {"name": "CARET-2"})
    s.share("bob", kind, rid, "ivy", {"permission": "view"})
    s.share("bob", kind, rid, "ivy", {"permission": "edit"})
    s.ask("dave", kind, rid, {"permission": "edit"})
    s.decide("alice", kind, rid, "dave", {"decision": "deny"})
    s.ask("dave", kind, rid, {"permission": "manage"})
    s.withdraw("dave", kind, rid, "dave")
    s.revoke("alice", kind, rid, "ivy")
    s.revoke("carol", kind, rid, "carol")
    # Reads and refusals write nothing.
    s.view("dave", kind, rid)
    s.history("bob", kind, rid)
    for refused in (
        lambda: s.delete("bob", kind, rid),
        lambda: s.share("dave", kind, rid, "ivy", {"permission": "view"}),
        lambda: s.update("dave", kind, rid, {"name": "mine"}),
    ):
        with pytest.raises(ShareError):
            refused()
    rows = world.history(kind)[start:]
    assert rows == [
        ("update", "carol", None, None),
        ("share", "bob", "user:ivy", "view"),
        ("change", "bob", "user:ivy", "edit"),
        ("ask", "dave", "user:dave", "edit"),
        ("deny", "alice", "user:dave", "edit"),
        ("ask", "dave", "user:dave", "manage"),
        ("withdraw", "dave", "user:dave", "manage"),
        ("revoke", "alice", "user:ivy", "edit"),
        ("leave", "carol", "user:carol", "edit"),
    ]
    assert [(e["action"], e["actor"], e["principal"]) for e in world.events] == [
        (action, actor, principal) for action, actor, principal, _ in rows
    ]
    s.delete("alice", kind, rid)
    assert world.events[-1]["action"] == "delete"


@pytest.mark.parametrize("role", ROLES)
def test_a_formation_names_only_an_image_its_author_can_see(world, role):
    """A formation may name an image by id only where its author sees the image: anyone else
    gets a 400 on `spec.image`, and nothing is written."""
    user, image = USER_OF[role], world.ids[Kind.IMAGE]

    def formations() -> list[str]:
        page = world.service.list(user, Kind.FORMATION, "owned", limit=1000)
        return sorted(v.resource.id for v in page.items)

    before = formations()
    body = {"name": "uses-caret", "spec": {"image": image}}
    if role in ACCESS:
        made = world.service.create(user, Kind.FORMATION, body)
        assert formations() == sorted(before + [made.resource.id])
        return
    with pytest.raises(ShareError) as refused:
        world.service.create(user, Kind.FORMATION, body)
    assert (refused.value.status, refused.value.field) == (400, "spec.image")
    assert formations() == before
