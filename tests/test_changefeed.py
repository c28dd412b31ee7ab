"""The change feed: each server's one watcher of the store (SQLite's data_version, PostgreSQL's
LISTEN/NOTIFY), what each user is told of a change, and the owner's event stream across real
servers. The watcher tests run in-process on a real store; PostgreSQL and servers are slow."""

from __future__ import annotations

import json
import os
import queue
import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from jupyter_share.directory import StandaloneDirectory
from jupyter_share.model import Kind
from jupyter_share.service import ShareService
from jupyter_share.store import SQLStore
from jupyter_share.store.changefeed import PostgresFeed, SQLiteFeed, feed_for

from . import postgres
from .conftest import _db_numbers
from .servers import running_servers

GROUPS = {"class-2026": ["erin"]}
USERS = ["alice", "bob", "carol", "erin"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def feed_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("postgres_server")
    return postgres.fresh_database(server, f"share_feed_{os.getpid()}_{next(_db_numbers)}")


def service_on(url: str) -> ShareService:
    store = SQLStore(url)
    return ShareService(store, StandaloneDirectory(store, USERS, GROUPS, login_accounts=None))


class Collected:
    def __init__(self):
        self.changes = []
        self.arrived = threading.Condition()

    def __call__(self, changes):
        with self.arrived:
            self.changes.extend(changes)
            self.arrived.notify_all()

    def wait_for(self, count, timeout=10.0):
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.changes) >= count, timeout), self.changes
        return list(self.changes)


@pytest.fixture
def watched(feed_url):
    """A watcher on one connection to the store, and a service on another (another server)."""
    watcher_store = SQLStore(feed_url)
    collected = Collected()
    feed = feed_for(watcher_store, collected, interval=0.05)
    feed.start()
    assert feed.ready.wait(10)
    other = service_on(feed_url)
    yield feed, collected, other
    feed.stop()
    other.store.close()
    watcher_store.close()


def image(service, owner="alice", name="CARET"):
    return service.create(owner, Kind.IMAGE, {"name": name, "spec": {"reference": "busybox"}})


def test_feed_kind_follows_the_store(tmp_path):
    store = SQLStore(f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(feed_for(store, print), SQLiteFeed)
    memory = SQLStore("sqlite://")
    assert feed_for(memory, print) is None  # nobody else can change an in-memory store
    store.close()
    memory.close()


def test_changes_made_elsewhere_arrive_once_in_order(watched):
    feed, collected, other = watched
    view = image(other)
    other.share("alice", Kind.IMAGE, view.resource.id, "bob", {"permission": "view"})
    other.share("alice", Kind.IMAGE, view.resource.id, "bob", {"permission": "edit"})
    other.revoke("alice", Kind.IMAGE, view.resource.id, "bob")
    changes = collected.wait_for(4)
    assert [c.action for c in changes] == ["create", "share", "change", "revoke"]
    assert [c.principal for c in changes] == [None, "user:bob", "user:bob", "user:bob"]
    assert {c.resource_id for c in changes} == {view.resource.id}
    assert [c.id for c in changes] == sorted({c.id for c in changes})
    time.sleep(0.3)  # several more looks: nothing is delivered twice
    assert len(collected.changes) == 4


def test_what_was_committed_before_the_watcher_started_is_not_replayed(feed_url):
    other = service_on(feed_url)
    image(other, name="OLD")
    watcher_store = SQLStore(feed_url)
    collected = Collected()
    feed = feed_for(watcher_store, collected, interval=0.05)
    feed.start()
    try:
        assert feed.ready.wait(10)
        image(other, name="NEW")
        changes = collected.wait_for(1)
        time.sleep(0.3)
        assert len(collected.changes) == 1 and changes[0].action == "create"
    finally:
        feed.stop()
        watcher_store.close()
        other.store.close()


def test_a_rolled_back_change_is_never_told(watched):
    feed, collected, other = watched
    view = image(other)
    collected.wait_for(1)
    # A transaction that writes an audit row and fails: no listener hears of it.
    with pytest.raises(RuntimeError):
        with other.store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO audit (resource_id, kind, at, actor, action) "
                    "VALUES (:r, 'image', CURRENT_TIMESTAMP, 'alice', 'update')"
                ),
                {"r": view.resource.id},
            )
            raise RuntimeError("rolled back")
    other.share("alice", Kind.IMAGE, view.resource.id, "bob", {"permission": "view"})
    changes = collected.wait_for(2)
    time.sleep(0.3)
    assert [c.action for c in collected.changes] == ["create", "share"], changes


