"""The share service's side of the Hub's sharing API when the Hub misbehaves: down, slow,
failing, refusing; and when the store fails after the Hub said yes. A share at the Hub and our
grant are made or undone together, and each failure is a clear 502/503.

A real Hub cannot be made slow or failing on demand, so these tests put a small tornado app in
its place that speaks the few endpoints the service uses and records what it was asked; the
end-to-end behaviour against a real JupyterHub is in test_hub_e2e.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import unquote

import pytest
from openapi_core import OpenAPI
from tornado import web
from tornado.httpclient import HTTPClient
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

from jupyter_share.hub.service import ShareServiceApp
from jupyter_share.hub.service.containers import HubContainers
from jupyter_share.hub.service.directory import HubDirectory
from jupyter_share.hub.service.hubapi import HubAPI
from jupyter_share.hub.wire import SERVER_HEADER
from jupyter_share.model import HubRefused, HubUnavailable, Kind, NotFound, Principal, utcnow
from jupyter_share.service import ShareService
from jupyter_share.store import SQLStore

from .servers import free_port, refusing_port
from .test_openapi import SPEC_PATH, RawRequest, RawResponse

TOKEN = "service-token-not-to-be-shown"
SERVICE_NAME = "share"


class FakeHub:
    """Users alice, bob, carol; group class-2026 (bob, carol); alice's default server."""

    def __init__(self):
        self.users = {"alice": [], "bob": ["class-2026"], "carol": ["class-2026"]}
        self.groups = {"class-2026": ["bob", "carol"]}
        self.shares: set[tuple[str, str]] = set()  # (kind, name) shared on alice's server
        self.calls: list[tuple[str, str]] = []
        self.delay = 0.0
        self.fail: dict[str, int] = {}  # method -> status for the shares endpoint
        self.dated: dict[tuple[str, str], str] = {}  # when a share was made, if the test says
        self.page_size = 200  # the Hub's default page
        self.auth_fails = 0  # a status for the token check, 0: it answers
        self.alice_ready = True  # whether alice's default server runs

    def app(self) -> web.Application:
        hub = self

        class Base(web.RequestHandler):
            async def prepare(self):
                assert self.request.headers["Authorization"] == f"token {TOKEN}"
                if hub.delay:
                    await asyncio.sleep(hub.delay)

        class TokenOwner(web.RequestHandler):
            """GET /hub/api/user: whose token this is, as HubAuth asks (`user-token-of-NAME`)."""

            def get(self):
                if hub.auth_fails:
                    raise web.HTTPError(hub.auth_fails)
                name = self.request.headers.get("Authorization", "").removeprefix(
                    "token user-token-of-"
                )
                if name not in hub.users:
                    raise web.HTTPError(403)
                scopes = [f"access:services!service={SERVICE_NAME}"]
                self.finish(
                    {"kind": "user", "name": name, "groups": hub.users[name], "scopes": scopes}
                )

        class User(Base):
            def get(self, name):
                name = unquote(name)
                if name not in hub.users:
                    raise web.HTTPError(404)
                servers = (
                    {"": {"name": "", "url": "/user/alice/", "ready": hub.alice_ready}}
                    if name == "alice"
                    else {}
                )
                self.finish({"name": name, "groups": hub.users[name], "servers": servers})

        class Group(Base):
            def get(self, name):
                if name not in hub.groups:
                    raise web.HTTPError(404)
                self.finish({"name": name, "users": hub.groups[name]})

        class Shares(Base):
            def _change(self):
                hub.calls.append((self.request.method, self.request.body.decode()))
                if self.request.method in hub.fail:
                    raise web.HTTPError(hub.fail[self.request.method])
                body = json.loads(self.request.body)
                return ("user", body["user"]) if "user" in body else ("group", body["group"])

            def get(self, owner, server):
                items = [
                    (
                        {"user": {"name": n}, "group": None}
                        if k == "user"
                        else {"user": None, "group": {"name": n}}
                    )
                    | {"created_at": hub.dated.get((k, n))}
                    for k, n in sorted(hub.shares)
                ]
                offset = int(self.get_argument("offset", "0"))
                end = offset + hub.page_size
                following = {"offset": end, "limit": hub.page_size} if end < len(items) else None
                self.finish(
                    {
                        "items": items[offset:end],
                        "_pagination": {"offset": offset, "next": following},
                    }
                )

            def post(self, owner, server):
                hub.shares.add(self._change())
                self.finish({})

            def patch(self, owner, server):
                hub.shares.discard(self._change())
                self.finish({})

            def delete(self, owner, server):
                hub.calls.append(("DELETE", ""))
                hub.shares.clear()
                self.set_status(204)

        class Shared(Base):
            def get(self, name):
                items = [
                    {
                        "server": {
                            "user": {"name": "alice"},
                            "name": "",
                            "url": "/user/alice/",
                            "ready": hub.alice_ready,
                        }
                    }
                    for k, n in hub.shares
                    if k == "user" and n == name
                ]
                self.finish({"items": items})

        return web.Application(
            [
                (r"/hub/api/user", TokenOwner),
                (r"/hub/api/users/([^/]+)", User),
                (r"/hub/api/users/([^/]+)/shared", Shared),
                (r"/hub/api/groups/([^/]+)", Group),
                (r"/hub/api/shares/([^/]+)/([^/]*)", Shares),
            ]
        )


