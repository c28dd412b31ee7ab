"""Attacks on the JupyterHub mode (issue 11, items 10 to 14): no change made at the Hub (a
member leaving a group, an admin's revoke, a share code) ever turns into more access than the
grants give; a change that removes access holds within seconds, not the Hub's token cache
lifetime; a formation's environment is an allow-list, applied to every launch, the owner's too.

Three parts:
- the share service against a stand-in Hub (test_hub_service.FakeHub) and a clock the tests
  move, for what depends on the 30 s settle window of the merges;
- a real JupyterHub (tests/hubs.py: configurable-http-proxy, the share service, JupyterLab
  servers) for the attacks as the issue reproduced them;
- the spawner hooks against real Jupyter servers (as tests/test_hub_spawner.py), for the
  formation's variables.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from traitlets.config import Config

from jupyter_share.hub.service import ShareServiceApp
from jupyter_share.hub.service.containers import HubContainers
from jupyter_share.hub.service.directory import HubDirectory
from jupyter_share.hub.service.hubapi import HubAPI
from jupyter_share.hub.userserver import ContainerAccess, ShareServiceClient
from jupyter_share.hub.wire import SERVER_HEADER
from jupyter_share.model import Kind, Permission
from jupyter_share.service import ShareService
from jupyter_share.store import SQLStore

from .test_hub_service import SERVICE_NAME, TOKEN, Clock, FakeHub, serving

ROOT = Path(__file__).resolve().parent.parent


# -- the share service against a stand-in Hub ---------------------------------------------------


@pytest.fixture
def fake_hub():
    hub = FakeHub()
    with serving(hub.app) as port:
        hub.url = f"http://127.0.0.1:{port}/hub/api"
        yield hub


def leave_group(fake_hub: FakeHub, user: str, group: str) -> None:
    """An admin removes `user` from `group` at the Hub."""
    fake_hub.users[user] = [g for g in fake_hub.users[user] if g != group]
    fake_hub.groups[group] = [u for u in fake_hub.groups[group] if u != user]


@pytest.fixture
def service(tmp_path, fake_hub):
    api = HubAPI(fake_hub.url, TOKEN, timeout=2.0)
    events: list = []
    service = ShareService(
        SQLStore(url=f"sqlite:///{tmp_path / 'share.db'}"),
        HubDirectory(api, cache_seconds=30, membership_seconds=0),
        emit=events.append,
        containers=HubContainers(api, cache_seconds=0, membership_seconds=0),
        clock=Clock(),
    )
    service.events = events
    service.session = service.hub_container("alice", "")
    yield service
    service.store.close()


def grants_of(service) -> list[tuple[str, str]]:
    return [
        (str(g.principal), g.permission.label)
        for g in service.store.live_grants(service.session.id, service.clock())
    ]


def test_10_leaving_a_group_is_never_adopted_as_a_user_grant_by_the_owners_list(service, fake_hub):
    sid = service.session.id
    service.share("alice", Kind.SESSION, sid, "group:class-2026", {"permission": "view"})
    assert ("user", "bob") in fake_hub.shares  # the member's own share, made for the group grant
    service.clock.advance(31)  # long settled
    leave_group(fake_hub, "bob", "class-2026")
    # The owner's access list (what her server reads) merges the Hub's shares.
    listed = [
        (str(g.principal), g.permission.label) for g in service.grants("alice", Kind.SESSION, sid)
    ]
    assert listed == [("group:class-2026", "view")]
    assert grants_of(service) == [("group:class-2026", "view")]
    assert ("user", "bob") not in fake_hub.shares  # the share left behind is taken back
    assert ("user", "carol") in fake_hub.shares  # carol is still a member
    assert service.access_of("bob", service.session) is None
    assert not [
        e for e in service.events if e["action"] == "share" and e["principal"] == "user:bob"
    ]


def test_10_leaving_a_group_is_never_adopted_by_the_members_own_list(service, fake_hub):
    sid = service.session.id
    service.share("alice", Kind.SESSION, sid, "group:class-2026", {"permission": "view"})
    service.clock.advance(31)
    leave_group(fake_hub, "bob", "class-2026")
    # bob lists what is shared with him: the Hub still shares alice's server with him.
    assert service.shared_with_me("bob").items == []
    assert grants_of(service) == [("group:class-2026", "view")]
    assert ("user", "bob") not in fake_hub.shares
    assert service.guest_access("alice", "", "bob") is None


def test_10_a_share_at_the_hub_never_raises_a_members_permission(service, fake_hub):
    """bob holds view through his group and a Hub share: no merge makes it edit."""
    sid = service.session.id
    service.share("alice", Kind.SESSION, sid, "group:class-2026", {"permission": "view"})
    service.clock.advance(31)
    service.grants("alice", Kind.SESSION, sid)
    service.shared_with_me("bob")
    assert grants_of(service) == [("group:class-2026", "view")]
    assert service.access_of("bob", service.session) == "view"
    assert service.guest_access("alice", "", "bob") == "view"


def test_10_a_share_code_or_an_admins_share_is_never_adopted(service, fake_hub):
    sid = service.session.id
    fake_hub.shares.add(("user", "carol"))  # redeemed share code / admin's share at the Hub
    assert service.shared_with_me("carol").items == []
    assert service.grants("alice", Kind.SESSION, sid) == []
    assert fake_hub.shares == set()
    assert service.guest_access("alice", "", "carol") is None


def test_12_a_revoke_at_the_hub_is_not_made_again_within_the_settle_window(service, fake_hub):
    sid = service.session.id
    service.share("alice", Kind.SESSION, sid, "carol", {"permission": "edit"})
    assert fake_hub.shares == {("user", "carol")}
    fake_hub.shares.clear()  # an admin ends every share of the server at the Hub
    # Younger than the settle window: the grant is kept for now (a revoke may be in flight),
    # but no merge shares the server again, and carol is refused at once.
    service.grants("alice", Kind.SESSION, sid)
    service.shared_with_me("carol")
    assert fake_hub.shares == set()
    assert service.guest_access("alice", "", "carol") is None
    service.clock.advance(31)
    service.grants("alice", Kind.SESSION, sid)
    assert grants_of(service) == [] and fake_hub.shares == set()


def test_12_a_groups_share_ended_at_the_hub_gives_no_member_share(service, fake_hub):
    sid = service.session.id
    service.share("alice", Kind.SESSION, sid, "group:class-2026", {"permission": "view"})
    fake_hub.shares.clear()
    for user in ("bob", "carol"):
        service.shared_with_me(user)
    service.grants("alice", Kind.SESSION, sid)
    assert fake_hub.shares == set()
    assert service.guest_access("alice", "", "bob") is None


def test_11_the_services_groups_are_the_hubs_now_not_the_token_caches(
    tmp_path, fake_hub, monkeypatch
):
    """The service's answer about a caller's token is kept for minutes (HubAuth): their groups
    in it must not decide access."""
    monkeypatch.setenv("JUPYTERHUB_API_URL", fake_hub.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", TOKEN)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", SERVICE_NAME)
    app = ShareServiceApp(
        prefix=f"/services/{SERVICE_NAME}/", auth_cache_seconds=300, membership_cache_seconds=0
    )
    api = HubAPI(fake_hub.url, TOKEN, timeout=2.0)
    app.service = ShareService(
        SQLStore(url=f"sqlite:///{tmp_path / 'share.db'}"),
        HubDirectory(api, cache_seconds=30, membership_seconds=app.membership_cache_seconds),
        containers=HubContainers(
            api, cache_seconds=30, membership_seconds=app.membership_cache_seconds
        ),
    )
    with serving(app.make_app) as port:
        base = f"http://127.0.0.1:{port}/services/{SERVICE_NAME}/api/v1/"

        def call(user, method, path, body=None, **headers):
            return httpx.request(
                method,
                base + path,
                json=body,
                headers={"Authorization": f"token user-token-of-{user}", **headers},
            )

        formation = call(
            "alice", "POST", "formations", {"name": "course", "spec": {"image": "busybox"}}
        ).json()
        assert (
            call(
                "alice",
                "PUT",
                f"formations/{formation['id']}/grants/group:class-2026",
                {"permission": "edit"},
            ).status_code
            == 201
        )
        assert call("bob", "GET", "me").json()["groups"] == [
            "class-2026"
        ]  # the token's answer is kept now
        assert call("bob", "GET", f"formations/{formation['id']}").json()["access"] == "edit"
        leave_group(fake_hub, "bob", "class-2026")
        assert call("bob", "GET", "me").json()["groups"] == []
        assert call("bob", "GET", f"formations/{formation['id']}").status_code == 404
        assert (
            call("bob", "PATCH", f"formations/{formation['id']}", {"description": "x"}).status_code
            == 404
        )
    app.service.store.close()


def test_11_the_owners_server_asks_the_service_not_the_token(tmp_path, fake_hub, monkeypatch):
    """ContainerAccess (the owner's server) takes a guest's access from the service, which
    reads their groups from the Hub now; the groups its caller passes (from the Hub's answer
    about the guest's token, kept for minutes) are ignored."""
    monkeypatch.setenv("JUPYTERHUB_API_URL", fake_hub.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", TOKEN)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", SERVICE_NAME)
    app = ShareServiceApp(
        prefix=f"/services/{SERVICE_NAME}/", auth_cache_seconds=300, membership_cache_seconds=0
    )
    api = HubAPI(fake_hub.url, TOKEN, timeout=2.0)
    app.service = ShareService(
        SQLStore(url=f"sqlite:///{tmp_path / 'share.db'}"),
        HubDirectory(api, cache_seconds=30, membership_seconds=0),
        containers=HubContainers(api, cache_seconds=30, membership_seconds=0),
    )
    with serving(app.make_app) as port:
        base = f"http://127.0.0.1:{port}/services/{SERVICE_NAME}/api/v1/"
        owner = ShareServiceClient(base, "user-token-of-alice", "")
        access = ContainerAccess(owner, ttl=0.2)

        async def scenario():
            r = await owner.fetch(
                "PUT",
                "sessions/current/grants/group:class-2026",
                body=json.dumps({"permission": "view"}).encode(),
            )
            assert r.code == 201, r.body
            r = await owner.fetch(
                "PUT",
                "sessions/current/grants/carol",
                body=json.dumps({"permission": "edit"}).encode(),
            )
            assert r.code == 201, r.body
            stale = ["class-2026"]  # what the token cache says of bob's groups
            assert await access.permission("bob", stale) == Permission.VIEW
            assert await access.permission("carol", stale) == Permission.EDIT
            leave_group(fake_hub, "bob", "class-2026")
            await asyncio.sleep(0.3)
            assert await access.permission("bob", stale) is None
            # An admin ends carol's share at the Hub: refused at once, before the merge drops the grant.
            fake_hub.shares.discard(("user", "carol"))
            assert await access.permission("carol", stale, fresh=True) is None
            # The owner is no guest; nobody else is asked about.
            r = await owner.fetch("GET", "sessions/current/access/alice")
            assert json.loads(r.body) == {"user": "alice", "access": "owner"}
            assert await access.permission("alice", []) is None

        asyncio.run(scenario())

        def call(user, path, **headers):
            return httpx.get(
                base + path, headers={"Authorization": f"token user-token-of-{user}", **headers}
            )

        # Only about one's own server, named: bob has none, and must say which.
        assert (
            call("bob", "sessions/current/access/carol", **{SERVER_HEADER: ""}).status_code == 404
        )
        assert call("alice", "sessions/current/access/carol").status_code == 400
        assert (
            call("mallory", "sessions/current/access/carol", **{SERVER_HEADER: ""}).status_code
            == 401
        )
    app.service.store.close()


# -- a formation's environment (items 13 and 14) --------------------------------------------------

from jupyter_share.client import ShareClient  # noqa: E402
from jupyter_share.hub.spawner import (  # noqa: E402
    DEFAULT_ALLOWED_ENV,
    FormationEnvironment,
    apply_user_options,
    options_form,
    profile_list,
)

from .servers import running_servers  # noqa: E402
from .test_hub_spawner import ContainerSpawner, api_url, base_env, make_spawner, parse_form  # noqa: E402

#: What the issue got through the blocklist, and what it had blocked: none may be set.
REFUSED = {
    "LD_PRELOAD": "/home/carol/hook.so",
    "PYTHONSTARTUP": "/home/carol/startup.py",
    "_PYTHON_SYSCONFIGDATA_NAME": "evilmod",
    "PYSPARK_PYTHON": "/home/carol/python",
    "MANPAGER": "sh -c id",
    "SUDO_ASKPASS": "/home/carol/askpass",
    "LESS": "+!id",
    "COVERAGE_PROCESS_START": "/home/carol/.coveragerc",
    "S3_ENDPOINT": "https://carol.example",
    "MLFLOW_TRACKING_URI": "https://carol.example",
    "DATABASE_URI": "postgresql://carol.example/x",
    "HTTP_PROXY": "http://carol.example:3128",
    "https_proxy": "http://carol.example:3128",
    "PYTHONWARNINGS": "ignore::evilmod.Warning",
    "BASH_ENV": "/home/carol/.bashrc",
    "PAGER": "sh -c id",
    "GIT_CONFIG_GLOBAL": "/home/carol/.gitconfig",
    "OMP_TOOL_LIBRARIES": "/home/carol/tool.so",
    "my_lowercase": "case matters",
}


@pytest.fixture(scope="module")
def owner_and_editor(tmp_path_factory):
    """Real servers of alice (the formation's owner) and bob (who may edit it), one store."""
    workdir = tmp_path_factory.mktemp("hub-attacks-spawner")
    with running_servers(["alice", "bob"], f"sqlite:///{workdir / 'share.db'}", workdir) as servers:
        alice = ShareClient(servers["alice"].url, servers["alice"].token)
        bob = ShareClient(servers["bob"].url, servers["bob"].token)
        formation = alice.create_formation(
            "attacked",
            {"image": "docker.io/library/python:3.12", "env": {"MY_DATA": "/data/x", "TZ": "UTC"}},
        )
        alice.share(formation, "bob", "edit")
        yield servers, formation, alice, bob
        alice.close()
        bob.close()


@pytest.mark.slow
def test_13_what_an_editor_writes_never_runs_in_the_owners_server(
    owner_and_editor, monkeypatch, caplog
):
    servers, formation, alice, bob = owner_and_editor
    # bob, who may edit alice's formation, adds what would run code in her next server.
    r = bob.update(
        formation,
        spec={"image": "docker.io/library/python:3.12", "env": {"MY_DATA": "/data/y", **REFUSED}},
    )
    assert set(r["spec"]["env"]) >= set(REFUSED)
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_URL", api_url(servers["alice"]))
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_NAME", "share")
    spawner, _ = make_spawner(servers["alice"], ContainerSpawner)
    # Before launching, alice's form says what will be left out.
    form = asyncio.run(options_form(spawner))
    [(_, value, text, attrs)] = [
        o for o in parse_form(form).options if o[1] == f"formation:{formation['id']}"
    ]
    assert "LD_PRELOAD" in attrs["title"] and "not on this Hub's allow-list" in attrs["title"]
    assert "attacked does not set" in form and "PYTHONSTARTUP" in form
    # KubeSpawner's profile says it too, and carries none of them.
    caplog.set_level("WARNING")
    [profile] = [
        p for p in asyncio.run(profile_list(spawner)) if p["slug"] == f"formation-{formation['id']}"
    ]
    assert "LD_PRELOAD" in profile["description"]
    override = profile["kubespawner_override"]["environment"]
    assert not set(REFUSED) & set(override) and override["MY_DATA"] == "/data/y"
    assert override["JUPYTER_SHARE_REFUSED_ENV"].split(",") == sorted(REFUSED)
    assert "_PYTHON_SYSCONFIGDATA_NAME" in caplog.text
    caplog.clear()
    # Launching it: none of them is set, each is named in the log and in the server.
    caplog.set_level("WARNING")
    asyncio.run(
        apply_user_options(spawner, {"jupyter_share_choice": f"formation:{formation['id']}"})
    )
    env = base_env(spawner)
    assert not set(REFUSED) & set(env), sorted(set(REFUSED) & set(env))
    assert env["MY_DATA"] == "/data/y"
    assert env["JUPYTER_SHARE_REFUSED_ENV"].split(",") == sorted(REFUSED)
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert all(name in warned for name in REFUSED) and "c.FormationEnvironment.allowed" in warned


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_14_the_allow_list_refuses_what_the_blocklist_let_through(name):
    assert not FormationEnvironment().permits(name)


def test_14_the_default_allow_list_is_plain_settings():
    allowed = FormationEnvironment()
    for name in (
        "MY_COURSE",
        "MY_DATA_DIR",
        "TZ",
        "LANG",
        "LC_ALL",
        "OMP_NUM_THREADS",
        "CUDA_VISIBLE_DEVICES",
    ):
        assert allowed.permits(name), name
    for name in (
        "JUPYTERHUB_API_TOKEN",
        "JPY_API_TOKEN",
        "JUPYTER_SHARE_SERVICE_URL",
        "MY-DASH",
        "",
        "MY_A=B",
    ):
        assert not allowed.permits(name), name
    assert list(allowed.allowed) == list(DEFAULT_ALLOWED_ENV)


@pytest.mark.slow
def test_14_an_operator_extends_the_allow_list_and_never_opens_the_hubs_own(
    owner_and_editor, monkeypatch
):
    servers, formation, alice, bob = owner_and_editor
    alice.update(
        formation,
        spec={
            "image": "docker.io/library/python:3.12",
            "env": {
                "COURSE": "stats",
                "DATASET_X": "1",
                "JUPYTERHUB_API_URL": "http://evil/",
                "LD_PRELOAD": "x.so",
            },
        },
    )
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_URL", api_url(servers["alice"]))
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_NAME", "share")
    config = Config()
    config.FormationEnvironment.allowed.extend(
        ["COURSE", "DATASET_*"]
    )  # as in jupyterhub_config.py
    spawner, _ = make_spawner(servers["alice"], ContainerSpawner)
    spawner.config = config
    asyncio.run(
        apply_user_options(spawner, {"jupyter_share_choice": f"formation:{formation['id']}"})
    )
    assert spawner.environment["COURSE"] == "stats" and spawner.environment["DATASET_X"] == "1"
    assert spawner.environment["JUPYTER_SHARE_REFUSED_ENV"] == "JUPYTERHUB_API_URL,LD_PRELOAD"
    # Even "*" never lets a formation set the Hub's or jupyter_share's own variables.
    everything = Config()
    everything.FormationEnvironment.allowed = ["*"]
    assert not FormationEnvironment(config=everything).permits("JUPYTERHUB_API_URL")
    assert not FormationEnvironment(config=everything).permits("JUPYTER_SHARE_IMAGE")
    with pytest.raises(Exception, match="not a variable name"):
        FormationEnvironment(allowed=["LD_*; rm"])


# -- the service's documented options are the code's ----------------------------------------------


def test_the_documented_service_options_are_the_codes_defaults():
    """docs/jupyterhub.md said directory_cache_seconds defaults to 5 (and auth_cache_seconds to
    60) where the code sets 30 (and 300): the table of options is held to the traits."""
    import re

    text = (ROOT / "docs" / "jupyterhub.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([0-9.]+) \| ", text, flags=re.MULTILINE))
    traits = ShareServiceApp.class_own_traits(config=True)
    numeric = {
        name for name, trait in traits.items() if isinstance(trait.default_value, (int, float))
    }
    assert set(rows) == numeric, "document every numeric option of ShareServiceApp, and only those"
    for name, documented in rows.items():
        assert float(documented) == float(traits[name].default_value), name


# -- on a real JupyterHub -------------------------------------------------------------------------

from .hubs import hub  # noqa: E402,F401  (a fixture: one Hub for the tests below)
from .test_hub_e2e import API, hub_shares  # noqa: E402

#: How soon a change at the Hub that removes access must hold (the service's membership cache,
#: 2 s, and the owner's server's 0.5 s, with room for a loaded machine): not the 300 s of the
#: Hub's token cache.
WITHIN = 6.0


class Stage:
    def __init__(self, hub):
        self.hub = hub
        self.tokens = {name: hub.token(name) for name in ("alice", "bob", "carol")}

    def client(self, user):
        return self.hub.token_client(self.tokens[user])

    def api(self, server=""):
        return self.hub.server_url("alice", server) + API

    def refused_within(self, user, url, seconds=WITHIN, method="GET", **kw) -> float:
        """Seconds until `user`'s request is refused (403); fails after `seconds`."""
        start = time.monotonic()
        while True:
            r = self.client(user).request(method, url, **kw)
            if r.status_code == 403:
                return time.monotonic() - start
            assert time.monotonic() - start < seconds, (r.status_code, r.text[:300])
            time.sleep(0.2)


@pytest.fixture(scope="module")
def stage(hub):
    hub.wait_service()
    for group, members in (("g10", ["bob"]), ("g11", ["carol"])):
        r = hub.api("POST", f"groups/{group}", json={"users": members})
        assert r.status_code == 201, r.text
    hub.start_server("alice")
    hub.start_server("alice", "twelve")
    stage = Stage(hub)
    alice = stage.client("alice")
    assert alice.put(
        hub.server_url("alice") + "api/contents/notes.txt",
        json={"type": "file", "format": "text", "content": "alice's"},
    ).status_code in (200, 201)
    # Item 10's group grant first: it must be older than the settle window when bob leaves.
    r = alice.put(stage.api() + "sessions/current/grants/group:g10", json={"permission": "view"})
    assert r.status_code == 201, r.text
    stage.g10_at = time.monotonic()
    assert (
        stage.client("bob").get(hub.server_url("alice") + "api/contents/notes.txt").status_code
        == 200
    )
    return stage


@pytest.mark.slow
def test_e2e_11_a_member_removed_from_a_group_is_refused_within_seconds(stage):
    hub, alice = stage.hub, stage.client("alice")
    notes = hub.server_url("alice") + "api/contents/notes.txt"
    r = alice.put(stage.api() + "sessions/current/grants/group:g11", json={"permission": "view"})
    assert r.status_code == 201, r.text
    # carol reads: the Hub's answer about her token (with her groups) is now cached for 300 s.
    assert stage.client("carol").get(notes).status_code == 200
    r = hub.api("DELETE", "groups/g11/users", json={"users": ["carol"]})
    assert r.status_code == 200, r.text
    took = stage.refused_within("carol", notes)
    print(f"carol refused {took:.2f} s after leaving g11")
    assert (
        stage.client("carol")
        .get(hub.service_api + "shared-with-me", params={"kind": "session"})
        .json()["items"]
        == []
    )


@pytest.mark.slow
def test_e2e_12_a_revoke_at_the_hub_is_not_made_again_and_holds_at_once(stage):
    hub, alice = stage.hub, stage.client("alice")
    contents = hub.server_url("alice", "twelve") + "api/contents"
    r = alice.put(stage.api("twelve") + "sessions/current/grants/bob", json={"permission": "edit"})
    assert r.status_code == 201, r.text
    assert stage.client("bob").get(contents).status_code == 200
    # An admin ends the share at the Hub while the grant is younger than the settle window,
    # and the server is shared with nobody else at the Hub.
    r = hub.api("PATCH", "shares/alice/twelve", json={"user": "bob"})
    assert r.status_code == 200, r.text
    assert hub_shares(hub, "alice", "twelve") == set()
    # The owner's access list merges with the Hub: it does not share the server again.
    assert alice.get(stage.api("twelve") + "sessions/current/grants").status_code == 200
    stage.client("bob").get(hub.service_api + "shared-with-me")
    assert hub_shares(hub, "alice", "twelve") == set()
    took = stage.refused_within("bob", contents)
    print(f"bob refused {took:.2f} s after the admin's revoke")
    r = stage.client("bob").put(
        contents + "/bob.txt", json={"type": "file", "format": "text", "content": "x"}
    )
    assert r.status_code == 403, r.text


@pytest.mark.slow
def test_e2e_10_leaving_a_group_never_becomes_an_edit_grant(stage):
    hub, alice, bob = stage.hub, stage.client("alice"), stage.client("bob")
    time.sleep(max(0.0, stage.g10_at + 32 - time.monotonic()))  # the group grant is settled
    notes = hub.server_url("alice") + "api/contents/notes.txt"
    assert bob.get(notes).status_code == 200
    assert "bob" in hub_shares(hub, "alice")  # the member's own share, made for the group grant
    r = hub.api("DELETE", "groups/g10/users", json={"users": ["bob"]})
    assert r.status_code == 200, r.text
    # The merges run at once and again (the owner's access list, bob's list): no user:bob
    # grant appears, and bob is refused within seconds.
    for _ in range(3):
        grants = alice.get(stage.api() + "sessions/current/grants").json()["items"]
        assert "user:bob" not in [g["principal"] for g in grants], grants
        bob.get(hub.service_api + "shared-with-me", params={"kind": "session"})
    stage.refused_within("bob", notes)
    grants = alice.get(stage.api() + "sessions/current/grants").json()["items"]
    assert [(g["principal"], g["permission"]) for g in grants if g["principal"] != "group:g11"] == [
        ("group:g10", "view")
    ]

    def listed():
        items = bob.get(hub.service_api + "shared-with-me", params={"kind": "session"}).json()[
            "items"
        ]
        return [i for i in items if i["owner"] == "alice" and i["name"] == "default server"]

    deadline = time.monotonic() + WITHIN
    while listed():
        assert time.monotonic() < deadline, listed()
        time.sleep(0.2)
    # He neither reads nor writes at once (above and below); the share the Hub still holds for
    # him grants nothing (his access is asked of the service) and is taken back once no grant
    # explains it for the settle window (a merge may make it again while the group's
    # membership cache, 2 s, is young; then it waits the 30 s window again).
    deadline = time.monotonic() + 2 * 32
    while "bob" in hub_shares(hub, "alice"):
        assert time.monotonic() < deadline, "the Hub's share for bob was never taken back"
        bob.get(hub.service_api + "shared-with-me", params={"kind": "session"})  # a merge
        time.sleep(1.0)
    r = bob.put(
        hub.server_url("alice") + "api/contents/bob.txt",
        json={"type": "file", "format": "text", "content": "x"},
    )
    assert r.status_code == 403, r.text
    history = alice.get(stage.api() + "sessions/current/history").json()["items"]
    assert not [h for h in history if h["principal"] == "user:bob"], history


# -- no page gives a Hub guest the owner's server token; item 15: re-keying under the Hub -------

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from jupyter_share.hub.service import RESTART_SCOPES  # noqa: E402

#: Pages the standalone attacks read the token from (issue 11, item 1), on alice's server.
HUB_PAGES = [
    "no-such-page",
    "api/nope",
    "files/missing.txt",
    "view/missing.html",
    "tree",
    "lab",
    "lab/tree/notes.txt",
    "api/shutdown",
    "jupyter-share/api/v1/nope",
    "jupyter-share/api/v1/me",
    "api/me",
    "api/status",
    "lab/api/settings",
    "metrics",
    "edit/x",
    "notebooks/x.ipynb",
    "api/contents/notes.txt",
    "login",
    "oauth_callback",
]
#: Not walked: logging out would end the guest's session; websockets answer no page.
NOT_WALKED = ("jupyter_server.auth.logout.LogoutHandler",)


def server_token(hub, owner: str, server_name: str = "") -> str:
    """The `JUPYTERHUB_API_TOKEN` of a running server of the Hub, read from the environment of
    its process (and its kernels'), as code run in it reads it."""
    found = set()
    for pid in hub.processes():
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        env = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
        if (
            env.get("JUPYTERHUB_USER") == owner
            and env.get("JUPYTERHUB_SERVER_NAME", "") == server_name
        ):
            if env.get("JUPYTERHUB_API_TOKEN"):
                found.add(env["JUPYTERHUB_API_TOKEN"])
    assert len(found) == 1, f"{len(found)} tokens for {owner}/{server_name}"
    return found.pop()


@pytest.fixture(scope="module")
def standard_routes(tmp_path_factory):
    """Every route of a Jupyter server with jupyter_share and what else is installed
    (tests/router_walk.py), as paths under a server's URL."""
    work = tmp_path_factory.mktemp("hub-walk")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTERHUB_", "JPY_", "JUPYTER_SHARE_"))
    }
    env.update(JUPYTER_DATA_DIR=str(work / "data"), JUPYTER_RUNTIME_DIR=str(work / "runtime"))
    out = subprocess.run(
        [sys.executable, "-m", "tests.router_walk", json.dumps({"jupyter_share": True})],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    ).stdout
    routes = [
        r
        for r in json.loads(out)
        if r["path"] and r["handler"] not in NOT_WALKED and "websocket" not in r["handler"].lower()
    ]
    assert len(routes) > 50
    return routes