def test_messages_say_only_what_each_user_may_know(tmp_path):
    service = service_on(f"sqlite:///{tmp_path / 's.db'}")
    collected = Collected()
    feed = feed_for(service.store, collected, interval=0.05)
    feed.start()
    assert feed.ready.wait(10)
    try:
        rid = image(service).resource.id
        service.share("alice", Kind.IMAGE, rid, "bob", {"permission": "view"})
        service.share("alice", Kind.IMAGE, rid, "group:class-2026", {"permission": "view"})
        service.revoke("alice", Kind.IMAGE, rid, "bob")
        created, shared, grouped, revoked = collected.wait_for(4)
        tell = service.feed_message

        assert tell("alice", created)["list"] == "owned"
        assert tell("bob", created) is None  # bob did not see it yet... nor ever, as it is now
        assert tell("carol", created) is None

        # bob: changes of his own grant are his to know, even told after it ended; he learns
        # that he holds nothing now
        assert tell("bob", shared)["access"] is None
        assert tell("bob", grouped) is None  # not his grant, and he sees nothing now
        ended = tell("bob", revoked)
        assert ended["list"] == "shared-with-me" and ended["access"] is None
        assert ended["principal"] == "user:bob" and ended["actor"] == "alice"

        # erin (class-2026) sees it: told of changes, but not of others' grants
        msg = tell("erin", shared)
        assert msg["list"] == "shared-with-me" and msg["resource_name"] == "CARET"
        assert "principal" not in msg and "permission" not in msg
        assert tell("erin", grouped)["principal"] == "group:class-2026"
        # carol: nothing at all
        assert all(tell("carol", c) is None for c in (created, shared, grouped, revoked))
        for message in (tell("erin", c) for c in (created, shared, grouped, revoked)):
            assert message is None or "secret" not in json.dumps(message)

        service.delete("alice", Kind.IMAGE, rid)
        (deleted,) = collected.wait_for(5)[4:]
        assert tell("alice", deleted)["list"] == "owned"
        assert tell("erin", deleted)["action"] == "delete"  # held it until it was deleted
        assert tell("bob", deleted) is None  # his grant had ended before
        assert tell("carol", deleted) is None
    finally:
        feed.stop()
        service.store.close()


@pytest.mark.slow
def test_postgres_feed_comes_back_after_losing_its_connection(postgres_server):
    url = postgres.fresh_database(postgres_server, f"share_feed_{os.getpid()}_{next(_db_numbers)}")
    watcher_store = SQLStore(url)
    collected = Collected()
    feed = feed_for(watcher_store, collected)
    assert isinstance(feed, PostgresFeed)
    feed.start()
    other = service_on(url)
    try:
        assert feed.ready.wait(10)
        image(other, name="ONE")
        collected.wait_for(1)
        # The server ends the watcher's connection; it reconnects and reads what it missed.
        with other.store.engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                )
            )
        image(other, name="TWO")
        changes = collected.wait_for(2, timeout=15)
        assert [c.action for c in changes] == ["create", "create"]
    finally:
        feed.stop()
        other.store.close()
        watcher_store.close()


# -- the owner's event stream, across real servers --------------------------------------------


