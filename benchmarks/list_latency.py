"""List and shared-with-me latency as the store grows, against jupyter_server's own
authenticated GET /api/status on the same server, measured alternately in one run.

    python -m benchmarks.list_latency --grants 1000 10000 --requests 300

Seeds the store through the store layer (resources owned by many users, each shared with
bob and with a group), starts real servers of alice and bob on it, and reports medians, p99
and the ratio to the baseline. Results go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from jupyter_share.model import utcnow
from jupyter_share.store import grants, open_store, resources
from tests.servers import COMPUTED, start_servers


def seed(db_url: str, n_grants: int) -> None:
    """n_grants grants over n_grants/2 resources of 100 owners; bob holds 50 of them."""
    store = open_store(db_url)
    now = utcnow()
    n_resources = max(n_grants // 2, 1)
    rows, grant_rows = [], []
    for i in range(n_resources):
        owner = f"user{i % 100}"
        rows.append(
            dict(
                id=f"r{i:015d}",
                kind="image",
                name=f"image-{i}",
                owner=owner,
                description="",
                spec={"reference": f"registry.example/img:{i}"},
                created_at=now - timedelta(seconds=i),
                updated_at=now,
            )
        )
        grant_rows.append(
            dict(
                resource_id=f"r{i:015d}",
                principal_type="user",
                principal_name=f"user{(i + 1) % 100}",
                permission=1,
                granted_by=owner,
                created_at=now,
                expires_at=None,
            )
        )
        grant_rows.append(
            dict(
                resource_id=f"r{i:015d}",
                principal_type="group",
                principal_name=f"group{i % 50}",
                permission=1,
                granted_by=owner,
                created_at=now,
                expires_at=None,
            )
        )
    # bob is one grantee among many; alice owns 50 images.
    for i in range(0, min(n_resources, 50 * 97), 97):
        grant_rows.append(
            dict(
                resource_id=f"r{i:015d}",
                principal_type="user",
                principal_name="bob",
                permission=2,
                granted_by="x",
                created_at=now,
                expires_at=None,
            )
        )
    for i in range(50):
        rows.append(
            dict(
                id=f"alice{i:011d}",
                kind="image",
                name=f"alice-{i}",
                owner="alice",
                description="",
                spec={"reference": "busybox"},
                created_at=now,
                updated_at=now,
            )
        )
    with store.engine.begin() as conn:
        conn.execute(resources.insert(), rows)
        conn.execute(grants.insert(), grant_rows[: n_grants + 50])
    store.close()


def timed(client, path: str, **kw) -> float:
    start = time.perf_counter()
    r = client.get(path, **kw)
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.text
    return elapsed


def run(n_grants: int, requests: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="share-bench-"))
    db_url = f"sqlite:///{work / 'share.db'}"
    seed(db_url, n_grants)
    # Every answer computed: a reused one (ShareApp.reuse_answers) reads nothing of the store.
    servers = start_servers(["alice", "bob"], db_url, work, extra_args=COMPUTED)
    alice, bob = servers["alice"], servers["bob"]
    status_url = f"http://127.0.0.1:{bob.port}/api/status"
    try:
        for _ in range(20):  # warm up
            bob.get("/shared-with-me")
            alice.get("/images", params={"scope": "owned"})
        samples = {"status": [], "shared-with-me": [], "images?scope=owned": []}
        for _ in range(requests):
            samples["status"].append(timed(bob.client, status_url))
            samples["shared-with-me"].append(timed(bob.client, "/shared-with-me"))
            samples["images?scope=owned"].append(
                timed(alice.client, "/images", params={"scope": "owned"})
            )
    finally:
        for s in servers.values():
            s.stop()
    result = {}
    for name, values in samples.items():
        values.sort()
        result[name] = (
            statistics.median(values) * 1000,
            values[int(len(values) * 0.99) - 1] * 1000,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(
        f"# {platform.node()} {platform.machine()} Python {platform.python_version()}, {args.requests} requests each"
    )
    print("| grants | endpoint | median ms | p99 ms | median / status |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for n in args.grants:
        result = run(n, args.requests)
        base = result["status"][0]
        for name, (median, p99) in result.items():
            print(f"| {n:,} | {name} | {median:.2f} | {p99:.2f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