@contextmanager
def serving(make_app):
    """Serve the tornado app `make_app()` builds on a free port, from a thread with its own
    loop (the tests call it blocking); yield the port."""
    port = free_port()
    ready, holder = threading.Event(), {}

    def run():
        asyncio.set_event_loop(asyncio.new_event_loop())
        server = HTTPServer(make_app())
        server.listen(port, "127.0.0.1")
        holder["loop"] = IOLoop.current()
        ready.set()
        holder["loop"].start()
        server.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield port
    finally:
        holder["loop"].add_callback(holder["loop"].stop)
        thread.join(10)


@pytest.fixture
def fake_hub():
    hub = FakeHub()
    with serving(hub.app) as port:
        hub.url = f"http://127.0.0.1:{port}/hub/api"
        yield hub


class Clock:
    """The service's clock, moved by the tests (merges wait for differences to settle)."""

    def __init__(self):
        self.offset = timedelta(0)

    def __call__(self):
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def make_service(tmp_path, hub_url, timeout=2.0):
    api = HubAPI(hub_url, TOKEN, timeout=timeout)
    events = []
    clock = Clock()
    service = ShareService(
        SQLStore(url=f"sqlite:///{tmp_path / 'share.db'}"),
        HubDirectory(api, cache_seconds=0, membership_seconds=0),
        emit=events.append,
        containers=HubContainers(api, cache_seconds=0, membership_seconds=0),
        clock=clock,
    )
    service.events = events
    service.test_clock = clock
    return service


@pytest.fixture
def service(tmp_path, fake_hub):
    service = make_service(tmp_path, fake_hub.url)
    service.session = service.hub_container("alice", "")
    service.events.clear()
    yield service
    service.store.close()


def state(service):
    session = service.session
    return (
        [
            (str(g.principal), g.permission.label)
            for g in service.store.live_grants(session.id, service.clock())
        ],
        service.store.history(session.id, 0, 100)[1],
    )


def test_sharing_the_container_shares_it_at_the_hub(service, fake_hub):
    result = service.share("alice", Kind.SESSION, service.session.id, "bob", {"permission": "view"})
    assert result.created
    assert fake_hub.shares == {("user", "bob")}
    service.revoke("alice", Kind.SESSION, service.session.id, "bob")
    assert fake_hub.shares == set()


@pytest.mark.parametrize(
    "status, error",
    [(500, HubUnavailable), (503, HubUnavailable), (403, HubRefused), (400, HubRefused)],
)
def test_a_hub_that_fails_or_refuses_leaves_no_grant(service, fake_hub, status, error):
    before = state(service)
    fake_hub.fail["POST"] = status
    with pytest.raises(error) as refused:
        service.share("alice", Kind.SESSION, service.session.id, "bob", {"permission": "view"})
    assert refused.value.status == (503 if error is HubUnavailable else 502)
    assert "JupyterHub" in refused.value.message and TOKEN not in refused.value.message
    assert state(service) == before and service.events == []


def test_a_slow_hub_is_a_503_and_leaves_no_grant(tmp_path, fake_hub):
    service = make_service(tmp_path, fake_hub.url, timeout=0.5)
    session = service.hub_container("alice", "")
    grants_before = service.store.live_grants(session.id, service.clock())
    fake_hub.delay = 1.5
    started = time.monotonic()
    with pytest.raises(HubUnavailable, match="did not answer in 0.5 s"):
        service.share("alice", Kind.SESSION, session.id, "bob", {"permission": "view"})
    assert time.monotonic() - started < 1.4
    fake_hub.delay = 0
    assert service.store.live_grants(session.id, service.clock()) == grants_before
    service.store.close()


def test_a_hub_that_is_down_is_a_503(tmp_path, fake_hub):
    service = make_service(tmp_path, fake_hub.url)
    session = service.hub_container("alice", "")
    down = make_service(tmp_path, f"http://127.0.0.1:{refusing_port()}/hub/api")
    with pytest.raises(HubUnavailable, match="not reachable"):
        down.share("alice", Kind.SESSION, session.id, "bob", {"permission": "view"})
    assert down.store.live_grants(session.id, down.clock()) == []
    # Images and formations do not need the Hub's sharing API, but sharing needs its directory.
    image = down.create("alice", Kind.IMAGE, {"name": "CARET", "spec": {"reference": "busybox"}})
    with pytest.raises(HubUnavailable):
        down.share("alice", Kind.IMAGE, image.resource.id, "bob", {"permission": "view"})
    assert down.grants("alice", Kind.IMAGE, image.resource.id) == []
    service.store.close()
    down.store.close()