def _hangs(handler: str, method: str) -> bool:
    """jupyterlab_server's LicensesHandler never finishes an error page (see test_guest_attacks.hangs)."""
    return handler == "jupyterlab_server.licenses_handler.LicensesHandler" and method != "GET"


class Browser:
    """A Hub user's browser in alice's server: signed in at the Hub, let into the server by
    the Hub's OAuth, sending the server's XSRF cookie back as a header."""

    def __init__(self, hub, user: str, owner: str = "alice", server_name: str = ""):
        self.client = hub.login(user)
        opened = hub.open_server(self.client, owner, server_name)
        if "/hub/api/oauth2/authorize" in str(opened.url):
            # Someone else's server: the Hub asks the guest once to let it identify them.
            import re

            fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', opened.text)
            form = {
                "_xsrf": [v for n, v in fields if n == "_xsrf"],
                "scopes": [v for n, v in fields if n == "scopes"],
            }
            opened = self.client.post(str(opened.url), data=form, follow_redirects=True)
        assert opened.status_code == 200 and "/hub/" not in str(opened.url), (
            user,
            opened.status_code,
            str(opened.url),
            opened.text[:300],
        )
        self.base = hub.server_url(owner, server_name)
        path = "/" + self.base.split("/", 3)[3]
        self.xsrf = self.client.cookies.get("_xsrf", path=path) or ""
        assert self.xsrf

    def request(self, method: str, path: str, body=None) -> httpx.Response:
        headers = {"X-XSRFToken": self.xsrf}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.client.request(
            method,
            self.base + path.lstrip("/"),
            content=None if body is None else json.dumps(body),
            headers=headers,
            follow_redirects=False,
        )


