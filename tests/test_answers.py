"""Reused list answers (jupyter_share/answers.py): reused only while they are still the answer,
on both backends, whichever server changed the store."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta

import pytest

from jupyter_share.answers import AnswerCache
from jupyter_share.directory import StandaloneDirectory
from jupyter_share.model import Kind, NotFound, utcnow
from jupyter_share.service import ShareService
from jupyter_share.store import SQLStore

from .servers import running_servers


class Clock:
    def __init__(self):
        self.offset = timedelta(0)

    def __call__(self):
        return utcnow() + self.offset


def make_service(url, clock):
    store = SQLStore(url)
    return ShareService(
        store, StandaloneDirectory(store, users=["alice", "bob", "carol"]), clock=clock
    )


@pytest.fixture
def two_servers(store_url):
    """The services of two servers on one store, with one clock, and bob's cache."""
    clock = Clock()
    alice, bob = make_service(store_url, clock), make_service(store_url, clock)
    yield alice, bob, AnswerCache(bob.store, clock), clock
    alice.store.close()
    bob.store.close()


def shared_with_bob(service, counter):
    def produce():
        counter.append(1)
        page = service.shared_with_me("bob", None, None, None)
        return json.dumps(sorted(view.resource.name for view in page.items)).encode()

    return produce


def reused(cache, key, produce, computed) -> bytes:
    """The answer, once asked twice with one computation. On PostgreSQL the WAL position also
    moves with the cluster's own activity (other databases, autovacuum): that costs a reuse,
    never a stale answer, so reuse is waited for and staleness is asserted exactly."""
    for _ in range(100):
        body = cache.answer(key, produce)
        before = len(computed)
        if cache.answer(key, produce) == body and len(computed) == before:
            return body
        time.sleep(0.05)
    raise AssertionError("the answer was never reused")


def computed_again(cache, key, produce, computed) -> bytes:
    before = len(computed)
    body = cache.answer(key, produce)
    assert len(computed) == before + 1, "a change did not make the answer be computed again"
    return body


def test_an_answer_is_reused_until_another_server_changes_the_store(two_servers):
    alice, bob, cache, _ = two_servers
    image = alice.create(
        "alice", Kind.IMAGE, {"name": "CARET", "spec": {"reference": "busybox"}}
    ).resource
    computed = []
    produce = shared_with_bob(bob, computed)
    assert reused(cache, "key", produce, computed) == b"[]"
    # alice shares on her server: bob's next answer is computed again, and has it.
    alice.share("alice", Kind.IMAGE, image.id, "bob", {"permission": "view"})
    assert cache.lookup("key") is None
    assert computed_again(cache, "key", produce, computed) == b'["CARET"]'
    assert reused(cache, "key", produce, computed) == b'["CARET"]'
    # ... and revokes: gone at once.
    alice.revoke("alice", Kind.IMAGE, image.id, "bob")
    assert computed_again(cache, "key", produce, computed) == b"[]"
    # A change that has nothing to do with bob also recomputes (correct, merely not reused).
    reused(cache, "key", produce, computed)
    alice.create("alice", Kind.FORMATION, {"name": "course", "spec": {"image": "busybox"}})
    assert computed_again(cache, "key", produce, computed) == b"[]"


def test_an_answer_is_not_reused_past_the_expiry_of_a_grant(two_servers):
    alice, bob, cache, clock = two_servers
    image = alice.create(
        "alice", Kind.IMAGE, {"name": "CARET", "spec": {"reference": "busybox"}}
    ).resource
    soon = (clock() + timedelta(minutes=5)).isoformat() + "Z"
    alice.share("alice", Kind.IMAGE, image.id, "bob", {"permission": "view", "expires_at": soon})
    computed = []
    produce = shared_with_bob(bob, computed)
    assert cache.answer("key", produce) == b'["CARET"]'
    clock.offset = timedelta(minutes=4)
    assert reused(cache, "key", produce, computed) == b'["CARET"]'
    # Nobody wrote anything, but the grant ran out.
    clock.offset = timedelta(minutes=6)
    assert cache.lookup("key") is None
    assert computed_again(cache, "key", produce, computed) == b"[]"


def test_keys_are_kept_apart_and_the_budget_holds(tmp_path):
    store = SQLStore(f"sqlite:///{tmp_path / 's.db'}")
    cache = AnswerCache(store, utcnow, max_bytes=16 * 100)
    for n in range(40):
        cache.answer(("bob", n), lambda n=n: b"%02d" % n * 50)  # 100 bytes each
    assert cache.lookup(("bob", 39)) == b"39" * 50 and cache.lookup(("carol", 39)) is None
    assert cache.lookup(("bob", 0)) is None  # the least recently used went first
    assert sum(len(kept.body) for kept in cache._kept.values()) <= 16 * 100
    few = AnswerCache(store, utcnow, max_entries=3)
    for n in range(10):
        few.answer(n, lambda: b"{}")
    assert list(few._kept) == [7, 8, 9]
    store.close()


