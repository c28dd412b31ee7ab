"""How long sharing a container takes through jupyter_share under JupyterHub, against calling
the Hub's own sharing API directly, alternating the two in one run.

    python -m benchmarks.hub_share --rounds 100

A real JupyterHub (tests/hubs.py: configurable-http-proxy, the share service, alice's
JupyterLab server) runs on this machine. Each round, in alternating order:

- *extension*: alice's token, through the proxy to her server, `PUT .../sessions/current/
  grants/bob` (201, a new share: the server carries it to the service, which checks the rules,
  shares at the Hub and stores the grant), then `DELETE` of it (204);
- *Hub API*: through the proxy to the Hub, `POST /hub/api/shares/alice/` with
  `{"user": "carol"}`, then `PATCH` (revoke) of it, with a token holding `shares` (the test
  harness's service: the demo's users do not hold `shares!user`, they share through
  jupyter_share).

Reports medians, p90 and the ratios extension / Hub API (goal: under 1.5x). Results go in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from tests.hubs import running_hub

API = "jupyter-share/api/v1/"


def timed(call, expected: int) -> float:
    start = time.perf_counter()
    r = call()
    elapsed = time.perf_counter() - start
    assert r.status_code == expected, (r.status_code, r.text)
    return elapsed * 1000


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    with running_hub(Path(tempfile.mkdtemp(prefix="share-hub-bench-"))) as hub:
        hub.wait_service()
        hub.start_server("alice")
        alice = hub.token_client(hub.token("alice"))
        admin = hub.token_client(hub.admin_token)
        grant = hub.server_url("alice") + API + "sessions/current/grants/bob"
        hub_shares = hub.url + "hub/api/shares/alice/"

        def extension():
            share = timed(lambda: alice.put(grant, json={"permission": "edit"}), 201)
            revoke = timed(lambda: alice.delete(grant), 204)
            return share, revoke

        def hub_api():
            share = timed(lambda: admin.post(hub_shares, json={"user": "carol"}), 200)
            revoke = timed(lambda: admin.patch(hub_shares, json={"user": "carol"}), 200)
            return share, revoke

        for _ in range(args.warmup):
            extension()
            hub_api()
        results = {"extension": ([], []), "Hub API": ([], [])}
        for i in range(args.rounds):
            order = [("extension", extension), ("Hub API", hub_api)]
            for name, run in order if i % 2 == 0 else reversed(order):
                share, revoke = run()
                results[name][0].append(share)
                results[name][1].append(revoke)

    print(f"# {platform.machine()}, {platform.python_version()}, {args.rounds} rounds\n")
    print("| operation | path | median ms | p90 ms | median / Hub API |")
    print("| --- | --- | ---: | ---: | ---: |")
    for index, operation in enumerate(["share", "revoke"]):
        base = statistics.median(results["Hub API"][index])
        for name in ("Hub API", "extension"):
            values = results[name][index]
            print(
                f"| {operation} | {name} | {statistics.median(values):.1f} | {quantile(values, 0.9):.1f} | {statistics.median(values) / base:.2f} |"
            )


if __name__ == "__main__":
    main()
