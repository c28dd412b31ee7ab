"""List latency as the store grows from 1,000 to 1,000,000 grants, all sizes measured in one
run: one store per size, real servers of alice and bob on each, requests interleaved across
the sizes so that the machine's noise falls on every size alike.

    python -m benchmarks.growth --grants 1000 100000 1000000 --requests 1000
    python -m benchmarks.growth --postgres      # the stores on a throwaway PostgreSQL

Each store is seeded through the store layer (benchmarks/seeding.py: bob's shared-with-me
has the same 50 resources and alice owns the same 50 images at every size; only the rest
of the store grows). Each round asks every size, in rotating order, for bob's
`GET /api/status` (jupyter_server's own authenticated handler, the baseline), bob's
`GET shared-with-me` and alice's `GET images?scope=owned`, one request at a time over a
keep-alive connection. Reported: p50 and p99 per size, the ratio to the baseline, and the
growth of p50 and p99 from the smallest to each size (goal: <= 1.5 from 1k to 1M).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import jupyter_share
from benchmarks.loadgen import Connection
from benchmarks.seeding import GROUPS, seed
from tests.servers import API, COMPUTED, start_server, wait_ready

ENDPOINTS = {
    "status": ("bob", "/api/status"),
    "shared-with-me": ("bob", f"{API}/shared-with-me"),
    "images?scope=owned": ("alice", f"{API}/images?scope=owned"),
}


def percentile(values: list, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def store_size(db_url: str) -> str:
    if db_url.startswith("sqlite:///"):
        path = Path(db_url[len("sqlite:///") :])
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        return f"{size / 2**20:.0f} MiB"
    import sqlalchemy

    engine = sqlalchemy.create_engine(db_url)
    with engine.connect() as conn:
        size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
    engine.dispose()
    return f"{size / 2**20:.0f} MiB"


def run(urls: dict, workdir: Path, requests: int) -> dict:
    servers = {}
    try:
        for n, url in urls.items():
            for user in ("alice", "bob"):
                # Every answer computed: a reused one (ShareApp.reuse_answers) reads nothing of the store.
                servers[(n, user)] = start_server(
                    user, url, workdir / str(n), groups=GROUPS, extra_args=COMPUTED
                )
        for server in servers.values():
            wait_ready(server)
        conns = {key: Connection(s.port, s.token) for key, s in servers.items()}
        sizes = list(urls)
        # Check the answers are the same at every size, and warm up.
        for n in sizes:
            code, body = conns[(n, "bob")].request("GET", ENDPOINTS["shared-with-me"][1])
            assert code == 200 and len(json.loads(body)["items"]) == 50, body[:300]
            code, body = conns[(n, "alice")].request("GET", ENDPOINTS["images?scope=owned"][1])
            assert code == 200 and len(json.loads(body)["items"]) == 50, body[:300]
            for _ in range(50):
                for who, path in ENDPOINTS.values():
                    conns[(n, who)].request("GET", path)
        samples = {(n, name): [] for n in sizes for name in ENDPOINTS}
        for i in range(requests):
            order = sizes[i % len(sizes) :] + sizes[: i % len(sizes)]
            for n in order:
                for name, (who, path) in ENDPOINTS.items():
                    conn = conns[(n, who)]
                    t0 = time.perf_counter()
                    code, _ = conn.request("GET", path)
                    samples[(n, name)].append(time.perf_counter() - t0)
                    assert code == 200, (n, name, code)
        for c in conns.values():
            c.close()
    finally:
        for s in servers.values():
            s.stop()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=1000, help="requests per endpoint and size")
    parser.add_argument(
        "--postgres", action="store_true", help="run the stores on a throwaway PostgreSQL"
    )
    args = parser.parse_args()
    print(
        f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"jupyter_share from {Path(jupyter_share.__file__).parent}"
    )
    print(
        f"# {'PostgreSQL' if args.postgres else 'SQLite'} stores of {', '.join(f'{n:,}' for n in args.grants)} grants, "
        f"{args.requests} requests per endpoint and size; load average {os.getloadavg()[0]:.1f} at start"
    )
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="share-growth-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)  # the 1M store is 500 MiB
        urls = {}
        if args.postgres:
            from tests import postgres

            server = stack.enter_context(postgres.cluster())
        for n in args.grants:
            if args.postgres:
                urls[n] = postgres.fresh_database(server, f"share_growth_{n}")
            else:
                (workdir / str(n)).mkdir()
                urls[n] = f"sqlite:///{workdir / str(n) / 'share.db'}"
            seed(urls[n], n)
        sizes_on_disk = {n: store_size(url) for n, url in urls.items()}
        seeded = time.monotonic()
        samples = run(urls, workdir, args.requests)
    print(
        f"# seeding {seeded - started:.0f} s, measuring {time.monotonic() - seeded:.0f} s; load average {os.getloadavg()[0]:.1f} at end"
    )
    first = args.grants[0]
    p50 = {key: percentile(v, 0.5) * 1000 for key, v in samples.items()}
    p99 = {key: percentile(v, 0.99) * 1000 for key, v in samples.items()}
    print(
        "| grants | store | endpoint | p50 ms | p99 ms | p50 / status | p50 growth | p99 growth |"
    )
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for n in args.grants:
        for name in ENDPOINTS:
            key = (n, name)
            print(
                f"| {n:,} | {sizes_on_disk[n]} | {name} | {p50[key]:.2f} | {p99[key]:.2f} | {p50[key] / p50[(n, 'status')]:.2f} "
                f"| {p50[key] / p50[(first, name)]:.2f} | {p99[key] / p99[(first, name)]:.2f} |"
            )
    print(
        "# mean of all samples, ms: "
        + ", ".join(
            f"{n:,} {name} {statistics.mean(samples[(n, name)]) * 1000:.2f}"
            for n in args.grants
            for name in ENDPOINTS
            if name != "status"
        )
    )


if __name__ == "__main__":
    main()