def test_an_in_memory_store_never_reuses(tmp_path):
    store = SQLStore("sqlite://")
    cache = AnswerCache(store, utcnow)
    computed = []
    for _ in range(3):
        cache.answer("key", lambda: computed.append(1) or b"x")
    assert len(computed) == 3 and cache.lookup("key") is None
    store.close()


@pytest.mark.slow
def test_neighbours_see_each_change_at_once_through_their_servers(tmp_path):
    """Through the servers' own API: bob's lists follow every change alice makes on her server."""
    with running_servers(["alice", "bob"], f"sqlite:///{tmp_path / 'ws.db'}", tmp_path) as servers:
        alice, bob = servers["alice"], servers["bob"]
        image = alice.post("/images", {"name": "CARET", "spec": {"reference": "busybox"}}).json()
        for _round in range(5):
            assert bob.get("/shared-with-me").json()["total"] == 0
            assert bob.get("/images").json()["total"] == 0
            assert (
                alice.put(f"/images/{image['id']}/grants/bob", {"permission": "view"}).status_code
                == 201
            )
            assert [i["name"] for i in bob.get("/shared-with-me").json()["items"]] == ["CARET"]
            assert bob.get("/images").json()["total"] == 1
            assert (
                alice.get("/images", params={"scope": "owned"}).json()["items"][0]["share_count"]
                == 1
            )
            assert alice.delete(f"/images/{image['id']}/grants/bob").status_code == 204
            assert (
                alice.get("/images", params={"scope": "owned"}).json()["items"][0]["share_count"]
                == 0
            )
        # Different arguments are different answers.
        alice.put(f"/images/{image['id']}/grants/bob", {"permission": "view"})
        assert bob.get("/shared-with-me", params={"kind": "formation"}).json()["total"] == 0
        assert bob.get("/shared-with-me", params={"kind": "image"}).json()["total"] == 1


def test_callers_asking_at_once_share_one_computation(tmp_path):
    store = SQLStore(f"sqlite:///{tmp_path / 's.db'}")
    cache = AnswerCache(store, utcnow)
    computed, answers = [], []
    started = threading.Barrier(8)

    def slow():
        computed.append(1)
        time.sleep(0.3)
        return b"answer"

    def ask():
        started.wait()
        answers.append(cache.answer("key", slow))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [b"answer"] * 8 and len(computed) == 1
    store.close()


def test_a_failed_computation_is_not_shared(tmp_path):
    store = SQLStore(f"sqlite:///{tmp_path / 's.db'}")
    cache = AnswerCache(store, utcnow)
    outcomes = []
    started = threading.Barrier(4)
    calls = []

    def first_fails():
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.2)
            raise NotFound("gone")
        return b"answer"

    def ask():
        started.wait()
        try:
            outcomes.append(cache.answer("key", first_fails))
        except NotFound:
            outcomes.append("refused")

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [b"answer"] * 3 + ["refused"]
    assert cache._flights == {}
    store.close()


def test_on_the_event_loop_a_caller_never_gets_a_marker_read_before_it_asked(two_servers):
    """PostgreSQL's marker is read on one asynchronous connection, shared by the callers who
    wait for the next read: a change committed before a caller asked is always seen."""
    alice, bob, cache, _ = two_servers
    image = alice.create(
        "alice", Kind.IMAGE, {"name": "CARET", "spec": {"reference": "busybox"}}
    ).resource
    computed = []
    produce = shared_with_bob(bob, computed)

    if bob.store.url.get_backend_name() == "postgresql":
        # Slow reads, the position taken first (a select list runs left to right), so that the
        # early callers' read is surely under way when alice commits.
        bob.store._marker_sql = "SELECT pg_current_wal_insert_lsn(), pg_sleep(0.15)"

    hits = []

    async def scenario():
        assert cache.answer("key", produce) == b"[]"
        await cache.lookup_async("key")  # opens the connection
        for n in range(6):
            early = [asyncio.ensure_future(cache.lookup_async("key")) for _ in range(5)]
            await asyncio.sleep(0.05)  # their read is under way
            if n % 2 == 0:
                alice.share("alice", Kind.IMAGE, image.id, "bob", {"permission": "view"})
            else:
                alice.revoke("alice", Kind.IMAGE, image.id, "bob")
            late = [
                body
                for body, _ in await asyncio.gather(*(cache.lookup_async("key") for _ in range(5)))
            ]
            assert late == [None] * 5, n
            await asyncio.gather(*early)
            expected = b'["CARET"]' if n % 2 == 0 else b"[]"
            assert cache.answer("key", produce) == expected
            # None when the cluster wrote meanwhile (see `reused`), never another answer.
            again, _ = await cache.lookup_async("key")
            assert again in (expected, None)
            hits.append(again is not None)

    asyncio.run(scenario())
    assert any(hits), "answers were never reused on the event loop"
    bob.store.close()  # the asynchronous connection belonged to that loop