@pytest.fixture(scope="module")
def hub_guests(stage):
    """bob (view) and carol (edit) in alice's default server, each by their own Hub login."""
    hub, alice = stage.hub, stage.client("alice")
    for user, permission in (("bob", "view"), ("carol", "edit")):
        r = alice.put(
            stage.api() + f"sessions/current/grants/{user}", json={"permission": permission}
        )
        assert r.status_code in (200, 201), r.text
    return {
        "owner": Browser(hub, "alice"),
        "view": Browser(hub, "bob"),
        "edit": Browser(hub, "carol"),
    }


@pytest.mark.slow
def test_e2e_the_scan_sees_the_server_token_where_it_belongs(stage, hub_guests):
    """alice's own pages carry her server's token (jupyter_server writes it for the signed-in
    owner): the scan below would find it."""
    token = server_token(stage.hub, "alice")
    r = hub_guests["owner"].request("GET", "no-such-page")
    assert r.status_code == 404 and token in r.text
    r = stage.client("alice").get(stage.hub.server_url("alice") + "tree")
    assert token in r.text


@pytest.mark.slow
@pytest.mark.parametrize("role", ["view", "edit"])
def test_e2e_no_page_gives_a_hub_guest_the_servers_token(stage, hub_guests, standard_routes, role):
    hub = stage.hub
    token = server_token(hub, "alice")
    browser = hub_guests[role]
    paths = [(p, "", m) for p in HUB_PAGES for m in ("GET", "HEAD")]
    paths += [
        ("api/shutdown", "", "POST")
    ]  # the refused page (the guard refuses it before the handler)
    paths += [
        (r["path"].lstrip("/"), r["handler"], m) for r in standard_routes for m in ("GET", "HEAD")
    ]
    statuses = {}
    for path, handler, method in paths:
        if _hangs(handler, method):
            continue
        r = browser.request(method, path, {} if method == "POST" else None)
        blob = r.text + json.dumps(list(r.headers.multi_items()))
        assert token not in blob, (role, method, path, r.status_code)
        statuses[(method, path)] = r.status_code
    assert statuses[("POST", "api/shutdown")] == 403
    assert (
        statuses[("GET", "lab")] == 200 and statuses[("GET", "no-such-page")] == 404
    )  # pages were rendered
    # The one token a guest's page carries is their own (JupyterHub writes the visitor's token
    # into JupyterLab's page config).
    import re

    [own] = re.findall(r'"token": "([^"]+)"', browser.request("GET", "lab").text)
    assert (
        hub.api("GET", "user", token=own).json()["name"] == {"view": "bob", "edit": "carol"}[role]
    )
    print(
        f"{role}: {len(statuses)} requests, {sum(1 for s in statuses.values() if s < 300)} answered 2xx; no token"
    )
    # The server is still up, and the token is the same (nothing above stopped it).
    assert stage.client("alice").get(hub.server_url("alice") + "api/status").status_code == 200
    assert server_token(hub, "alice") == token


