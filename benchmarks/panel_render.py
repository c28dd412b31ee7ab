"""Render time of the JupyterLab Sharing panel with 1,000 owned and 1,000 shared items, in
Chromium, against baselines measured alternately in the same run.

    python -m benchmarks.panel_render --owned 1000 --shared 1000 --rounds 8
    python -m benchmarks.panel_render --rounds 2 --profile   # and where one open's time goes

Seeds a fresh store through the store layer (alice owns N images and formations, half of them
shared; others share M images and formations with alice; carol has nothing), puts 1,000 files
in alice's folder, starts real JupyterLab servers of alice and carol on that store, and drives
Debian's Chromium with `panel_render.js` (Playwright from ui-tests/node_modules). Each round:

- open: a fresh lab (workspace reset, data loaded while the panel is closed), then the time from
  activating the Sharing panel to the frame after all its rows are in the DOM; alice's panel
  (N + M rows) alternates with carol's empty panel (the baseline);
- refresh: in alice's lab, `jupyter-share:refresh` (four list requests, nothing changed) to the
  next frame, alternating with the file browser's refresh of 1,000 files (JupyterLab's own list).

Prints medians, p90 and ratios as a Markdown table; results go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from jupyter_share.model import utcnow
from jupyter_share.store import grants, open_store, resources
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def seed(db_url: str, owned: int, shared: int) -> None:
    """alice owns `owned` resources (60% images, 40% formations; every other one shared with
    bob); 50 other users share `shared` resources with alice, a third of them with an expiry."""
    store = open_store(db_url)
    now = utcnow()
    rows, grant_rows = [], []
    for i in range(owned):
        kind = "image" if i % 5 < 3 else "formation"
        spec = (
            {"reference": f"registry.example/team/img-{i}:1.0"}
            if kind == "image"
            else {"image": "python:3.12", "cpu": 2, "memory": "4G"}
        )
        rid = f"own{i:013d}"
        rows.append(
            dict(
                id=rid,
                kind=kind,
                name=f"alice-{kind}-{i}",
                owner="alice",
                description="",
                spec=spec,
                created_at=now - timedelta(seconds=i),
                updated_at=now,
            )
        )
        if i % 2 == 0:
            grant_rows.append(
                dict(
                    resource_id=rid,
                    principal_type="user",
                    principal_name="bob",
                    permission=1,
                    granted_by="alice",
                    created_at=now,
                    expires_at=None,
                )
            )
    for i in range(shared):
        kind = "image" if i % 2 == 0 else "formation"
        owner = f"user{i % 50}"
        spec = (
            {"reference": f"registry.example/{owner}/img-{i}:2.0"}
            if kind == "image"
            else {"image": "python:3.12", "gpu": 1}
        )
        rid = f"shr{i:013d}"
        rows.append(
            dict(
                id=rid,
                kind=kind,
                name=f"{owner}-{kind}-{i}",
                owner=owner,
                description="",
                spec=spec,
                created_at=now - timedelta(seconds=i),
                updated_at=now,
            )
        )
        grant_rows.append(
            dict(
                resource_id=rid,
                principal_type="user",
                principal_name="alice",
                permission=1 + i % 3,
                granted_by=owner,
                created_at=now - timedelta(seconds=i),
                expires_at=now + timedelta(days=30) if i % 3 == 0 else None,
            )
        )
    with store.engine.begin() as conn:
        if rows:
            conn.execute(resources.insert(), rows)
        if grant_rows:
            conn.execute(grants.insert(), grant_rows)
    store.close()


def start_lab(username: str, db_url: str, work: Path) -> tuple[subprocess.Popen, dict]:
    root = work / username
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token = f"bench-{username}-{os.urandom(6).hex()}"
    env = dict(
        os.environ, JUPYTER_RUNTIME_DIR=str(root / ".runtime"), JUPYTER_DATA_DIR=str(root / ".data")
    )
    env.pop("JUPYTERHUB_API_TOKEN", None)
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--ShareApp.username={username}",
        f"--ShareApp.db_url={db_url}",
        f"--LabApp.user_settings_dir={work / 'settings'}",
        f"--LabApp.workspaces_dir={root / '.workspaces'}",
        "--LabApp.expose_app_in_browser=True",
    ]
    log = (work / f"{username}.log").open("w")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    return process, {"username": username, "url": f"http://127.0.0.1:{port}/", "token": token}


def wait_ready(process: subprocess.Popen, info: dict, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server of {info['username']} exited")
        try:
            r = httpx.get(
                f"{info['url']}jupyter-share/api/v1/me",
                headers={"Authorization": f"token {info['token']}"},
            )
            if r.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server of {info['username']} did not start")


def ensure_playwright() -> None:
    if not (ROOT / "ui-tests" / "node_modules" / "playwright-core").is_dir():
        subprocess.run(
            ["jlpm", "install"],
            cwd=ROOT / "ui-tests",
            check=True,
            env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1"),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owned", type=int, default=1000)
    parser.add_argument("--shared", type=int, default=1000)
    parser.add_argument(
        "--files", type=int, default=1000, help="files in alice's folder (file browser baseline)"
    )
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print the raw samples as JSON too")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="one more open of the full panel, traced and profiled: where its time goes",
    )
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    ensure_playwright()

    work = Path(tempfile.mkdtemp(prefix="share-panel-bench-"))
    db_url = f"sqlite:///{work / 'share.db'}"
    settings = work / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"})
    )
    seed(db_url, args.owned, args.shared)
    (work / "alice").mkdir()
    for i in range(args.files):
        (work / "alice" / f"data-{i:04d}.csv").write_text("x\n")

    servers = [start_lab(name, db_url, work) for name in ("alice", "carol")]
    try:
        for process, info in servers:
            wait_ready(process, info)
        config = {
            "chromium": CHROMIUM,
            "alice": servers[0][1],
            "carol": servers[1][1],
            "rows": args.owned + args.shared,
            "files": args.files,
            "rounds": args.rounds,
            "profile": args.profile,
        }
        out = subprocess.run(
            ["node", str(ROOT / "benchmarks" / "panel_render.js"), json.dumps(config)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)

    samples = json.loads(out.stdout)
    if args.json:
        print(json.dumps(samples))

    def stats(values: list[float]) -> tuple[float, float]:
        values = sorted(values)
        median = (
            values[len(values) // 2]
            if len(values) % 2
            else sum(values[len(values) // 2 - 1 : len(values) // 2 + 1]) / 2
        )
        return median, values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]

    print(
        f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Chromium {samples['browser']}, {args.rounds} rounds"
    )
    print("| measure | median ms | p90 ms | ratio |")
    print("| --- | ---: | ---: | ---: |")
    base_open = stats(samples["open_empty"])[0]
    base_refresh = stats(samples["refresh_filebrowser"])[0]
    for key, label, base in (
        ("open_empty", "open the Sharing panel, empty (baseline)", base_open),
        (
            "open_full",
            f"open the Sharing panel, {args.owned:,} owned + {args.shared:,} shared",
            base_open,
        ),
        (
            "refresh_filebrowser",
            f"file browser refresh, {args.files:,} files (baseline)",
            base_refresh,
        ),
        (
            "refresh_full",
            f"Sharing refresh, {args.owned + args.shared:,} items unchanged",
            base_refresh,
        ),
    ):
        median, p90 = stats(samples[key])
        print(f"| {label} | {median:.0f} | {p90:.0f} | {median / base:.2f} |")
    if "profile" in samples:
        profile = samples["profile"]
        print(
            f"\nOne open of the full panel, profiled ({profile['open']:.0f} ms with the tools on):"
        )
        print("\n| trace event (nested ones overlap) | ms |\n| --- | ---: |")
        for name, ms in profile["events"]:
            print(f"| {name} | {ms} |")
        print("\n| script function, own time | ms |\n| --- | ---: |")
        for name, ms in profile["functions"]:
            print(f"| `{name}` | {ms} |")


if __name__ == "__main__":
    main()