class StreamReader:
    """An event stream read on a thread, as a browser reads it."""

    def __init__(self, url: str, token: str | None = None, cookies=None):
        self.messages: queue.Queue = queue.Queue()
        self.opened = threading.Event()
        self.status: int | None = None
        headers = {"Authorization": f"token {token}"} if token else {}
        self._client = httpx.Client(timeout=None, headers=headers, cookies=cookies)
        self._url = url
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            with self._client.stream("GET", self._url) as r:
                self.status = r.status_code
                self.opened.set()
                if r.status_code != 200:
                    return
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        self.messages.put(json.loads(line[6:]))
        except httpx.HTTPError:
            pass
        finally:
            self.opened.set()

    def next(self, timeout: float):
        return self.messages.get(timeout=timeout)

    def drain(self) -> list:
        found = []
        while True:
            try:
                found.append(self.messages.get_nowait())
            except queue.Empty:
                return found

    def close(self):
        self._client.close()


def feed_url_of(server) -> str:
    return f"{server.url}jupyter-share/api/v1/feed"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_share_reaches_the_grantees_stream_on_their_own_server(backend, tmp_path, request):
    if backend == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'share.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        db_url = postgres.fresh_database(server, f"share_feed_{os.getpid()}_{next(_db_numbers)}")
    with running_servers(["alice", "bob", "carol"], db_url, tmp_path, users=USERS) as servers:
        alice, bob = servers["alice"], servers["bob"]
        streams = {name: StreamReader(feed_url_of(s), s.token) for name, s in servers.items()}
        nobody = StreamReader(feed_url_of(bob))  # no credentials
        try:
            for stream in streams.values():
                assert stream.opened.wait(10) and stream.status == 200
            assert nobody.opened.wait(10) and nobody.status in (401, 403)
            r = alice.post("/images", {"name": "CARET", "spec": {"reference": "busybox"}})
            rid = r.json()["id"]
            assert alice.put(f"/images/{rid}/grants/bob", {"permission": "view"}).status_code == 201
            # (bob may also be told of the create, if his server looked after the share: he sees
            # the image by then)
            msg = streams["bob"].next(timeout=5)
            if msg["action"] == "create":
                msg = streams["bob"].next(timeout=5)
            assert msg["action"] == "share" and msg["resource_id"] == rid
            assert msg["list"] == "shared-with-me" and msg["resource_name"] == "CARET"
            assert msg["principal"] == "user:bob" and msg["actor"] == "alice"
            # alice hears of her own changes (the create, then the share)
            assert [streams["alice"].next(5)["action"] for _ in range(2)] == ["create", "share"]
            # bob leaves: alice's stream says so; carol's never heard of any of it
            assert bob.delete(f"/images/{rid}/grants/bob").status_code == 204
            assert streams["alice"].next(5)["action"] == "leave"
            time.sleep(0.5)
            assert streams["carol"].drain() == []
            assert [m["action"] for m in streams["bob"].drain()] == ["leave"]
        finally:
            for stream in [*streams.values(), nobody]:
                stream.close()


@pytest.mark.slow
def test_a_guests_stream_carries_nothing(tmp_path):
    """A guest signed in by a link is refused the owner's stream at every level."""
    db_url = f"sqlite:///{tmp_path / 'share.db'}"
    with running_servers(["alice"], db_url, tmp_path, users=USERS) as servers:
        alice = servers["alice"]
        for who, level in (("bob", "view"), ("carol", "edit"), ("erin", "manage")):
            r = alice.put(f"/sessions/current/grants/{who}", {"permission": level})
            link = r.json()["link"]
            guest = httpx.Client(base_url=alice.url, timeout=10, follow_redirects=False)
            assert guest.get(link).status_code == 302
            assert guest.get("/jupyter-share/api/v1/me").status_code == 200  # signed in
            stream = StreamReader(feed_url_of(alice), cookies=guest.cookies)
            try:
                assert stream.opened.wait(10)
                assert stream.status == 403, (level, stream.status)
            finally:
                stream.close()
                guest.close()
