"""Throughput of code variants side by side: servers of each variant on one store, their
phases interleaved round-robin (order rotating each round), each against its own server's
GET /api/status. For before/after figures and for experiments on a patched copy.

    python -m benchmarks.compare --variant before=1c34a63 --variant after=5838777 \\
        --variant inline=5838777+benchmarks/experiments/inline-call.patch --rounds 10
    python -m benchmarks.compare ... --postgres
    python -m benchmarks.compare ... --reuse     # servers reuse list answers, as in throughput.py

A variant is NAME=REV[+PATCH...]: `git archive REV jupyter_share` into a temporary directory,
patches applied with `patch -p1`, and that directory first on the servers' PYTHONPATH. The
store is seeded by this checkout (benchmarks/seeding.py), as in throughput.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.loadgen import Connection, get, json_body, run_phase
from benchmarks.seeding import GROUPS, seed
from tests.servers import API, COMPUTED, start_server, wait_ready

REPO = Path(__file__).resolve().parents[1]


def build_variant(spec: str, into: Path) -> tuple[str, Path]:
    name, _, source = spec.partition("=")
    rev, *patches = source.split("+")
    target = into / name
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "jupyter_share"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    for patch in patches:
        subprocess.run(
            ["patch", "-s", "-p1", "-d", str(target), "-i", str((REPO / patch).resolve())],
            check=True,
        )
    found = subprocess.run(
        [sys.executable, "-c", "import jupyter_share; print(jupyter_share.__file__)"],
        env=dict(os.environ, PYTHONPATH=str(target)),
        cwd=into,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found.startswith(str(target)), found
    return name, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", required=True, help="NAME=REV[+PATCH...]")
    parser.add_argument(
        "--endpoints", nargs="+", default=["shared-with-me", "images?scope=owned", "PUT grant"]
    )
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="servers reuse list answers (ShareApp.reuse_answers, throughput.py's default); "
        "by default every answer is computed, to measure the code's cost",
    )
    args = parser.parse_args()
    print(
        f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"# {'PostgreSQL' if args.postgres else 'SQLite'} store, {args.grants:,} grants, {args.clients} clients, "
        f"{args.rounds} rounds of {args.seconds} s phases, answers {'reused' if args.reuse else 'computed'}; "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    work = Path(tempfile.mkdtemp(prefix="share-compare-"))
    variants = dict(build_variant(spec, work / "variants") for spec in args.variant)
    servers, conns = {}, {}
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        if args.postgres:
            from tests import postgres

            db_url = postgres.fresh_database(
                stack.enter_context(postgres.cluster()), "share_compare"
            )
        else:
            db_url = f"sqlite:///{work / 'share.db'}"
        workload = seed(db_url, args.grants)
        saved = os.environ.get("PYTHONPATH")
        try:
            for name, path in variants.items():
                os.environ["PYTHONPATH"] = str(path)
                for user in ("alice", "bob"):
                    # The code's cost, not the reuse of answers (revisions before it ignore the
                    # option), unless --reuse: then what throughput.py measures.
                    servers[(name, user)] = start_server(
                        user,
                        db_url,
                        work / name,
                        groups=GROUPS,
                        extra_args=[] if args.reuse else COMPUTED,
                    )
            if saved is None:
                os.environ.pop("PYTHONPATH")
            else:
                os.environ["PYTHONPATH"] = saved
            for server in servers.values():
                wait_ready(server)
            conns = {
                key: [Connection(s.port, s.token) for _ in range(args.clients)]
                for key, s in servers.items()
            }
            bodies = [json_body({"permission": p}) for p in ("view", "edit")]
            flips: dict = {}

            def put_for(index: int):
                def request(client: int, n: int):
                    key = (index, client)
                    flips[key] = flips.get(key, 0) + 1
                    rid = workload.alice_ids[client % len(workload.alice_ids)]
                    return (
                        "PUT",
                        f"{API}/images/{rid}/grants/user{900 + index * 20 + client}",
                        bodies[flips[key] % 2],
                    )

                return request

            cases = {}
            for index, name in enumerate(variants):
                for endpoint in args.endpoints:
                    who = "bob" if endpoint == "shared-with-me" else "alice"
                    request = {
                        "shared-with-me": get(f"{API}/shared-with-me"),
                        "images?scope=owned": get(f"{API}/images?scope=owned"),
                        "PUT grant": put_for(index),
                    }[endpoint]
                    pid = servers[(name, who)].process.pid
                    cases[(name, endpoint, "endpoint")] = (conns[(name, who)], request, pid)
                    cases[(name, endpoint, "status")] = (
                        conns[(name, who)],
                        get("/api/status"),
                        pid,
                    )
            keys = list(cases)
            for key in keys:  # warm up
                run_phase(cases[key][0], cases[key][1], 0.4, (200, 201))
            results = {key: [] for key in keys}
            for r in range(args.rounds):
                order = keys[r % len(keys) :] + keys[: r % len(keys)]
                for key in order[::-1] if r % 2 else order:
                    c, request, pid = cases[key]
                    results[key].append(
                        run_phase(c, request, args.seconds, (200, 201), server_pid=pid)
                    )
        finally:
            for group in conns.values():
                for c in group:
                    c.close()
            for server in servers.values():
                server.stop()
    print(f"# load average {os.getloadavg()[0]:.1f} at end")
    print(
        "| variant | endpoint | status req/s | endpoint req/s | ratio | server CPU ms/req status, endpoint | endpoint p50 / p99 ms | errors |"
    )
    print("| --- | --- | ---: | ---: | ---: | --- | --- | ---: |")
    for name in variants:
        for endpoint in args.endpoints:
            st, en = results[(name, endpoint, "status")], results[(name, endpoint, "endpoint")]
            st_med = statistics.median(p.throughput for p in st)
            en_med = statistics.median(p.throughput for p in en)
            cpu = [
                sum(p.server_cpu for p in ps) / sum(p.requests for p in ps) * 1000
                for ps in (st, en)
            ]
            lat = sorted(x for p in en for x in p.latencies)
            print(
                f"| {name} | {endpoint} | {st_med:.0f} | {en_med:.0f} | {en_med / st_med:.2f} | {cpu[0]:.2f}, {cpu[1]:.2f} "
                f"| {lat[len(lat) // 2] * 1000:.1f} / {lat[int(len(lat) * 0.99)] * 1000:.1f} | {sum(p.errors for p in st + en)} |"
            )


if __name__ == "__main__":
    main()
