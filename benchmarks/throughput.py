"""Throughput of the share API under concurrent clients, against jupyter_server's own
authenticated GET /api/status on the same server, alternated in rounds in one run.

    python -m benchmarks.throughput --clients 8 --rounds 12 --seconds 1
    python -m benchmarks.throughput --postgres      # the store on a throwaway PostgreSQL

The store is seeded through the store layer (benchmarks/seeding.py, 10,000 grants by
default: bob's shared-with-me has 50 resources, alice owns 50 images). Real servers of alice
and bob run on it. Each round measures, for each endpoint, a phase of `--seconds` of the
baseline and one of the endpoint (in alternating order), each with `--clients` threads
sending requests back to back over their own keep-alive connection:

- bob's `GET shared-with-me` against bob's `GET /api/status`;
- alice's `GET images?scope=owned` against alice's `GET /api/status`;
- alice's `PUT images/{id}/grants/{user}`, each client on its own grant, alternating view
  and edit so that every PUT changes the grant (a write, an audit row and an event), against
  alice's `GET /api/status`.

- bob's `GET shared-with-me` again while alice changes a grant 20 times a second on her own
  server (`shared-with-me, store changing`): each change means bob's next list is computed
  again (jupyter_share/answers.py reuses an answer only while nobody has changed the store).

`--no-reuse` starts the servers with `ShareApp.reuse_answers = False`: every list computed.

Reported: the median requests/s of each side, their ratio (goal >= 0.80), the server's CPU
time per request (from /proc) and latency percentiles under load. Results go in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import jupyter_share
from benchmarks.loadgen import Connection, get, json_body, run_phase
from benchmarks.seeding import GROUPS, seed
from tests.servers import API, COMPUTED, start_servers

ENDPOINTS = ("shared-with-me", "images?scope=owned", "PUT grant", "shared-with-me, store changing")


def percentile(values: list, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


@contextlib.contextmanager
def changing(server, image_id: str, per_second: float):
    """Alice flips one grant `per_second` times a second on her server, in a thread."""
    stop = threading.Event()

    def flip():
        conn = Connection(server.port, server.token)
        n = 0
        while not stop.wait(1 / per_second):
            n += 1
            code, data = conn.request(
                "PUT",
                f"{API}/images/{image_id}/grants/user999",
                json_body({"permission": ("view", "edit")[n % 2]}),
            )
            assert code in (200, 201), data[:300]
        conn.close()

    thread = threading.Thread(target=flip, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def run(
    db_url: str,
    workdir: Path,
    n_grants: int,
    clients: int,
    rounds: int,
    seconds: float,
    reuse: bool = True,
) -> dict:
    work = seed(db_url, n_grants)
    extra = [] if reuse else COMPUTED
    servers = start_servers(["alice", "bob"], db_url, workdir, groups=GROUPS, extra_args=extra)
    alice, bob = servers["alice"], servers["bob"]
    conns = {
        name: [Connection(s.port, s.token) for _ in range(clients)]
        for name, s in (("alice", alice), ("bob", bob))
    }
    # Each PUT client owns one grant (one of alice's images, one user) and flips it.
    targets = [(work.alice_ids[i % len(work.alice_ids)], f"user{900 + i}") for i in range(clients)]
    bodies = [json_body({"permission": p}) for p in ("view", "edit")]

    def put(client: int, n: int):
        rid, user = targets[client]
        return ("PUT", f"{API}/images/{rid}/grants/{user}", bodies[n % 2])

    flips = [0] * clients

    def put_flipping(client: int, n: int):
        # Continue the alternation across phases: every PUT is a change.
        flips[client] += 1
        return put(client, flips[client])

    cases = {
        "shared-with-me": ("bob", get(f"{API}/shared-with-me"), (200,)),
        "images?scope=owned": ("alice", get(f"{API}/images?scope=owned"), (200,)),
        "PUT grant": ("alice", put_flipping, (200, 201)),
        "shared-with-me, store changing": ("bob", get(f"{API}/shared-with-me"), (200,)),
    }
    background = {"shared-with-me, store changing": lambda: changing(alice, work.alice_ids[-1], 20)}
    status = get("/api/status")
    results = {name: {"status": [], "endpoint": []} for name in cases}
    try:
        # Check the answers once, and warm up both sides.
        for name, (who, request, expect) in cases.items():
            method, path, body = request(0, 0)
            code, data = conns[who][0].request(method, path, body)
            assert code in expect, (name, code, data[:300])
            if name == "shared-with-me":
                import json

                assert len(json.loads(data)["items"]) == 50, data[:300]
            run_phase(conns[who], request, 0.5, expect)
            run_phase(conns[who], status, 0.5)
        pids = {"alice": alice.process.pid, "bob": bob.process.pid}
        for r in range(rounds):
            for name, (who, request, expect) in cases.items():
                order = [("status", status, (200,)), ("endpoint", request, expect)]
                if r % 2:
                    order.reverse()
                with background.get(name, contextlib.nullcontext)():
                    for side, req, exp in order:
                        results[name][side].append(
                            run_phase(conns[who], req, seconds, exp, server_pid=pids[who])
                        )
    finally:
        for group in conns.values():
            for c in group:
                c.close()
        for s in servers.values():
            s.stop()
    return results


def summarize(results: dict) -> list[str]:
    lines = [
        "| endpoint | status req/s | endpoint req/s | ratio (goal >= 0.80) | per-round ratio min..max "
        "| server CPU ms/req status, endpoint | p50 / p99 ms under load status, endpoint | errors |",
        "| --- | ---: | ---: | ---: | --- | --- | --- | ---: |",
    ]
    for name, sides in results.items():
        st, en = sides["status"], sides["endpoint"]
        st_med = statistics.median(p.throughput for p in st)
        en_med = statistics.median(p.throughput for p in en)
        per_round = [e.throughput / s.throughput for s, e in zip(st, en, strict=False)]
        cpu = [
            sum(p.server_cpu for p in ps) / sum(p.requests for p in ps) * 1000 for ps in (st, en)
        ]
        lat = [[x for p in ps for x in p.latencies] for ps in (st, en)]
        lines.append(
            f"| {name} | {st_med:.0f} | {en_med:.0f} | {en_med / st_med:.2f} | {min(per_round):.2f}..{max(per_round):.2f} "
            f"| {cpu[0]:.2f}, {cpu[1]:.2f} "
            f"| {percentile(lat[0], 0.5) * 1000:.1f} / {percentile(lat[0], 0.99) * 1000:.1f}, "
            f"{percentile(lat[1], 0.5) * 1000:.1f} / {percentile(lat[1], 0.99) * 1000:.1f} "
            f"| {sum(p.errors for p in st + en)} |"
        )
    client_cpu = sum(p.client_cpu for s in results.values() for ps in s.values() for p in ps)
    requests = sum(p.requests for s in results.values() for ps in s.values() for p in ps)
    lines.append(f"\n# client CPU {client_cpu / requests * 1e6:.0f} us per request (all phases)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one measured phase")
    parser.add_argument(
        "--postgres", action="store_true", help="run the store on a throwaway PostgreSQL"
    )
    parser.add_argument(
        "--no-reuse", action="store_true", help="ShareApp.reuse_answers = False: compute every list"
    )
    args = parser.parse_args()
    print(
        f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"jupyter_share from {Path(jupyter_share.__file__).parent}"
    )
    print(
        f"# {'PostgreSQL' if args.postgres else 'SQLite'} store, {args.grants:,} grants, {args.clients} clients, "
        f"{args.rounds} rounds of {args.seconds} s phases, answers {'not ' if args.no_reuse else ''}reused; "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="share-throughput-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        if args.postgres:
            from tests import postgres

            server = stack.enter_context(postgres.cluster())
            db_url = postgres.fresh_database(server, "share_throughput")
        else:
            db_url = f"sqlite:///{workdir / 'share.db'}"
        results = run(
            db_url,
            workdir,
            args.grants,
            args.clients,
            args.rounds,
            args.seconds,
            reuse=not args.no_reuse,
        )
    for line in summarize(results):
        print(line)
    print(
        f"# load average {os.getloadavg()[0]:.1f} at end; {time.monotonic() - started:.0f} s in all"
    )


if __name__ == "__main__":
    main()