@pytest.mark.slow
def test_e2e_a_hub_view_guest_writes_nothing_and_no_guest_changes_identity(stage, hub_guests):
    view, edit = hub_guests["view"], hub_guests["edit"]
    writes = [
        ("PUT", "api/contents/bob.txt", {"type": "file", "format": "text", "content": "bob's"}),
        ("POST", "api/kernels", {"name": "python3"}),
        ("POST", "api/terminals", {}),
        (
            "POST",
            "api/sessions",
            {"path": "x.ipynb", "type": "notebook", "name": "x", "kernel": {"name": "python3"}},
        ),
        ("PATCH", "api/me", {"display_name": "Alice"}),
    ]
    for method, path, body in writes:
        r = view.request(method, path, body)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:300])
    r = edit.request("PATCH", "api/me", {"display_name": "Alice", "color": "red"})
    assert r.status_code == 403, r.text
    assert edit.request("GET", "api/me").json()["identity"]["username"] == "carol"
    # The refusals were the guard's, not the XSRF check's: the edit guest's write goes through.
    r = edit.request(
        "PUT", "api/contents/carol.txt", {"type": "file", "format": "text", "content": "carol's"}
    )
    assert r.status_code in (200, 201), r.text
    assert view.request("GET", "api/contents/carol.txt").status_code == 200
    assert view.request("GET", "api/me").json()["identity"]["username"] == "bob"
    r = stage.client("alice").get(stage.hub.server_url("alice") + "api/contents/bob.txt")
    assert r.status_code == 404


