"""How fast revoking an edit guest ends everything of theirs, with and without re-keying, on
one server, alternating the two in one run (the plain revoke is the baseline).

    python -m benchmarks.revocation --rounds 10

Each round: carol (edit) signs in by her link, opens a kernel's channels websocket, starts a
kernel and a terminal; alice revokes (`DELETE .../grants/carol`, or `?rekey=true`). Measured
from the moment the DELETE answered: carol's next request refused, her websocket closed, her
kernel and terminal gone; with re-keying, also the old token refused (and the new one, read
from the runtime file, working). Results go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import websocket

from tests.servers import start_server, wait_ready
from tests.test_links import XSRF, Guest


def until_each(checks: dict, timeout: float = 10.0) -> dict:
    """Seconds from now until each check first holds (polled together), NaN if never."""
    start = time.perf_counter()
    found: dict = {}
    while len(found) < len(checks) and time.perf_counter() - start < timeout:
        for name, check in checks.items():
            if name not in found and check():
                found[name] = time.perf_counter() - start
        time.sleep(0.002)
    return {name: found.get(name, float("nan")) for name in checks}


def closed(ws) -> bool:
    try:
        ws.settimeout(0.005)
        frame = ws.recv()
        return frame in ("", b"") or not ws.connected
    except websocket.WebSocketTimeoutException:
        return False
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True


def runtime_token(root: Path) -> str:
    info = next((root / ".runtime").glob("jpserver-*.json"))
    return json.loads(info.read_text())["token"]


def one_round(server, owner: httpx.Client, token: str, rekey: bool) -> tuple[dict, str]:
    link = owner.put(
        "/jupyter-share/api/v1/sessions/current/grants/carol",
        json={"permission": "edit"},
        headers={"X-XSRFToken": XSRF},
    ).json()["link"]
    carol = Guest(server, link)
    kernel = carol.request("POST", "api/kernels", {"name": "python3"}).json()["id"]
    terminal = carol.request("POST", "api/terminals", {}).json()["name"]
    ws = carol.websocket(f"api/kernels/{kernel}/channels")
    started = time.perf_counter()
    r = owner.delete(
        "/jupyter-share/api/v1/sessions/current/grants/carol" + ("?rekey=true" if rekey else ""),
        headers={"X-XSRFToken": XSRF},
    )
    answered = time.perf_counter() - started
    assert r.status_code == (200 if rekey else 204), r.text
    checks = {
        "next request refused": lambda: (
            carol.request("GET", "api/contents").status_code in (401, 403)
        ),
        "websocket closed": lambda: closed(ws),
        "kernel and terminal stopped": lambda: (
            kernel not in {k["id"] for k in owner.get("/api/kernels").json()}
            and terminal not in {t["name"] for t in owner.get("/api/terminals").json()}
        ),
    }
    if rekey:
        checks["old token refused"] = lambda: (
            httpx.get(
                f"{server.url}api/status", headers={"Authorization": f"token {token}"}
            ).status_code
            in (401, 403)
        )
    times = {"DELETE answered": answered, **until_each(checks)}
    if rekey:
        token = runtime_token(server.root)
        assert (
            httpx.get(
                f"{server.url}api/status", headers={"Authorization": f"token {token}"}
            ).status_code
            == 200
        )
    ws.close()
    return times, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = wait_ready(
            start_server(
                "alice",
                f"sqlite:///{work / 's.db'}",
                work,
                users=["carol"],
                extra_args=["--ShareApp.guest_check_interval=0.5"],
            )
        )
        try:
            owner = httpx.Client(base_url=server.url, timeout=30)
            owner.cookies.set("_xsrf", XSRF, domain="127.0.0.1")
            owner.get(
                f"/login?token={server.token}"
            )  # the owner's browser: stays signed in through re-keying
            token = server.token
            results: dict[bool, list[dict]] = {False: [], True: []}
            for i in range(args.rounds * 2):
                rekey = bool(i % 2)
                times, token = one_round(server, owner, token, rekey)
                results[rekey].append(times)
        finally:
            server.stop()
    print(f"# {platform.platform()}, {platform.python_version()}, {args.rounds} rounds each")
    print(
        "| from the DELETE's answer | revoke (median / max, ms) | revoke and re-key (median / max, ms) |"
    )
    print("| --- | --- | --- |")
    for key in results[True][0]:
        cells = []
        for rekey in (False, True):
            values = [r[key] * 1000 for r in results[rekey] if key in r and r[key] == r[key]]
            cells.append(f"{statistics.median(values):.0f} / {max(values):.0f}" if values else "—")
        print(f"| {key} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
