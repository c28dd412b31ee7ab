"""Share-to-visible latency: from alice's PUT answering (on her server) to a client of bob's
event stream (on his own server) seeing the share, with 100 more streams open on bob's
server, on SQLite and on PostgreSQL; against the polling path in the same run; and the idle
cost of bob's server with the streams open.

    python benchmarks/share_to_visible.py --rounds 50 --poll-rounds 10 --idle 60
    python benchmarks/share_to_visible.py --backends hub   # on a real JupyterHub

- **stream**: alice shares an image with bob (`PUT images/ID/grants/bob`) and, next round,
  revokes it; measured from the moment her PUT (or DELETE) answered until bob's measured
  stream (`GET jupyter-share/api/v1/feed`) delivers the change. 100 more of bob's streams are
  open meanwhile, so each change is written to 101 streams.
- **poll** (the baseline, the path before the change feed): a client reads `shared-with-me`
  every `--poll-interval` seconds (5, the panel's setting's minimum; the default is 30) at a
  random phase, as the panel does; measured from the PUT answering to the first read that
  holds the share.
- **idle**: bob's server's CPU seconds (user + system, from /proc) per minute with 101 streams
  open and nothing changing, against the same server with the feed off
  (`--ShareApp.feed_interval=0`) and no streams, each measured over `--idle` seconds.
- **hub** (`--backends hub`): on a real JupyterHub (tests/hubs.py) with a PostgreSQL store,
  alice shares through the share service; bob's measured stream is the one his own server
  relays from the service, the 100 more are opened on the service itself; the idle cost is
  the service's, with the 101 streams open and with none.

Results go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import postgres  # noqa: E402
from tests.servers import start_server, wait_ready  # noqa: E402

STREAMS = 100


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": round(1000 * statistics.median(values), 1),
        "p99_ms": round(1000 * pct(values, 0.99), 1),
        "max_ms": round(1000 * max(values), 1),
    }


async def open_stream(client: httpx.AsyncClient, url: str, queue: asyncio.Queue | None):
    """Read a stream; put (arrival time, message) on `queue` when one is given."""
    async with client.stream("GET", url) as r:
        assert r.status_code == 200, r.status_code
        async for line in r.aiter_lines():
            if queue is not None and line.startswith("data: "):
                queue.put_nowait((time.perf_counter(), json.loads(line[6:])))


async def measure_stream(
    alice_api: str, alice_token: str, feed: str, others: str, bob_token: str, rounds: int
) -> list[float]:
    """alice shares through `alice_api`; bob's measured stream is `feed`, the 100 more are
    opened on `others`."""
    headers = {"Authorization": f"token {bob_token}"}
    limits = httpx.Limits(max_connections=STREAMS + 10)
    async with httpx.AsyncClient(headers=headers, timeout=None, limits=limits) as client:
        queue: asyncio.Queue = asyncio.Queue()
        tasks = [asyncio.create_task(open_stream(client, others, None)) for _ in range(STREAMS)]
        tasks.append(asyncio.create_task(open_stream(client, feed, queue)))
        await asyncio.sleep(2.0)  # all open
        assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
        api = httpx.AsyncClient(
            base_url=alice_api, headers={"Authorization": f"token {alice_token}"}, timeout=30
        )
        r = await api.post("images", json={"name": "bench-stream", "spec": {"reference": "x"}})
        rid = r.json()["id"]
        await asyncio.sleep(0.5)
        while not queue.empty():
            queue.get_nowait()
        latencies = []
        for i in range(rounds):
            if i % 2 == 0:
                r = await api.put(f"images/{rid}/grants/bob", json={"permission": "view"})
                want = "share"
            else:
                r = await api.delete(f"images/{rid}/grants/bob")
                want = "revoke"
            answered = time.perf_counter()
            assert r.status_code in (200, 201, 204), r.text
            while True:
                at, message = await asyncio.wait_for(queue.get(), 10)
                if message["resource_id"] == rid and message["action"] == want:
                    latencies.append(at - answered)
                    break
            await asyncio.sleep(random.uniform(0.05, 0.25))
        await api.delete(f"images/{rid}")
        await api.aclose()
        for t in tasks:
            t.cancel()
        return latencies


def measure_poll(alice, bob, rounds: int, interval: float) -> list[float]:
    """The panel's poll: shared-with-me every `interval` s, at a random phase."""
    r = alice.post("/images", {"name": "bench-poll", "spec": {"reference": "x"}})
    rid = r.json()["id"]
    latencies = []
    for _ in range(rounds):
        next_poll = time.perf_counter() + random.uniform(0, interval)
        r = alice.put(f"/images/{rid}/grants/bob", {"permission": "view"})
        answered = time.perf_counter()
        assert r.status_code == 201, r.text
        while True:
            time.sleep(max(0.0, next_poll - time.perf_counter()))
            items = bob.get("/shared-with-me", params={"limit": 1000}).json()["items"]
            if any(item["id"] == rid for item in items):
                latencies.append(time.perf_counter() - answered)
                break
            next_poll += interval
        alice.delete(f"/images/{rid}/grants/bob")
    alice.delete(f"/images/{rid}")
    return latencies