def _until(check, seconds: float, what: str):
    start = time.monotonic()
    while True:
        value = check()
        if value:
            return time.monotonic() - start
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.1)


@pytest.mark.slow
def test_e2e_15_revoking_an_edit_guest_with_rekey_restarts_the_server_with_a_new_token(stage):
    hub, alice = stage.hub, stage.client("alice")
    name = "rekey"
    hub.start_server("alice", name)
    server, api = hub.server_url("alice", name), stage.api(name)
    assert alice.put(
        server + "api/contents/kept.txt", json={"type": "file", "format": "text", "content": "kept"}
    ).status_code in (200, 201)
    r = alice.put(api + "sessions/current/grants/carol", json={"permission": "edit"})
    assert r.status_code == 201, r.text
    r = alice.put(api + "sessions/current/grants/bob", json={"permission": "view"})
    assert r.status_code == 201, r.text
    session = alice.get(api + "sessions/current").json()["id"]
    carol, bob = stage.client("carol"), stage.client("bob")
    assert carol.get(server + "api/contents").status_code == 200
    # Item 15 as the issue found it: what code run in the server reads is the owner at the Hub
    # and at the share service.
    copied = server_token(hub, "alice", name)
    stolen = hub.token_client(copied)
    assert stolen.get(hub.url + "hub/api/user").json()["name"] == "alice"
    assert stolen.get(hub.service_api + "me").json()["username"] == "alice"
    # Only the owner re-keys, and the flag is checked before anything is revoked.
    r = carol.delete(server + API + "sessions/current/grants/carol", params={"rekey": "true"})
    assert r.status_code == 403, r.text  # a guest gets /me of the owner's share API
    r = carol.delete(hub.service_api + f"sessions/{session}/grants/carol", params={"rekey": "true"})
    assert r.status_code == 403 and "only alice" in r.json()["message"], r.text
    r = alice.delete(api + "sessions/current/grants/carol", params={"rekey": "maybe"})
    assert r.status_code == 400, r.text
    r = alice.delete(hub.service_api + f"images/{session}/grants/carol", params={"rekey": "true"})
    assert r.status_code == 404, r.text
    assert carol.get(server + "api/contents").status_code == 200
    assert stolen.get(hub.url + "hub/api/user").status_code == 200

    start = time.monotonic()
    r = alice.delete(api + "sessions/current/grants/carol", params={"rekey": "true"})
    answered = time.monotonic() - start
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (
        answer["rekeyed"] is True
        and answer["restarting"] is True
        and "restarts" in answer["message"]
    ), answer
    assert copied not in r.text
    assert (
        carol.get(server + "api/contents").status_code == 403
    )  # revoked at once, before the restart
    # The old token stops working at the Hub and at the share service ...
    hub_refused = _until(
        lambda: stolen.get(hub.url + "hub/api/user").status_code == 403,
        120,
        "the Hub refuses the old token",
    )
    service_refused = time.monotonic() - start
    assert stolen.get(hub.service_api + "me").status_code in (401, 403)
    assert stolen.get(
        hub.service_api + "sessions/current", headers={SERVER_HEADER: name}
    ).status_code in (401, 403)
    # ... and the server comes back, with a new token, the owner's files and the other guest.
    _until(
        lambda: (hub.user_model("alice")["servers"].get(name) or {}).get("ready"),
        180,
        "the server is back",
    )
    back_total = time.monotonic() - start
    new = server_token(hub, "alice", name)
    assert new != copied
    assert hub.token_client(new).get(hub.url + "hub/api/user").json()["name"] == "alice"
    assert stolen.get(server + "api/contents").status_code in (401, 403)
    assert alice.get(server + "api/contents/kept.txt").status_code == 200
    assert alice.get(api + "sessions/current").json()["id"] == session
    grants = alice.get(api + "sessions/current/grants").json()["items"]
    assert [(g["principal"], g["permission"]) for g in grants] == [("user:bob", "view")]
    assert bob.get(server + "api/contents/kept.txt").status_code == 200
    assert carol.get(server + "api/contents").status_code == 403
    print(
        f"rekey: answered in {answered:.2f} s; old token refused by the Hub {hub_refused:.2f} s and the service "
        f"{service_refused:.2f} s after the request; server back {back_total:.2f} s after it"
    )
    # A server that does not run has no token to end: nothing is restarted.
    hub.stop_server("alice", name)
    r = alice.put(hub.service_api + f"sessions/{session}/grants/carol", json={"permission": "edit"})
    assert r.status_code == 201, r.text
    r = alice.delete(hub.service_api + f"sessions/{session}/grants/carol", params={"rekey": "true"})
    assert r.status_code == 200 and r.json()["restarting"] is False, r.text
    time.sleep(2)
    assert (hub.user_model("alice")["servers"].get(name) or {}).get("ready") is not True


