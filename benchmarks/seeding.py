"""The store the throughput and growth benchmarks run on, seeded through the store layer
(`bulk_load.bulk_load`, which writes each row as the service's own writes do).

With N grants:

- 1,000 users (`user0` … `user999`, known to the store's directory) and 50 groups own
  and hold the bulk: (N - 160) / 2 resources (60 % images, 30 % formations, 10 % sessions)
  of those users, each shared with one user and one group; one grant in ten expires in a
  week;
- alice owns 50 images, each shared with two users (100 grants);
- bob holds 40 grants of his own (30 view, 5 edit, 5 manage, 5 of them expiring) spread
  evenly over the store, and his group `lab` holds 20 (10 on resources bob holds too): his
  *shared with me* has 50 resources at every store size, so only the store grows;
- every resource has its `create` audit row and every grant its `share` row.

Resource ids are random 16-hex strings like the service's, so bob's resources lie
scattered over the tables as they would in a store that grew over time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from benchmarks.bulk_load import bulk_load
from jupyter_share.model import AuditEntry, Grant, Kind, Permission, Principal, Resource, utcnow
from jupyter_share.store import open_store

#: The standalone directory of the benchmark servers: bob is in `lab`.
GROUPS = {"lab": ["bob"]}
N_USERS = 1000
N_GROUPS = 50
ALICE_IMAGES = 50
BOB_DIRECT = 40
LAB_GRANTS = 20
FIXED_GRANTS = ALICE_IMAGES * 2 + BOB_DIRECT + LAB_GRANTS


def _spec(kind: Kind, i: int) -> dict:
    if kind == Kind.IMAGE:
        return {"reference": f"registry.example/team{i % 97}/img:{i}"}
    if kind == Kind.FORMATION:
        return {
            "image": f"registry.example/team{i % 97}/img:{i}",
            "cpu": 2,
            "memory": "4G",
            "start_url": "/lab",
        }
    return {
        "url": f"http://node{i % 300}.example:8888/",
        "root_dir": f"/home/user{i % N_USERS}",
        "hostname": f"node{i % 300}",
        "started_at": "2026-11-01T00:00:00Z",
        "jupyter_server": "2.21.1",
    }


class Workload:
    def __init__(self, n_grants: int, seed: int = 7, now: datetime | None = None):
        if n_grants < FIXED_GRANTS + 2 * BOB_DIRECT:
            raise ValueError(f"need at least {FIXED_GRANTS + 2 * BOB_DIRECT} grants")
        self.n_grants = n_grants
        self.now = now or utcnow()
        rng = random.Random(seed)
        self.n_filler = (n_grants - FIXED_GRANTS) // 2
        self.filler_ids = [f"{rng.getrandbits(64):016x}" for _ in range(self.n_filler)]
        self.alice_ids = [f"{rng.getrandbits(64):016x}" for _ in range(ALICE_IMAGES)]
        stride = self.n_filler // BOB_DIRECT
        self.bob_ids = [self.filler_ids[k * stride + stride // 2] for k in range(BOB_DIRECT)]
        # lab: 10 of bob's own and 10 others, between bob's.
        self.lab_ids = self.bob_ids[::4] + [
            self.filler_ids[k * stride + stride // 4] for k in range(0, BOB_DIRECT, 4)
        ]
        # Filler grants fill up to exactly n_grants.
        self.extra = n_grants - FIXED_GRANTS - 2 * self.n_filler

    def resources(self) -> Iterator[Resource]:
        for i, rid in enumerate(self.filler_ids):
            kind = Kind.IMAGE if i % 10 < 6 else Kind.FORMATION if i % 10 < 9 else Kind.SESSION
            at = self.now - timedelta(days=30, seconds=i * 3)
            yield Resource(
                rid, kind, f"{kind.value}-{i}", f"user{i % N_USERS}", "", _spec(kind, i), at, at
            )
        for i, rid in enumerate(self.alice_ids):
            at = self.now - timedelta(days=1, minutes=i)
            yield Resource(
                rid,
                Kind.IMAGE,
                f"alice-image-{i}",
                "alice",
                "an image of alice",
                _spec(Kind.IMAGE, i),
                at,
                at,
            )

    def grants(self) -> Iterator[Grant]:
        week = self.now + timedelta(days=7)
        for i, rid in enumerate(self.filler_ids):
            owner = f"user{i % N_USERS}"
            at = self.now - timedelta(days=29, seconds=i * 3)
            expiry = week if i % 10 == 3 else None
            yield Grant(
                rid, Principal.user(f"user{(i + 1) % N_USERS}"), Permission.VIEW, owner, at, expiry
            )
            yield Grant(
                rid, Principal.group(f"group{i % N_GROUPS}"), Permission.VIEW, owner, at, None
            )
            if i < self.extra:
                yield Grant(
                    rid,
                    Principal.user(f"user{(i + 2) % N_USERS}"),
                    Permission.EDIT,
                    owner,
                    at,
                    None,
                )
        for i, rid in enumerate(self.alice_ids):
            at = self.now - timedelta(hours=20, minutes=i)
            for j in (1, 2):
                yield Grant(
                    rid,
                    Principal.user(f"user{(i * 2 + j) % N_USERS}"),
                    Permission.VIEW,
                    "alice",
                    at,
                    None,
                )
        wanted = set(self.bob_ids + self.lab_ids)
        owners = {
            rid: f"user{i % N_USERS}" for i, rid in enumerate(self.filler_ids) if rid in wanted
        }
        for k, rid in enumerate(self.bob_ids):
            permission = (
                Permission.MANAGE
                if k % 8 == 5
                else Permission.EDIT
                if k % 8 == 6
                else Permission.VIEW
            )
            expiry = week if k % 8 == 2 else None
            yield Grant(
                rid,
                Principal.user("bob"),
                permission,
                owners[rid],
                self.now - timedelta(hours=k),
                expiry,
            )
        for k, rid in enumerate(self.lab_ids):
            yield Grant(
                rid,
                Principal.group("lab"),
                Permission.VIEW,
                owners[rid],
                self.now - timedelta(hours=k, minutes=30),
                None,
            )

    def entries(self) -> Iterator[AuditEntry]:
        for r in self.resources():
            yield AuditEntry(r.id, r.created_at, r.owner, "create", kind=r.kind)
        kinds = {r.id: r.kind for r in self.resources()}
        for g in self.grants():
            yield AuditEntry(
                g.resource_id,
                g.created_at,
                g.granted_by,
                "share",
                str(g.principal),
                g.permission.label,
                kinds[g.resource_id],
            )

    def users(self) -> list[str]:
        return [f"user{i}" for i in range(N_USERS)] + ["alice", "bob"]


def seed(db_url: str, n_grants: int) -> Workload:
    """Seed an empty store at db_url; print how long it took."""
    started = time.perf_counter()
    work = Workload(n_grants)
    store = open_store(db_url)
    try:
        bulk_load(
            store, work.resources(), work.grants(), work.entries(), work.users(), now=work.now
        )
    finally:
        store.close()
    print(
        f"# seeded {n_grants:,} grants over {work.n_filler + ALICE_IMAGES:,} resources in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return work