def test_a_store_that_fails_after_the_hub_said_yes_undoes_the_hub_share(
    service, fake_hub, monkeypatch
):
    before = state(service)

    def broken(*args, **kwargs):
        raise NotFound("this resource was deleted meanwhile")

    monkeypatch.setattr(service.store, "put_grant", broken)
    with pytest.raises(NotFound):
        service.share("alice", Kind.SESSION, service.session.id, "bob", {"permission": "edit"})
    assert [m for m, _ in fake_hub.calls] == ["POST", "PATCH"]
    assert fake_hub.shares == set() and state(service) == before


def test_revoking_when_the_hub_fails_keeps_the_grant(service, fake_hub, monkeypatch):
    service.share("alice", Kind.SESSION, service.session.id, "bob", {"permission": "view"})
    before = state(service)
    fake_hub.fail["PATCH"] = 502
    with pytest.raises(HubUnavailable):
        service.revoke("alice", Kind.SESSION, service.session.id, "bob")
    assert state(service) == before and fake_hub.shares == {("user", "bob")}
    # And when the store fails after the Hub ended the share, the share is made again.
    fake_hub.fail.clear()
    monkeypatch.setattr(
        service.store,
        "delete_grant",
        lambda *a, **k: (_ for _ in ()).throw(NotFound("gone meanwhile")),
    )
    with pytest.raises(NotFound):
        service.revoke("alice", Kind.SESSION, service.session.id, "bob")
    assert fake_hub.shares == {("user", "bob")} and state(service) == before


def test_a_group_grant_reaches_each_member_at_the_hub(service, fake_hub):
    sid = service.session.id
    service.share("alice", Kind.SESSION, sid, "bob", {"permission": "edit"})
    service.share("alice", Kind.SESSION, sid, "group:class-2026", {"permission": "view"})
    assert fake_hub.shares == {("user", "bob"), ("group", "class-2026"), ("user", "carol")}
    service.revoke("alice", Kind.SESSION, sid, "group:class-2026")
    # bob keeps his own share; carol had only the group's.
    assert fake_hub.shares == {("user", "bob")}


def test_the_hub_and_the_store_are_merged(service, fake_hub):
    """The grants decide; the Hub's shares follow them and never add to them."""
    sid = service.session.id
    # A share made at the Hub alone (its API, a share code) is not adopted as a grant: it is
    # taken back.
    fake_hub.shares.add(("user", "carol"))
    assert service.shared_with_me("carol").items == []
    assert fake_hub.shares == set()
    assert [e.action for e in service.store.history(sid, 0, 100)[0]] == ["create"]
    # A grant whose share the Hub ended is gone, once that is not a revoke in flight.
    service.share("alice", Kind.SESSION, sid, "carol", {"permission": "view"})
    fake_hub.shares.discard(("user", "carol"))
    assert len(service.shared_with_me("carol").items) == 1
    service.test_clock.advance(31)
    assert service.shared_with_me("carol").items == []
    assert [e.actor for e in service.store.history(sid, 0, 100)[0]][-1] == "jupyterhub"
    # The owner's access list does not adopt Hub-only shares either, and takes them back.
    fake_hub.shares.add(("user", "bob"))
    assert service.grants("alice", Kind.SESSION, sid) == []
    assert fake_hub.shares == set()


def test_a_share_in_flight_is_not_adopted(service, fake_hub):
    """Another replica's share made at the Hub a moment ago, whose grant is not stored yet,
    is neither adopted nor taken back by a merge that runs meanwhile; settled and still not
    explained by a grant, it is taken back, never adopted."""
    sid = service.session.id
    fake_hub.dated = {("user", "bob"): utcnow().isoformat() + "Z"}
    fake_hub.shares.add(("user", "bob"))
    assert service.grants("alice", Kind.SESSION, sid) == []
    assert fake_hub.shares == {("user", "bob")}  # nor taken back
    service.test_clock.advance(31)
    assert service.grants("alice", Kind.SESSION, sid) == []
    assert fake_hub.shares == set()


def test_a_member_who_joins_a_granted_group_gets_in(service, fake_hub):
    sid = service.session.id
    service.share("alice", Kind.SESSION, sid, "group:class-2026", {"permission": "view"})
    fake_hub.users["dave"] = ["class-2026"]
    fake_hub.groups["class-2026"].append("dave")
    [item] = service.shared_with_me("dave").items
    assert (item.resource.id, item.access) == (sid, "view")
    assert ("user", "dave") in fake_hub.shares


