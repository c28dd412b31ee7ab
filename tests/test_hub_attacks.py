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

from jupyter_share.hub.containers import SERVER_HEADER, HubContainers
from jupyter_share.hub.directory import HubDirectory
from jupyter_share.hub.hubapi import HubAPI
from jupyter_share.hub.service import ShareServiceApp
from jupyter_share.hub.userserver import ContainerAccess, ShareServiceClient
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
    service.session = service.hub_session("alice", "")
    yield service
    service.store.close()


def grants_of(service) -> list[tuple[str, str]]:
    return [(str(g.principal), g.permission.label) for g in service.store.live_grants(service.session.id, service.clock())]


def test_10_leaving_a_group_is_never_adopted_as_a_user_grant_by_the_owners_list(service, fake_hub):
    sid = service.session.id
    service.share("alice", Kind.SESSION, sid, "group:class-2026", {"permission": "view"})
    assert ("user", "bob") in fake_hub.shares  # the member's own share, made for the group grant
    service.clock.advance(31)  # long settled
    leave_group(fake_hub, "bob", "class-2026")
    # The owner's access list (what her server reads) merges the Hub's shares.
    listed = [(str(g.principal), g.permission.label) for g in service.grants("alice", Kind.SESSION, sid)]
    assert listed == [("group:class-2026", "view")]
    assert grants_of(service) == [("group:class-2026", "view")]
    assert ("user", "bob") not in fake_hub.shares  # the share left behind is taken back
    assert ("user", "carol") in fake_hub.shares  # carol is still a member
    assert service.access_of("bob", service.session) is None
    assert not [e for e in service.events if e["action"] == "share" and e["principal"] == "user:bob"]


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


def test_11_the_services_groups_are_the_hubs_now_not_the_token_caches(tmp_path, fake_hub, monkeypatch):
    """The service's answer about a caller's token is kept for minutes (HubAuth): their groups
    in it must not decide access."""
    monkeypatch.setenv("JUPYTERHUB_API_URL", fake_hub.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", TOKEN)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", SERVICE_NAME)
    app = ShareServiceApp(prefix=f"/services/{SERVICE_NAME}/", auth_cache_seconds=300, membership_cache_seconds=0)
    api = HubAPI(fake_hub.url, TOKEN, timeout=2.0)
    app.service = ShareService(
        SQLStore(url=f"sqlite:///{tmp_path / 'share.db'}"),
        HubDirectory(api, cache_seconds=30, membership_seconds=app.membership_cache_seconds),
        containers=HubContainers(api, cache_seconds=30, membership_seconds=app.membership_cache_seconds),
    )
    with serving(app.make_app) as port:
        base = f"http://127.0.0.1:{port}/services/{SERVICE_NAME}/api/v1/"

        def call(user, method, path, body=None, **headers):
            return httpx.request(
                method, base + path, json=body, headers={"Authorization": f"token user-token-of-{user}", **headers}
            )

        formation = call("alice", "POST", "formations", {"name": "course", "spec": {"image": "busybox"}}).json()
        assert call("alice", "PUT", f"formations/{formation['id']}/grants/group:class-2026", {"permission": "edit"}).status_code == 201
        assert call("bob", "GET", "me").json()["groups"] == ["class-2026"]  # the token's answer is kept now
        assert call("bob", "GET", f"formations/{formation['id']}").json()["access"] == "edit"
        leave_group(fake_hub, "bob", "class-2026")
        assert call("bob", "GET", "me").json()["groups"] == []
        assert call("bob", "GET", f"formations/{formation['id']}").status_code == 404
        assert call("bob", "PATCH", f"formations/{formation['id']}", {"description": "x"}).status_code == 404
    app.service.store.close()


def test_11_the_owners_server_asks_the_service_not_the_token(tmp_path, fake_hub, monkeypatch):
    """ContainerAccess (the owner's server) takes a guest's access from the service, which
    reads their groups from the Hub now; the groups its caller passes (from the Hub's answer
    about the guest's token, kept for minutes) are ignored."""
    monkeypatch.setenv("JUPYTERHUB_API_URL", fake_hub.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", TOKEN)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", SERVICE_NAME)
    app = ShareServiceApp(prefix=f"/services/{SERVICE_NAME}/", auth_cache_seconds=300, membership_cache_seconds=0)
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
            r = await owner.fetch("PUT", "sessions/current/grants/group:class-2026", body=json.dumps({"permission": "view"}).encode())
            assert r.code == 201, r.body
            r = await owner.fetch("PUT", "sessions/current/grants/carol", body=json.dumps({"permission": "edit"}).encode())
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
            return httpx.get(base + path, headers={"Authorization": f"token user-token-of-{user}", **headers})

        # Only about one's own server, named: bob has none, and must say which.
        assert call("bob", "sessions/current/access/carol", **{SERVER_HEADER: ""}).status_code == 404
        assert call("alice", "sessions/current/access/carol").status_code == 400
        assert call("mallory", "sessions/current/access/carol", **{SERVER_HEADER: ""}).status_code == 401
    app.service.store.close()
