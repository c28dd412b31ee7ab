"""What jupyter_share adds to a guest's request: GET /api/contents by a guest (signed in by a
personal link) on a server with the extension, against the same request by the owner on a
server without it, alternating the two in one run.

    python -m benchmarks.guest_overhead --requests 2000

Also reports the owner on the server with the extension, to separate the cost of the
identity provider from the guest's checks. Results go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.servers import start_server, wait_ready


def timed(client: httpx.Client, url: str) -> float:
    start = time.perf_counter()
    r = client.get(url)
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.text
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--files", type=int, default=20, help="files in the listed directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="share-guest-bench-"))
    db_url = f"sqlite:///{work / 'share.db'}"
    plain = start_server("plain", db_url, work, share_enabled=False)
    shared = start_server("alice", db_url, work, users=["bob"])
    servers = [plain, shared]
    try:
        for server in servers:
            for i in range(args.files):
                (server.root / f"file-{i}.txt").write_text("x" * 100)
        wait_ready(shared)
        # The plain server has no share API: wait for its own status instead.
        for _ in range(600):
            try:
                if (
                    httpx.get(
                        plain.url + "api/status", headers={"Authorization": f"token {plain.token}"}
                    ).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        link = shared.put("/sessions/current/grants/bob", {"permission": "view"}).json()["link"]
        guest = httpx.Client(timeout=30)
        assert guest.get(link).status_code == 302
        owner_plain = httpx.Client(headers={"Authorization": f"token {plain.token}"}, timeout=30)
        owner_shared = httpx.Client(headers={"Authorization": f"token {shared.token}"}, timeout=30)
        cases = {
            "owner, server without jupyter_share (baseline)": (
                owner_plain,
                plain.url + "api/contents",
            ),
            "guest (view), server with jupyter_share": (guest, shared.url + "api/contents"),
            "owner, server with jupyter_share": (owner_shared, shared.url + "api/contents"),
        }
        for client, url in cases.values():
            for _ in range(100):
                timed(client, url)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.requests):
            for name, (client, url) in cases.items():
                samples[name].append(timed(client, url))
    finally:
        for server in servers:
            server.stop()
    base = statistics.median(samples["owner, server without jupyter_share (baseline)"])
    print(
        f"# {platform.node()} {platform.machine()} Python {platform.python_version()}, "
        f"{args.requests} requests each, {args.files} files listed"
    )
    print("| who | median ms | p99 ms | median / baseline |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in samples.items():
        values.sort()
        median = statistics.median(values)
        print(
            f"| {name} | {median * 1000:.3f} | {values[int(len(values) * 0.99) - 1] * 1000:.3f} | {median / base:.3f} |"
        )


if __name__ == "__main__":
    main()