async def idle_with_streams(feed: str, token: str, pid: int, seconds: float) -> float:
    headers = {"Authorization": f"token {token}"}
    limits = httpx.Limits(max_connections=STREAMS + 10)
    async with httpx.AsyncClient(headers=headers, timeout=None, limits=limits) as client:
        tasks = [asyncio.create_task(open_stream(client, feed, None)) for _ in range(STREAMS + 1)]
        await asyncio.sleep(3.0)
        before = cpu_seconds(pid)
        await asyncio.sleep(seconds)
        used = cpu_seconds(pid) - before
        for t in tasks:
            t.cancel()
    return used * 60 / seconds


def idle_without(bob, seconds: float) -> float:
    return idle_without_pid(bob.process.pid, seconds)


def idle_without_pid(pid: int, seconds: float) -> float:
    time.sleep(3.0)
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) * 60 / seconds


def run_backend(name: str, db_url: str, workdir: Path, args) -> dict:
    users = ["alice", "bob"]
    servers = {u: start_server(u, db_url, workdir / name, users=users) for u in users}
    try:
        for s in servers.values():
            wait_ready(s)
        alice, bob = servers["alice"], servers["bob"]
        result = {
            "stream": summary(
                asyncio.run(
                    measure_stream(
                        f"{alice.url}jupyter-share/api/v1/",
                        alice.token,
                        f"{bob.url}jupyter-share/api/v1/feed",
                        f"{bob.url}jupyter-share/api/v1/feed",
                        bob.token,
                        args.rounds,
                    )
                )
            ),
            "poll": summary(measure_poll(alice, bob, args.poll_rounds, args.poll_interval)),
        }
        if args.idle:
            result["idle_cpu_s_per_min_101_streams"] = round(
                asyncio.run(
                    idle_with_streams(
                        f"{bob.url}jupyter-share/api/v1/feed", bob.token, bob.process.pid, args.idle
                    )
                ),
                3,
            )
    finally:
        for s in servers.values():
            s.stop()
    if args.idle:
        quiet = start_server(
            "bob", db_url, workdir / (name + "-off"), extra_args=["--ShareApp.feed_interval=0"]
        )
        try:
            wait_ready(quiet)
            result["idle_cpu_s_per_min_feed_off_no_streams"] = round(
                idle_without(quiet, args.idle), 3
            )
        finally:
            quiet.stop()
    return result


def service_pid() -> int:
    """The share service's process (the Hub's managed service)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"jupyter_share.hub.service" in cmdline:
                return int(proc.name)
    raise RuntimeError("the share service's process was not found")


def run_hub(workdir: Path, args) -> dict:
    """On a real JupyterHub with a PostgreSQL store: alice shares through the service; bob's
    measured stream is relayed by his own server; the 100 more are opened on the service."""
    from tests.hubs import running_hub

    with postgres.cluster() as server:
        url = postgres.fresh_database(server, "share_to_visible_hub")
        with running_hub(workdir / "hub", db_url=url) as hub:
            hub.wait_service()
            alice_token, bob_token = hub.token("alice"), hub.token("bob")
            hub.start_server("bob")
            result = {
                "stream": summary(
                    asyncio.run(
                        measure_stream(
                            hub.service_api,
                            alice_token,
                            hub.server_url("bob") + "jupyter-share/api/v1/feed",
                            hub.service_api + "feed",
                            bob_token,
                            args.rounds,
                        )
                    )
                )
            }
            if args.idle:
                result["idle_cpu_s_per_min_service_101_streams"] = round(
                    asyncio.run(
                        idle_with_streams(
                            hub.service_api + "feed", bob_token, service_pid(), args.idle
                        )
                    ),
                    3,
                )
                result["idle_cpu_s_per_min_service_no_streams"] = round(
                    idle_without_pid(service_pid(), args.idle), 3
                )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--poll-rounds", type=int, default=10)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds (0: skip)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "streams_open": STREAMS + 1,
    }
    with tempfile.TemporaryDirectory(prefix="share-to-visible-") as tmp:
        workdir = Path(tmp)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results["sqlite"] = run_backend(
                    "sqlite", f"sqlite:///{workdir / 'share.db'}", workdir, args
                )
            elif backend == "postgresql":
                with postgres.cluster() as server:
                    url = postgres.fresh_database(server, "share_to_visible")
                    results["postgresql"] = run_backend("postgresql", url, workdir, args)
            elif backend == "hub":
                results["hub"] = run_hub(workdir, args)
            print(json.dumps({backend: results[backend]}), flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
