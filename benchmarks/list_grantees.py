"""What the badge's names cost a list (issue 15): `ShareService.list` of an owner's shared
images with the grantees (one ranked query more) against the same list without them (the
store's `grantees` answering nothing), alternately in one run, in process, on SQLite.

    python benchmarks/list_grantees.py --images 50 --grants-per-image 5 --rounds 400

Reports medians and p99 of both and their ratio. Results go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_share.directory import StandaloneDirectory  # noqa: E402
from jupyter_share.model import Kind  # noqa: E402
from jupyter_share.service import ShareService  # noqa: E402
from jupyter_share.store import open_store  # noqa: E402


def p99(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--grants-per-image", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/share.db")
        users = [f"user{i}" for i in range(args.grants_per_image)]
        service = ShareService(store, StandaloneDirectory(store=store, users=users, groups={}))
        for i in range(args.images):
            image = service.create(
                "alice", Kind.IMAGE, {"name": f"img{i}", "spec": {"reference": "a/b:1"}}
            )
            for user in users:
                service.share("alice", Kind.IMAGE, image.resource.id, user, {"permission": "view"})
        with_names = store.grantees  # the real query (a bound method)

        def without(resource_ids, now, per_resource):
            return {}

        timings: dict[str, list[float]] = {"with grantees": [], "without": []}
        for _ in range(args.rounds):
            for name, grantees in (("with grantees", with_names), ("without", without)):
                store.grantees = grantees
                start = time.perf_counter()
                page = service.list("alice", Kind.IMAGE, "owned", 0, 100)
                timings[name].append((time.perf_counter() - start) * 1000)
                assert len(page.items) == args.images
        store.close()

    base = statistics.median(timings["without"])
    print(
        f"{platform.python_version()}, {args.images} images x {args.grants_per_image} grants, {args.rounds} rounds"
    )
    print("| list | p50 ms | p99 ms | p50 / without |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {p99(values):.2f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
