"""Reliability: concurrent writers on one store, and a server killed in the middle of writing.

- Four real `jupyter server` processes write one SQLite store at once, 150 create+grant each,
  two client threads per server: every write lands, no client sees a 5xx ("database is
  locked" least of all), and the totals are exact through the API and in the store.
- A server is SIGKILLed while it streams writes, twice, while a neighbour keeps writing: the
  database passes `PRAGMA integrity_check`, every write that was acknowledged (2xx) is there,
  every change is there with its audit row or not at all, and the neighbour never notices.
- Many threads race on one store, SQLite and PostgreSQL: servers starting together on a fresh
  store, shares of one new grant, sweeps of expired grants, a delete against shares. No
  refusal but the service's own, and exactly one history row per change.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta

import httpx
import pytest

from jupyter_share.directory import StandaloneDirectory
from jupyter_share.model import Kind, NotFound, ShareError, utcnow
from jupyter_share.service import ShareService
from jupyter_share.store import SQLStore

from .servers import API, Server, start_server, start_servers, wait_ready

# Starts real servers writing one store, killed mid-stream.
pytestmark = pytest.mark.slow

WRITERS = ["alice", "bob", "carol", "dave"]
PER_SERVER = 150
THREADS_PER_SERVER = 2


def client_of(server: Server, timeout: float = 60) -> httpx.Client:
    """A client of its own for one thread."""
    return httpx.Client(
        base_url=f"http://127.0.0.1:{server.port}{API}",
        headers={"Authorization": f"token {server.token}"},
        timeout=timeout,
    )


def run_threads(targets) -> None:
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@contextmanager
def snapshot(path) -> Iterator[sqlite3.Connection]:
    """The store as one read transaction sees it (others may go on writing)."""
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as db:
        db.row_factory = sqlite3.Row
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("ROLLBACK")


def assert_sound(db: sqlite3.Connection) -> None:
    assert db.execute("PRAGMA integrity_check").fetchall()[0][0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def assert_no_lock_errors(*servers: Server) -> None:
    for server in servers:
        log = server.log()
        assert "database is locked" not in log, log[-3000:]
        assert "Traceback" not in log, log[-3000:]


# -- four servers, one SQLite store --------------------------------------------------------


def test_four_servers_write_one_sqlite_store_at_once(tmp_path):
    path = tmp_path / "share.db"
    # Started together on a store that does not exist yet: their schema upgrades race too.
    servers = start_servers(WRITERS, f"sqlite:///{path}", tmp_path, users=WRITERS)
    try:
        answers: list[tuple[str, str, int, str]] = []  # (writer, what, status, body)
        made: dict[str, list[str]] = {name: [] for name in WRITERS}
        start = threading.Barrier(len(WRITERS) * THREADS_PER_SERVER)

        def writer(name: str, part: int):
            grantee = WRITERS[(WRITERS.index(name) + 1) % len(WRITERS)]
            with client_of(servers[name]) as client:
                start.wait()
                for n in range(part, PER_SERVER, THREADS_PER_SERVER):
                    r = client.post(
                        "/images",
                        json={
                            "name": f"{name}-{n:03d}",
                            "spec": {"reference": f"registry.example/{name}:{n}"},
                        },
                    )
                    answers.append((name, "create", r.status_code, r.text))
                    if r.status_code != 201:
                        continue
                    rid = r.json()["id"]
                    made[name].append(rid)
                    r = client.put(f"/images/{rid}/grants/{grantee}", json={"permission": "view"})
                    answers.append((name, "grant", r.status_code, r.text))

        run_threads(
            [lambda n=n, p=p: writer(n, p) for n in WRITERS for p in range(THREADS_PER_SERVER)]
        )

        # Every write landed: no 5xx, no "database is locked", nothing but 201.
        refused = [a for a in answers if a[2] != 201]
        assert not refused, refused[:5]
        assert Counter((a[0], a[1]) for a in answers) == {
            (n, w): PER_SERVER for n in WRITERS for w in ("create", "grant")
        }

        # The totals, through the API of each server.
        for i, name in enumerate(WRITERS):
            server = servers[name]
            owned = server.get("/images", params={"scope": "owned", "limit": 1000}).json()
            assert owned["total"] == PER_SERVER
            assert sorted(r["name"] for r in owned["items"]) == [
                f"{name}-{n:03d}" for n in range(PER_SERVER)
            ]
            assert {r["id"] for r in owned["items"]} == set(made[name])
            assert all(r["shared"] and r["share_count"] == 1 for r in owned["items"])
            sharer = WRITERS[i - 1]
            shared = server.get("/shared-with-me", params={"kind": "images", "limit": 1000}).json()
            assert shared["total"] == PER_SERVER
            assert {r["id"] for r in shared["items"]} == set(made[sharer])
            assert {(r["owner"], r["access"]) for r in shared["items"]} == {(sharer, "view")}
        # ... and the grants of a sample, one by one.
        for name in WRITERS:
            for rid in made[name][::25]:
                grants = servers[name].get(f"/images/{rid}/grants").json()["items"]
                assert [(g["principal"], g["permission"]) for g in grants] == [
                    (f"user:{WRITERS[(WRITERS.index(name) + 1) % len(WRITERS)]}", "view")
                ]

        # The totals, in the store.
        with snapshot(path) as db:
            assert_sound(db)
            per_owner = db.execute(
                "SELECT owner, COUNT(*) FROM resources WHERE kind = 'image' GROUP BY owner ORDER BY owner"
            )
            assert [tuple(r) for r in per_owner] == [(name, PER_SERVER) for name in sorted(WRITERS)]
            assert (
                db.execute("SELECT COUNT(*) FROM grants").fetchone()[0] == len(WRITERS) * PER_SERVER
            )
            pairs = db.execute(
                "SELECT r.owner, g.principal_name, COUNT(*) FROM grants g JOIN resources r ON r.id = g.resource_id "
                "GROUP BY r.owner, g.principal_name ORDER BY r.owner"
            ).fetchall()
            assert [tuple(p) for p in pairs] == sorted(
                (name, WRITERS[(WRITERS.index(name) + 1) % len(WRITERS)], PER_SERVER)
                for name in WRITERS
            )
            actions = {
                r[0]: r[1]
                for r in db.execute(
                    "SELECT action, COUNT(*) FROM audit WHERE kind = 'image' GROUP BY action"
                )
            }
            assert actions == {
                "create": len(WRITERS) * PER_SERVER,
                "share": len(WRITERS) * PER_SERVER,
            }
    finally:
        for server in servers.values():
            server.stop()
    assert_no_lock_errors(*servers.values())


# -- SIGKILL in the middle of a stream of writes ---------------------------------------------


class Stream:
    """Writes through one server from a few threads until stopped or the server is gone,
    and remembers every write that was acknowledged (a 2xx received)."""

    def __init__(self, server: Server, grantee: str, tag: str, threads: int = 2):
        self.server, self.grantee, self.tag = server, grantee, tag
        self.acked = {
            "create": {},
            "grant": set(),
            "describe": {},
        }  # id -> name; ids; id -> description
        self.bad: list[
            tuple[str, int, str]
        ] = []  # answers that were neither 2xx nor a lost connection
        self.stop = threading.Event()
        self.killed = threading.Event()  # set before the test kills the server
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def start(self) -> Stream:
        for t in self.threads:
            t.start()
        return self

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def count(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.acked.values())

    def _run(self, part: int) -> None:
        with client_of(self.server, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                name = f"{self.tag}-{part}-{n}"
                try:
                    r = client.post(
                        "/images", json={"name": name, "spec": {"reference": "busybox:1"}}
                    )
                    if not self._took(r, 201, "create"):
                        continue
                    rid = r.json()["id"]
                    with self.lock:
                        self.acked["create"][rid] = name
                    r = client.put(
                        f"/images/{rid}/grants/{self.grantee}", json={"permission": "edit"}
                    )
                    if self._took(r, 201, "grant"):
                        with self.lock:
                            self.acked["grant"].add(rid)
                    description = f"described {name}"
                    r = client.patch(f"/images/{rid}", json={"description": description})
                    if self._took(r, 200, "describe"):
                        with self.lock:
                            self.acked["describe"][rid] = description
                except httpx.TransportError:
                    if self.killed.is_set():
                        return  # what was in flight was never acknowledged
                    raise

    def _took(self, r: httpx.Response, status: int, what: str) -> bool:
        if r.status_code != status:
            self.bad.append((what, r.status_code, r.text[:300]))
            return False
        return True


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def assert_acknowledged_writes_are_there(db: sqlite3.Connection, stream: Stream) -> None:
    resources = {
        r["id"]: r for r in db.execute("SELECT id, name, description, owner FROM resources")
    }
    for rid, name in stream.acked["create"].items():
        assert rid in resources and resources[rid]["name"] == name, (rid, name)
    granted = {(g[0], g[1]) for g in db.execute("SELECT resource_id, principal_name FROM grants")}
    for rid in stream.acked["grant"]:
        assert (rid, stream.grantee) in granted, rid
    for rid, description in stream.acked["describe"].items():
        assert resources[rid]["description"] == description, rid


def assert_each_change_has_its_audit_row(db: sqlite3.Connection) -> None:
    """Changes and their audit rows are written in one transaction: after a crash, both or
    neither are there."""
    creates = Counter(
        r[0] for r in db.execute("SELECT resource_id FROM audit WHERE action = 'create'")
    )
    ids = [r[0] for r in db.execute("SELECT id FROM resources WHERE kind = 'image'")]
    assert all(creates[rid] == 1 for rid in ids) and len(creates) == len(ids)
    shares = {
        (r[0], r[1])
        for r in db.execute("SELECT resource_id, principal FROM audit WHERE action = 'share'")
    }
    grants = {
        (r[0], "user:" + r[1]) for r in db.execute("SELECT resource_id, principal_name FROM grants")
    }
    assert shares == grants
    updates = Counter(
        r[0] for r in db.execute("SELECT resource_id FROM audit WHERE action = 'update'")
    )
    described = {r[0] for r in db.execute("SELECT id FROM resources WHERE description != ''")}
    assert set(updates) == described and all(n == 1 for n in updates.values())


def test_sigkill_in_the_middle_of_writes_loses_no_acknowledged_write(tmp_path):
    path = tmp_path / "share.db"
    db_url = f"sqlite:///{path}"
    users = ["alice", "bob", "carol"]
    servers = start_servers(["alice", "bob"], db_url, tmp_path, users=users)
    alice, bob = servers["alice"], servers["bob"]
    try:
        # bob writes the whole time, alice's server is killed under its writes twice.
        neighbour = Stream(bob, "carol", "bob").start()
        streams = []
        for round in range(2):
            stream = Stream(alice, "bob", f"alice{round}", threads=3).start()
            streams.append(stream)
            wait_for(lambda: stream.count() >= 60)
            stream.killed.set()
            os.kill(alice.process.pid, signal.SIGKILL)
            alice.process.wait(10)
            stream.join()
            assert not stream.bad, stream.bad[:5]
            # The neighbour goes on writing past the crash (a lock the dead server held is gone).
            before = neighbour.count()
            wait_for(lambda: neighbour.count() >= before + 30)
            with snapshot(path) as db:
                assert_sound(db)
                for s in streams:
                    assert_acknowledged_writes_are_there(db, s)
                assert_each_change_has_its_audit_row(db)
            # alice's server starts again on the store and serves what was acknowledged.
            alice.client.close()
            alice = servers["alice"] = wait_ready(
                start_server("alice", db_url, tmp_path, users=users)
            )
            owned = alice.get("/images", params={"scope": "owned", "limit": 1000}).json()
            ids = {r["id"] for r in owned["items"]}
            for s in streams:
                assert set(s.acked["create"]) <= ids
        neighbour.join()
        assert not neighbour.bad, neighbour.bad[:5]
        with snapshot(path) as db:
            assert_sound(db)
            for s in streams + [neighbour]:
                assert_acknowledged_writes_are_there(db, s)
            assert_each_change_has_its_audit_row(db)
        assert alice.get("/images", params={"scope": "owned", "limit": 1000}).json()[
            "total"
        ] >= sum(len(s.acked["create"]) for s in streams)
        assert bob.get("/images", params={"scope": "owned"}).json()["total"] == len(
            neighbour.acked["create"]
        )
    finally:
        for server in servers.values():
            server.stop()
    assert_no_lock_errors(bob)


# -- races on one store, both backends ----------------------------------------------------------


def test_racing_writers_on_one_store(store_url):
    # Six servers opening a fresh store at once: each upgrades its schema, one at a time.
    opened: list[SQLStore] = []
    run_threads([lambda: opened.append(SQLStore(store_url)) for _ in range(6)])
    services = [
        ShareService(s, StandaloneDirectory(s, users=["alice", "bob", "carol"])) for s in opened
    ]
    try:
        alice = services[0]

        def together(calls):
            """Run the calls at once; the service's refusals are answers, anything else fails."""
            results = []
            start = threading.Barrier(len(calls))

            def one(call):
                start.wait()
                try:
                    results.append(call())
                except ShareError as e:
                    results.append(e)

            run_threads([lambda c=c: one(c) for c in calls])
            return results

        # Shares of one new grant from six servers: one share and five changes, no error.
        for round in range(5):
            rid = alice.create(
                "alice", Kind.IMAGE, {"name": f"race-{round}", "spec": {"reference": "busybox"}}
            ).resource.id
            results = together(
                [
                    lambda s=s: s.share("alice", Kind.IMAGE, rid, "bob", {"permission": "view"})
                    for s in services
                ]
            )
            assert sorted(r.created for r in results) == [False] * 5 + [True], results
            history, _ = alice.store.history(rid)
            assert [e.action for e in history] == ["create", "share"] + ["change"] * 5

        # Six sweeps of the same expired grants: each grant expires once.
        rids = []
        for i in range(3):
            rid = alice.create(
                "alice", Kind.IMAGE, {"name": f"expiring-{i}", "spec": {"reference": "busybox"}}
            ).resource.id
            soon = (utcnow() + timedelta(milliseconds=300)).isoformat()
            alice.share("alice", Kind.IMAGE, rid, "bob", {"permission": "view", "expires_at": soon})
            alice.share(
                "alice", Kind.IMAGE, rid, "carol", {"permission": "edit", "expires_at": soon}
            )
            rids.append(rid)
        time.sleep(0.4)
        swept = together([s.purge_expired for s in services])
        assert sum(swept) == 6
        for rid in rids:
            assert [e.action for e in alice.store.history(rid)[0]] == [
                "create",
                "share",
                "share",
                "expire",
                "expire",
            ]

        # A delete against shares of the same resource: the shares land before it or are
        # refused after it (404), and nothing is left behind.
        for round in range(5):
            rid = alice.create(
                "alice", Kind.IMAGE, {"name": f"doomed-{round}", "spec": {"reference": "busybox"}}
            ).resource.id
            calls = [lambda: services[0].delete("alice", Kind.IMAGE, rid)]
            calls += [
                lambda s=s: s.share("alice", Kind.IMAGE, rid, "bob", {"permission": "edit"})
                for s in services[1:]
            ]
            results = together(calls)
            assert all(not isinstance(r, ShareError) or isinstance(r, NotFound) for r in results), (
                results
            )
            assert alice.store.get_resource(rid) is None
            assert alice.store.live_grants(rid, utcnow()) == []
            actions = [e.action for e in alice.store.history(rid)[0]]
            assert (
                actions[0] == "create" and actions[-1] == "delete" and actions.count("delete") == 1
            )
            assert actions.count("share") == (1 if len(actions) > 2 else 0)
    finally:
        for s in opened:
            s.close()