def test_a_stopped_server_is_listed_stopped_and_its_stop_is_history(service, fake_hub):
    """The Hub lists stopped servers too (include_stopped_servers): the container says which,
    as standalone, and each start and stop is a row of its history."""

    def listed() -> tuple[str, list[str]]:
        (item,) = service.list("alice", Kind.SESSION, "owned").items
        actions = [e.action for e in service.store.history(item.resource.id, 0, 100)[0]]
        return item.resource.spec["state"], actions

    assert listed() == ("running", ["create"])
    fake_hub.alice_ready = False
    assert listed() == ("stopped", ["create", "stop"])
    fake_hub.alice_ready = True
    assert listed() == ("running", ["create", "stop", "start"])


def test_naming_a_server_that_does_not_exist(service):
    with pytest.raises(NotFound, match="no server named 'gpu'"):
        service.hub_container("alice", "gpu")
    with pytest.raises(NotFound, match="no default server"):
        service.hub_container("bob", "")


def test_every_page_of_the_hubs_shares_is_read(service, fake_hub):
    # A server shared with more people than one page of the Hub's answer holds.
    fake_hub.page_size = 2
    for name in ("bob", "carol", "dave", "erin", "frank"):
        fake_hub.shares.add(("user", name))
    assert len(service.containers.shares_of(service.session)) == 5


# -- over HTTP, as the spec documents it --------------------------------------------------


@pytest.fixture
def service_http(tmp_path, fake_hub, monkeypatch):
    """The service's own tornado app (hub/service/app.py) on a port, with HubAuth asking the
    stand-in Hub; a function that calls it as a user and checks the answer against the spec."""
    monkeypatch.setenv("JUPYTERHUB_API_URL", fake_hub.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", TOKEN)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", SERVICE_NAME)
    spec = OpenAPI.from_file_path(str(SPEC_PATH))
    app = ShareServiceApp(prefix=f"/services/{SERVICE_NAME}/", auth_cache_seconds=0)
    app.service = make_service(tmp_path, fake_hub.url)
    with serving(app.make_app) as port:
        yield ServiceCaller(port, spec)
    app.service.store.close()


class ServiceCaller:
    """Calls the service's API as a user and checks each answer against the spec."""

    def __init__(self, port: int, spec: OpenAPI):
        self.port, self.spec = port, spec

    def __call__(self, user, method, path, body=None, expect=200, **headers):
        client = HTTPClient()
        try:
            response = client.fetch(
                f"http://127.0.0.1:{self.port}/services/{SERVICE_NAME}/api/v1/{path}",
                method=method,
                body=None if body is None else json.dumps(body),
                headers={"Authorization": f"token user-token-of-{user}", **headers},
                raise_error=False,
                allow_nonstandard_methods=True,
            )
        finally:
            client.close()
        assert response.code == expect, (method, path, response.code, response.body[:300])
        self.spec.validate_response(RawRequest(response.request, "/"), RawResponse(response))
        return json.loads(response.body) if response.body else None


def test_the_hub_refusing_or_failing_answers_502_or_503_as_documented(service_http, fake_hub):
    server = {SERVER_HEADER: ""}  # alice's default server, as her server names it
    session = service_http("alice", "GET", "sessions/current", **server)
    fake_hub.fail["POST"] = 403
    refused = service_http(
        "alice", "PUT", f"sessions/{session['id']}/grants/bob", {"permission": "view"}, expect=502
    )
    assert "JupyterHub refused" in refused["message"]
    fake_hub.fail["POST"] = 500
    failed = service_http(
        "alice", "PUT", "sessions/current/grants/bob", {"permission": "view"}, expect=503, **server
    )
    assert "try again" in failed["message"] and TOKEN not in failed["message"]
    assert service_http("alice", "GET", f"sessions/{session['id']}/grants")["items"] == []
    assert fake_hub.shares == set()
    # The Hub cannot say whose token it is: every endpoint answers 503, not 401 or 500.
    fake_hub.auth_fails = 500
    for path in ("me", "shared-with-me", "images", f"sessions/{session['id']}"):
        assert (
            "JupyterHub did not confirm" in service_http("bob", "GET", path, expect=503)["message"]
        )
    fake_hub.auth_fails = 0
    fake_hub.fail.clear()
    assert service_http(
        "alice", "PUT", f"sessions/{session['id']}/grants/bob", {"permission": "view"}, expect=201
    )
    assert fake_hub.shares == {("user", "bob")}
    # Not a token the Hub knows: 401; another user's server is not found.
    service_http("mallory", "GET", "me", expect=401)
    service_http("bob", "GET", "sessions/current", expect=404, **server)