def test_15_rekey_needs_the_servers_scope_and_revokes_nothing_without_it(
    tmp_path, fake_hub, monkeypatch
):
    """A Hub whose configuration did not give the service `servers` (an older
    configure_jupyterhub) answers 502 and the grant stays; with it, the answer says the server
    restarts, and the restart (stop, then start with the same user options) follows the answer."""
    monkeypatch.setenv("JUPYTERHUB_API_URL", fake_hub.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", TOKEN)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", SERVICE_NAME)
    app = ShareServiceApp(prefix=f"/services/{SERVICE_NAME}/", membership_cache_seconds=0)
    api = HubAPI(fake_hub.url, TOKEN, timeout=2.0)
    app.service = ShareService(
        SQLStore(url=f"sqlite:///{tmp_path / 'share.db'}"),
        HubDirectory(api, cache_seconds=30, membership_seconds=0),
        containers=HubContainers(api, cache_seconds=0, membership_seconds=0),
    )
    scopes: set = {"read:servers"}
    done: list = []
    monkeypatch.setattr(HubAPI, "own_scopes", lambda self: set(scopes))
    monkeypatch.setattr(
        HubContainers,
        "running",
        lambda self, owner, server: {"ready": True, "user_options": {"x": 1}},
    )
    monkeypatch.setattr(
        HubContainers, "stop", lambda self, owner, server: done.append(("stop", owner, server))
    )
    monkeypatch.setattr(
        HubContainers,
        "start",
        lambda self, owner, server, options: done.append(("start", owner, server, options)),
    )
    with serving(app.make_app) as port:
        base = f"http://127.0.0.1:{port}/services/{SERVICE_NAME}/api/v1/sessions/current/grants/"
        headers = {"Authorization": "token user-token-of-alice", SERVER_HEADER: ""}
        assert (
            httpx.put(base + "carol", json={"permission": "edit"}, headers=headers).status_code
            == 201
        )
        r = httpx.delete(base + "carol", params={"rekey": "true"}, headers=headers)
        assert r.status_code == 502 and "servers" in r.json()["message"], r.text
        assert [
            g["name"] for g in httpx.get(base.rstrip("/"), headers=headers).json()["items"]
        ] == ["carol"]
        for granted in RESTART_SCOPES:
            scopes = {"read:servers", *granted}
            assert httpx.put(
                base + "carol", json={"permission": "edit"}, headers=headers
            ).status_code in (200, 201)
            done.clear()
            r = httpx.delete(base + "carol", params={"rekey": "true"}, headers=headers)
            assert r.status_code == 200 and r.json()["restarting"] is True, r.text
            assert done == []  # not before the answer has gone back through the server
            deadline = time.monotonic() + 10
            while len(done) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert done == [("stop", "alice", ""), ("start", "alice", "", {"x": 1})]
    app.service.store.close()
