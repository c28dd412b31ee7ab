"""Live follow with jupyter-collaboration: the delay from alice's keystroke in a notebook cell to
the text on a watcher's screen, in Chromium, for bob (a view guest by alice's personal link,
whose every room message jupyter_share checks and who is held read-only) against alice's own
second browser on the same notebook (the baseline), both watching the same keystrokes.

    python benchmarks/live_follow.py --keys 40 --rounds 2

Run it with the Python of an environment that has jupyter-collaboration and jupyter_share
(the servers run in it). Each round starts fresh servers of alice and bob (ui-tests/
global-setup.ts) and runs ui-tests/bench/live-follow.bench.ts, which types `--keys`
keystrokes at a human's pace (80 to 160 ms apart, each waited for on both screens) and records
in each page, on the machine's one clock, when the key went down and when each watcher's cell
first showed the text. Prints median, p95 and max per watcher as a Markdown table; results go
in benchmarks/README.md. Nothing is asserted: it measures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_ui import CHROMIUM, UI_TESTS, jlpm, tail  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = p / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def one_round(keys: int) -> dict[str, list[float]]:
    env = dict(os.environ)
    env.update(
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
        CHROMIUM_PATH=CHROMIUM,
        JUPYTER_SHARE_PYTHON=sys.executable,
        JUPYTER_SHARE_UI_BENCH="1",
        JUPYTER_SHARE_BENCH_KEYS=str(keys),
    )
    env.pop("JUPYTERHUB_API_TOKEN", None)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "delays.json"
        env["JUPYTER_SHARE_BENCH_OUT"] = str(out)
        run = subprocess.run(
            jlpm() + ["playwright", "test"],
            cwd=UI_TESTS,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if run.returncode != 0 or not out.exists():
            sys.exit(f"the benchmark run failed:\n{tail(run.stdout + run.stderr)}")
        return json.loads(out.read_text())["delays"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=40, help="keystrokes per round (>= 30)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each on fresh servers")
    args = parser.parse_args()
    if importlib.util.find_spec("jupyter_server_ydoc") is None:
        sys.exit("jupyter-collaboration is not installed in this Python: pip install it here")
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium is not installed ({CHROMIUM}); apt-get install chromium")
    if not (UI_TESTS / "node_modules" / "@playwright" / "test").is_dir():
        subprocess.run(jlpm() + ["install"], cwd=UI_TESTS, check=True)

    delays: dict[str, list[float]] = {"guest": [], "owner": []}
    for _ in range(args.rounds):
        for who, values in one_round(args.keys).items():
            delays[who].extend(values)
    load = os.getloadavg()[0]
    print(
        f"{args.rounds} rounds of {args.keys} keystrokes, load average {load:.1f}, "
        f"Python {sys.version.split()[0]}\n"
    )
    print("| watcher | keystrokes | median ms | p95 ms | max ms | median / owner |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    base = statistics.median(delays["owner"])
    labels = {
        "owner": "alice's second browser (baseline)",
        "guest": "bob, view guest (read-only, checked)",
    }
    for who in ("owner", "guest"):
        values = delays[who]
        median = statistics.median(values)
        print(
            f"| {labels[who]} | {len(values)} | {median:.1f} | {percentile(values, 95):.1f} "
            f"| {max(values):.1f} | {median / base:.2f} |"
        )


if __name__ == "__main__":
    main()
