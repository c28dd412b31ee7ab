"""The share service under many simulated users, against the Hub's GET /hub/api/user.

Issue 7: the service's latency for 1,000 users on PostgreSQL, against the Hub's own cheapest
authenticated call with the same tokens at the same rate, alternated in rounds in one run.

    python -m benchmarks.service_load --users 1000 --duration 120

Starts a real JupyterHub (configurable-http-proxy, the share service as a managed service;
tests/hubs.py) on a fresh database of a throwaway PostgreSQL cluster (tests/postgres.py; or
the SQLite store with --sqlite), creates the users and groups at the Hub and one API token per
user, seeds a realistic state through the service's API (every user creates images and a
formation and shares some with other users and groups), then lets every user act at random
(exponential think time, so that all of them together send --rate requests per second):

    60 %  GET shared-with-me
    10 %  GET images?scope=owned
    10 %  GET formations?scope=all
    10 %  PUT images|formations/ID/grants/PRINCIPAL   (share with a user or group, or change)
     5 %  DELETE .../grants/PRINCIPAL                 (revoke one of the user's own grants)
     5 %  POST images                                 (a new image, a unique name)

The default rate, 50 requests per second for 1,000 users (each one request every 20 s), is
what 1,000 open JupyterLabs send: the Sharing panel polls shared-with-me every 30 s while
visible (33 req/s), and the users' own listing and sharing add the rest.

Every request is valid (each user changes only its own resources, one request at a time), so
any answer but the expected 2xx is an error. Four conditions are alternated in rounds of
--round seconds, in a rotating order: the service directly (its own port) and its baseline,
the Hub's GET /hub/api/user directly (the Hub's port); then both through the proxy. Reported
per endpoint: count, errors, p50, p90, p99, max and the ratios to the baseline; the CPU each
process used and how long it waited for one; the Hub API calls the service made per request
(from the Hub's own log). Then (unless --no-ramp) other rates in short steps, the service and
the baseline alternately (direct), until both miss p99 < 100 ms: the highest sustainable
rate; and (unless --probe 0) each kind of request alone, with its Hub calls and its SQL round
trips (from PostgreSQL's log). --profile DIR records the service and the Hub with py-spy
during the rounds of the service (direct) and prints where their time goes;
--service-option NAME=VALUE passes a ShareServiceApp option to the service (to try a cache
setting without editing anything).

Everything it started (the Hub, the proxy, the service, PostgreSQL, py-spy) is stopped at the
end, on errors and on Ctrl-C. Results go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import math
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from jupyter_share.hub.demo import alive, descendants
from tests import postgres
from tests.hubs import Hub, start_hub

GOAL_P99_MS = 100.0

#: The mix: (operation, weight).
MIX = [
    ("GET shared-with-me", 60),
    ("GET images?scope=owned", 10),
    ("GET formations?scope=all", 10),
    ("PUT grants", 10),
    ("DELETE grants", 5),
    ("POST images", 5),
]
BASELINE = "GET /hub/api/user (baseline)"
EXPECTED = {"GET": {200}, "PUT": {200, 201}, "DELETE": {204}, "POST": {201}}


# -- the simulated users ---------------------------------------------------------------------


@dataclass
class SimUser:
    name: str
    token: str
    groups: list
    images: list = field(default_factory=list)
    formations: list = field(default_factory=list)
    #: (plural, resource id) -> {principal: permission}: the grants this user made.
    grants: dict = field(default_factory=dict)
    made: int = 0

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}


@dataclass
class Sample:
    op: str
    seconds: float
    ok: bool


@dataclass
class World:
    users: list
    user_names: list
    groups: dict
    rng: random.Random
    errors: list = field(default_factory=list)

    def other_user(self, me: str) -> str:
        while True:
            name = self.rng.choice(self.user_names)
            if name != me:
                return name


class Targets:
    """The URLs of one path to the service and to the Hub (direct or through the proxy)."""

    def __init__(self, service_api: str, hub_user: str):
        self.service_api = service_api
        self.hub_user = hub_user


async def call(
    client: httpx.AsyncClient,
    world: World,
    op: str,
    method: str,
    url: str,
    user: SimUser,
    json=None,
    params=None,
) -> tuple[Sample, httpx.Response | None]:
    start = time.perf_counter()
    try:
        response = await client.request(method, url, headers=user.headers, json=json, params=params)
        elapsed = time.perf_counter() - start
    except httpx.HTTPError as e:
        elapsed = time.perf_counter() - start
        world.errors.append(f"{op} as {user.name}: {type(e).__name__} {e}"[:300])
        return Sample(op, elapsed, False), None
    ok = response.status_code in EXPECTED[method]
    if not ok:
        world.errors.append(f"{op} as {user.name}: {response.status_code} {response.text[:200]}")
    return Sample(op, elapsed, ok), response


async def act(
    client: httpx.AsyncClient,
    world: World,
    user: SimUser,
    targets: Targets,
    baseline: bool,
    op: str | None = None,
) -> Sample:
    """One request of one user: the baseline's, or one of the mix (`op`, or one at random)."""
    if baseline:
        sample, _ = await call(client, world, BASELINE, "GET", targets.hub_user, user)
        return sample
    rng = world.rng
    api = targets.service_api
    op = op or rng.choices([name for name, _ in MIX], weights=[w for _, w in MIX])[0]
    if op == "DELETE grants" and not any(user.grants.values()):
        op = "PUT grants"
    if op == "GET shared-with-me":
        return (await call(client, world, op, "GET", api + "shared-with-me", user))[0]
    if op == "GET images?scope=owned":
        return (
            await call(client, world, op, "GET", api + "images", user, params={"scope": "owned"})
        )[0]
    if op == "GET formations?scope=all":
        return (
            await call(client, world, op, "GET", api + "formations", user, params={"scope": "all"})
        )[0]
    if op == "POST images":
        user.made += 1
        body = {
            "name": f"{user.name}-load-{user.made}",
            "description": "made under load",
            "spec": {"reference": f"registry.example.org/{user.name}/lab:{user.made}"},
        }
        sample, response = await call(client, world, op, "POST", api + "images", user, json=body)
        if sample.ok:
            user.images.append(response.json()["id"])
        return sample
    if op == "PUT grants":
        plural, rid = rng.choice(
            [("images", i) for i in user.images] + [("formations", f) for f in user.formations]
        )
        if rng.random() < 0.8:
            principal = "user:" + world.other_user(user.name)
        else:
            principal = "group:" + rng.choice(list(world.groups))
        permission = rng.choice(["view", "edit"])
        sample, _ = await call(
            client,
            world,
            op,
            "PUT",
            f"{api}{plural}/{rid}/grants/{principal}",
            user,
            json={"permission": permission},
        )
        if sample.ok:
            user.grants.setdefault((plural, rid), {})[principal] = permission
        return sample
    # DELETE grants: one this user made.
    (plural, rid), held = rng.choice([item for item in user.grants.items() if item[1]])
    principal = rng.choice(sorted(held))
    sample, _ = await call(
        client, world, op, "DELETE", f"{api}{plural}/{rid}/grants/{principal}", user
    )
    if sample.ok:
        del held[principal]
    return sample


async def run_round(
    world: World,
    clients: dict,
    targets: Targets,
    path: str,
    baseline: bool,
    rate: float,
    seconds: float,
) -> tuple[list, list, float]:
    """Every user acts for `seconds`: exponential think times (mean users/rate), one request at
    a time. Returns the samples, the event loop's lag samples and the wall time taken."""
    mean_think = len(world.users) / rate
    samples: list[Sample] = []
    lags: list[float] = []
    start = time.perf_counter()
    end = start + seconds
    client = clients[path]

    async def one(user: SimUser, rng: random.Random) -> None:
        while True:
            delay = rng.expovariate(1 / mean_think)
            if time.perf_counter() + delay >= end:
                return
            await asyncio.sleep(delay)
            samples.append(await act(client, world, user, targets, baseline))

    async def monitor() -> None:
        while time.perf_counter() < end:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t - 0.01)

    tasks = [asyncio.create_task(one(u, random.Random(world.rng.random()))) for u in world.users]
    tasks.append(asyncio.create_task(monitor()))
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    return samples, lags, time.perf_counter() - start


# -- setting up the Hub ------------------------------------------------------------------------


def make_groups(names: list[str]) -> dict[str, list[str]]:
    """A team of about 50 for everyone, a course of half the users, and a small staff group."""
    teams = max(1, len(names) // 50)
    groups = {f"team-{t:02d}": names[t::teams] for t in range(teams)}
    groups["course-2026"] = names[::2]
    groups["staff"] = names[::20]
    return groups


async def create_at_hub(hub: Hub, names: list[str], groups: dict) -> list[str]:
    """The users and groups at the Hub, and one token per user (default scopes: all the
    user's own, which include access to the share service)."""
    api = f"http://127.0.0.1:{hub.hub_port}/hub/api/"
    async with httpx.AsyncClient(
        base_url=api, headers={"Authorization": f"token {hub.admin_token}"}, timeout=120
    ) as admin:
        for i in range(0, len(names), 100):
            r = await admin.post("users", json={"usernames": names[i : i + 100]})
            assert r.status_code == 201, f"creating users: {r.status_code} {r.text[:300]}"
        for group, members in groups.items():
            r = await admin.post(f"groups/{group}", json={"users": members})
            assert r.status_code == 201, f"creating group {group}: {r.status_code} {r.text[:300]}"
        semaphore = asyncio.Semaphore(8)

        async def token(name: str) -> str:
            async with semaphore:
                r = await admin.post(
                    f"users/{name}/tokens", json={"note": "service_load benchmark"}
                )
                assert r.status_code == 201, f"token of {name}: {r.status_code} {r.text[:300]}"
                return r.json()["token"]

        return await asyncio.gather(*(token(n) for n in names))


async def seed(world: World, client: httpx.AsyncClient, api: str) -> int:
    """Through the service: each user makes one or two images and a formation on one of them,
    shares its first image with two users, half of them their team's image with the team, the
    formation with a user (edit), and a few the formation with the course."""
    semaphore = asyncio.Semaphore(16)
    count = 0

    async def checked(user: SimUser, method: str, path: str, body: dict) -> dict:
        nonlocal count
        for attempt in range(3):
            r = await client.request(method, api + path, headers=user.headers, json=body)
            count += 1
            if r.status_code in EXPECTED[method]:
                return r.json()
            if r.status_code != 503 or attempt == 2:
                raise RuntimeError(
                    f"seeding {method} {path} as {user.name}: {r.status_code} {r.text[:300]}"
                )
            await asyncio.sleep(1)

    async def one(user: SimUser, rng: random.Random) -> None:
        async with semaphore:
            for n in range(1 + (rng.random() < 0.5)):
                image = await checked(
                    user,
                    "POST",
                    "images",
                    {
                        "name": f"{user.name}-image-{n}",
                        "description": "seeded",
                        "spec": {"reference": f"registry.example.org/{user.name}/env:{n}"},
                    },
                )
                user.images.append(image["id"])
            formation = await checked(
                user,
                "POST",
                "formations",
                {
                    "name": f"{user.name}-formation",
                    "spec": {"image": user.images[0], "cpu": 2, "memory": "4Gi"},
                },
            )
            user.formations.append(formation["id"])
            shares = [
                ("images", user.images[0], "user:" + world.other_user(user.name), "view"),
                ("images", user.images[0], "user:" + world.other_user(user.name), "view"),
                ("formations", formation["id"], "user:" + world.other_user(user.name), "edit"),
            ]
            team = next(g for g in user.groups if g.startswith("team-"))
            if rng.random() < 0.5:
                shares.append(("images", user.images[-1], "group:" + team, "view"))
            if rng.random() < 0.02:
                shares.append(("formations", formation["id"], "group:course-2026", "view"))
            for plural, rid, principal, permission in shares:
                await checked(
                    user, "PUT", f"{plural}/{rid}/grants/{principal}", {"permission": permission}
                )
                user.grants.setdefault((plural, rid), {})[principal] = permission

    await asyncio.gather(*(one(u, random.Random(world.rng.random())) for u in world.users))
    return count


# -- processes and their CPU -------------------------------------------------------------------


def schedstat(pid: int) -> tuple[float, float]:
    """Seconds on a CPU and seconds runnable but waiting for one (the run queue), summed over
    the process's threads (/proc/PID/task/TID/schedstat)."""
    on_cpu = waiting = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait, _ = f.read().split()
            on_cpu += int(run)
            waiting += int(wait)
        except (OSError, ValueError):
            continue
    return on_cpu / 1e9, waiting / 1e9


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def postmaster_pid(port: int) -> int | None:
    for entry in os.listdir("/proc"):
        if entry.isdigit() and re.search(rf"/bin/postgres .*-p {port}\b", cmdline(int(entry))):
            return int(entry)
    return None


#: The Hub's access log line: "200 GET /hub/api/users/u0001/shared (share@127.0.0.1) 3.21ms".
HUB_LOG_LINE = re.compile(r"\] (\d{3}) ([A-Z]+) (\S+) \(([^@)]*)@[^)]*\) ([\d.]+)ms")


def hub_call_kind(path: str) -> str:
    path = path.split("?")[0]
    if path == "/hub/api/user":
        return "GET /hub/api/user"
    if re.fullmatch(r"/hub/api/users/[^/]+/shared", path):
        return "GET users/NAME/shared"
    if re.fullmatch(r"/hub/api/users/[^/]+", path):
        return "GET users/NAME"
    if re.fullmatch(r"/hub/api/groups/[^/]+", path):
        return "GET groups/NAME"
    return path


class HubLog:
    """The Hub's own access log (its stdout, which the service shares): which calls the Hub
    served, for whom, and in how many ms by its own clock."""

    def __init__(self, path: Path):
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size

    def since(self, mark: int) -> list[tuple[str, str, float]]:
        """(caller, kind of call, ms) of every API call the Hub logged after `mark`."""
        with self.path.open("rb") as f:
            f.seek(mark)
            text = f.read().decode(errors="replace")
        calls = []
        for m in HUB_LOG_LINE.finditer(text):
            if m.group(3).startswith("/hub/api/"):
                calls.append(
                    (
                        "service" if m.group(4) == "share" else "user token",
                        hub_call_kind(m.group(3)),
                        float(m.group(5)),
                    )
                )
        return calls


class Statements:
    """Every SQL statement PostgreSQL runs for the store's database, from its own log: logged
    (log_min_duration_statement = 0) only while `logging()` is active."""

    def __init__(self, db_url: str | None, pg_port: int | None):
        self.url = (
            db_url.replace("postgresql+psycopg://", "postgresql://") if db_url and pg_port else None
        )
        postmaster = postmaster_pid(pg_port) if self.url else None
        found = re.search(r" -k (\S+)", cmdline(postmaster)) if postmaster else None
        self.log = (
            Path(found.group(1)) / "log" if found else None
        )  # tests/postgres.py: pg_ctl -l BASE/log
        self.database = self.url.rsplit("/", 1)[1] if self.url else None

    def _set(self, on: bool) -> None:
        import psycopg

        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            if on:
                conn.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
                conn.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] db=%d '")
            else:
                conn.execute("ALTER SYSTEM RESET log_min_duration_statement")
                conn.execute("ALTER SYSTEM RESET log_line_prefix")
            conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)

    @contextlib.contextmanager
    def logging(self):
        if not self.log:
            yield self
            return
        self._set(True)
        try:
            yield self
        finally:
            self._set(False)

    def mark(self) -> int | None:
        return self.log.stat().st_size if self.log else None

    def since(self, mark: int | None) -> tuple[int, float] | None:
        """(round trips, their ms by PostgreSQL's clock) in the store's database since `mark`:
        each simple query (the pool's pre-ping ";", BEGIN, COMMIT) or extended-protocol execute
        is one; parse and bind add their time."""
        if mark is None:
            return None
        with self.log.open("rb") as f:
            f.seek(mark)
            text = f.read().decode(errors="replace")
        count, ms = 0, 0.0
        for m in re.finditer(
            rf"db={re.escape(self.database)} LOG:  duration: ([\d.]+) ms  (\w+)", text
        ):
            ms += float(m.group(1))
            if m.group(2) in ("statement", "execute"):
                count += 1
        return count, ms


class Processes:
    """The processes whose CPU is reported: the Hub, the share service, the proxy, PostgreSQL
    and this load generator."""

    def __init__(self, hub: Hub, pg_port: int | None):
        family = descendants(hub.process.pid)
        self.hub = hub.process.pid
        self.service = next(p for p in family if "jupyter_share.hub.service" in cmdline(p))
        self.proxy = next((p for p in family if "configurable-http-proxy" in cmdline(p)), None)
        self.postmaster = postmaster_pid(pg_port) if pg_port else None
        self.pg_port = pg_port

    def snapshot(self) -> dict[tuple[str, int], tuple[float, float]]:
        """{(name, pid): (CPU seconds, seconds waiting for a CPU)} of each process (PostgreSQL:
        the postmaster and its backends, which come and go with the store's pool)."""
        pids = {"Hub": [self.hub], "service": [self.service], "load generator": [os.getpid()]}
        if self.proxy:
            pids["proxy"] = [self.proxy]
        if self.postmaster:
            pids["PostgreSQL"] = [self.postmaster] + descendants(self.postmaster)
        return {(name, pid): schedstat(pid) for name, group in pids.items() for pid in group}

    @staticmethod
    def used(before: dict, after: dict) -> dict[str, float]:
        """{name: CPU seconds, name + " wait": seconds waiting for a CPU} between two snapshots
        (a process that started in between counts whole; one that ended is left out)."""
        found: dict[str, float] = collections.defaultdict(float)
        for (name, pid), (run, wait) in after.items():
            run0, wait0 = before.get((name, pid), (0.0, 0.0))
            found[name] += run - run0
            found[name + " wait"] += wait - wait0
        return found


# -- statistics ------------------------------------------------------------------------------


def quantile(values: list[float], q: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Stats:
    count: int
    errors: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: list[Sample]) -> Stats | None:
        if not samples:
            return None
        ms = [s.seconds * 1000 for s in samples]
        return cls(
            len(ms),
            sum(not s.ok for s in samples),
            quantile(ms, 0.5),
            quantile(ms, 0.9),
            quantile(ms, 0.99),
            max(ms),
        )


def table(results: dict, paths: list[str]) -> list[str]:
    lines = [
        "| path | endpoint | count | errors | p50 ms | p90 ms | p99 ms | max ms | p50 / baseline | p99 / baseline |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for path in paths:
        samples = results[path]
        base = Stats.of(samples[BASELINE])
        share = [s for op, values in samples.items() if op != BASELINE for s in values]
        rows = [(op, Stats.of(samples[op])) for op, _ in MIX] + [
            ("all share requests", Stats.of(share)),
            (BASELINE, base),
        ]
        for name, st in rows:
            if st is None:
                continue
            bold = "**" if name in ("all share requests", BASELINE) else ""
            lines.append(
                f"| {path} | {bold}{name}{bold} | {st.count:,} | {st.errors} | {st.p50:.1f} | {st.p90:.1f} | "
                f"{st.p99:.1f} | {st.max:.0f} | {st.p50 / base.p50:.2f} | {st.p99 / base.p99:.2f} |"
            )
    return lines


# -- profiling ---------------------------------------------------------------------------------


class Profiler:
    """py-spy on the service and the Hub, resumed for every round of the service (direct)."""

    def __init__(self, directory: Path, pids: dict[str, int]):
        self.directory = directory
        self.pids = pids
        self.running: list[subprocess.Popen] = []
        self.parts = 0
        directory.mkdir(parents=True, exist_ok=True)

    def start(self, seconds: float) -> None:
        self.parts += 1
        for name, pid in self.pids.items():
            out = self.directory / f"{name}-{self.parts}.txt"
            self.running.append(
                subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "-p",
                        str(pid),
                        "-d",
                        str(max(1, int(seconds))),
                        "-r",
                        "250",
                        "--idle",
                        "--threads",
                        "--nonblocking",
                        "--format",
                        "raw",
                        "-o",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def stop(self, wait: float = 20) -> None:
        for p in self.running:
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.running.clear()

    def stacks(self, name: str) -> collections.Counter:
        found: collections.Counter = collections.Counter()
        for path in sorted(self.directory.glob(f"{name}-*.txt")):
            for line in path.read_text(errors="replace").splitlines():
                stack, _, n = line.rpartition(" ")
                if stack and n.isdigit():
                    found[stack] += int(n)
        return found


def top_frames(stacks: collections.Counter, package: str, n: int = 12) -> list[tuple[str, int]]:
    """The functions of `package` with the most samples on the stack (each counted once per
    stack)."""
    inclusive: collections.Counter = collections.Counter()
    for stack, count in stacks.items():
        for frame in set(stack.split(";")[1:]):
            if package in frame:
                inclusive[frame] += count
    return inclusive.most_common(n)


def thread_kind(root: str) -> str | None:
    """The event loop (MainThread), the worker threads (the IOLoop's default executor,
    asyncio_N), or None for helper threads that only sleep (pycares' shutdown loop)."""
    if "MainThread" in root:
        return "event loop"
    if "asyncio_" in root or "ThreadPoolExecutor" in root:
        return "worker threads"
    return None


def category(frames: list[str], thread: str) -> str:
    """Where one sampled stack spends its time (wall clock: waiting counts)."""
    text = ";".join(frames)
    leaf = frames[-1]
    if thread == "worker threads":
        if "_worker (concurrent/futures/thread.py" in leaf:
            return "idle: no work queued"
        if "jupyter_share/hub/hubapi.py" in text:
            if "httpcore/_backends/sync.py" in leaf and "read" in leaf:
                return "waiting for the Hub's answer (HubAPI)"
            return "HubAPI: httpx on CPU (connect, send, parse)"
        if "psycopg" in text or "sqlalchemy" in text or "sqlite3" in text:
            if re.search(r"Connection\.wait|wait_conn|select \(selectors", leaf):
                return "waiting for PostgreSQL"
            return "SQL on CPU (SQLAlchemy, driver)"
        return "service layer (rules, models)"
    if "select (selectors.py" in leaf or "EpollSelector.select" in leaf:
        return "idle: waiting for I/O"
    if "jupyterhub/services/auth.py" in text:
        return "HubAuth: token check"
    if "jupyterhub/" in text and ("sqlalchemy" in text or "sqlite3" in text):
        return "the Hub's database (SQLAlchemy, sqlite3)"
    if "jupyterhub/scopes.py" in text or "jupyterhub/roles.py" in text:
        return "the Hub's scopes and roles"
    if "(logging/" in text:
        return "logging"
    if "(json/" in text:
        return "JSON"
    return "tornado, handlers, other"


def report_profile(profiler: Profiler) -> None:
    print(
        "\n## Profile (py-spy at 250 Hz, wall clock incl. waiting, during the rounds of the service, direct)\n"
    )
    for name in profiler.pids:
        stacks = profiler.stacks(name)
        by_thread: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        threads: dict[str, set] = collections.defaultdict(set)
        busy: collections.Counter = collections.Counter()
        for stack, n in stacks.items():
            frames = stack.split(";")
            thread = thread_kind(frames[0])
            if thread is None:
                continue
            threads[thread].add(frames[0])
            what = category(frames, thread)
            by_thread[thread][what] += n
            if not what.startswith("idle"):
                busy[stack] += n
        if not by_thread:
            print(f"{name}: no samples (did py-spy run?)\n")
            continue
        print(f"### {name}\n")
        for thread, counter in sorted(by_thread.items()):
            total = sum(counter.values())
            print(
                f"- {thread} ({len(threads[thread])} thread{'s' if len(threads[thread]) > 1 else ''}, {total:,} samples):"
            )
            for what, n in counter.most_common():
                print(f"  - {what}: {100 * n / total:.1f} %")
        package = "jupyterhub/" if name == "Hub" else "jupyter_share/"
        total_busy = sum(busy.values())
        print(
            f"\n  {package} functions on the stack in the {total_busy:,} samples that are not idle:"
        )
        for frame, n in top_frames(busy, package, 40):
            if n < 0.9 * total_busy:  # leave out main(), start() and the like
                print(f"  {100 * n / max(total_busy, 1):5.1f} %  {frame}")
        print()


# -- the run -----------------------------------------------------------------------------------


def hub_calls_table(calls: dict, requests: dict) -> list[str]:
    """What the Hub served during the rounds of the service, per path."""
    lines = [
        "| path | Hub API call | made by | calls | per share request | Hub's own p50 ms | p99 ms |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for path, found in calls.items():
        by_kind = collections.defaultdict(list)
        for caller, kind, ms in found:
            by_kind[
                (
                    kind,
                    "the service (HubAPI)"
                    if caller == "service"
                    else "the service (HubAuth), user's token",
                )
            ].append(ms)
        for (kind, caller), values in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
            lines.append(
                f"| {path} | {kind} | {caller} | {len(values):,} | {len(values) / max(requests[path], 1):.2f} | "
                f"{quantile(values, 0.5):.1f} | {quantile(values, 0.99):.1f} |"
            )
    return lines


async def probe(
    world: World,
    client: httpx.AsyncClient,
    targets: Targets,
    hublog: HubLog,
    sql: Statements,
    n: int,
) -> list[str]:
    """Each request of the mix alone, one at a time (direct): its latency, the Hub calls it
    made and the Hub's own time for them, and its SQL round trips (PostgreSQL only)."""
    lines = [
        "| endpoint, one at a time | p50 ms | Hub calls / request | Hub's own ms / request | "
        "SQL round trips / request | PostgreSQL's own ms / request |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op in [name for name, _ in MIX] + [BASELINE]:
        sql_mark = sql.mark()
        mark = hublog.mark()
        ms = []
        for _ in range(n):
            user = world.rng.choice(world.users)
            if op == "DELETE grants" and not any(user.grants.values()):
                continue
            sample = await act(
                client, world, user, targets, op == BASELINE, None if op == BASELINE else op
            )
            ms.append(sample.seconds * 1000)
        await asyncio.sleep(0.5)  # the Hub and PostgreSQL write their log lines after answering
        calls = [c for c in hublog.since(mark) if not (op == BASELINE and c[0] == "user token")]
        statements = sql.since(sql_mark)
        sql_cells = (
            "n/a | n/a"
            if statements is None
            else f"{statements[0] / len(ms):.1f} | {statements[1] / len(ms):.1f}"
        )
        lines.append(
            f"| {op} | {quantile(ms, 0.5):.1f} | {len(calls) / len(ms):.2f} | "
            f"{sum(c[2] for c in calls) / len(ms):.1f} | {sql_cells} |"
        )
    return lines


async def load_phase(
    args, hub: Hub, world: World, procs: Processes, profiler: Profiler | None
) -> None:
    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections
    )
    paths = ["direct", "proxy"]
    targets = {
        "direct": Targets(
            hub.service_url + "/services/share/api/v1/",
            f"http://127.0.0.1:{hub.hub_port}/hub/api/user",
        ),
        "proxy": Targets(hub.service_api, hub.url + "hub/api/user"),
    }
    conditions = [(path, baseline) for path in paths for baseline in (False, True)]
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            p: await stack.enter_async_context(httpx.AsyncClient(timeout=30, limits=limits))
            for p in paths
        }

        # Seeding, straight to the service.
        t = time.perf_counter()
        n = await seed(world, clients["direct"], targets["direct"].service_api)
        grants = sum(len(g) for u in world.users for g in u.grants.values())
        print(
            f"# seeded through the API: {n:,} requests in {time.perf_counter() - t:.0f} s; "
            f"{sum(len(u.images) + len(u.formations) for u in world.users):,} resources, {grants:,} grants",
            flush=True,
        )

        # A short warm-up of each condition (not counted).
        for path, baseline in conditions:
            await run_round(world, clients, targets[path], path, baseline, args.rate, args.warmup)
        world.errors.clear()

        results = {p: collections.defaultdict(list) for p in paths}
        hublog = HubLog(hub.log_path)
        hub_calls = {p: [] for p in paths}
        lags = collections.defaultdict(list)
        cpu = collections.defaultdict(lambda: collections.defaultdict(float))
        wall = collections.defaultdict(float)
        rounds = max(1, round(args.duration / (len(conditions) * args.round)))
        print(
            f"# load: {len(world.users):,} users, {args.rate:g} req/s together (each user one request every "
            f"{len(world.users) / args.rate:.1f} s on average), {rounds} rounds of {args.round:g} s per condition",
            flush=True,
        )
        for r in range(rounds):
            order = conditions[r % len(conditions) :] + conditions[: r % len(conditions)]
            for path, baseline in order:
                key = (path, baseline)
                if profiler and path == "direct" and not baseline:
                    profiler.start(args.round)
                before = procs.snapshot()
                mark = hublog.mark()
                samples, lag, seconds = await run_round(
                    world, clients, targets[path], path, baseline, args.rate, args.round
                )
                after = procs.snapshot()
                if not baseline:
                    await asyncio.sleep(0.2)
                    hub_calls[path] += hublog.since(mark)
                if profiler:
                    profiler.stop()
                used = procs.used(before, after)
                for name in used:
                    cpu[key][name] += used[name]
                wall[key] += seconds
                lags[key] += lag
                for s in samples:
                    results[path][s.op].append(s)
                st = Stats.of(samples)
                print(
                    f"#   round {r + 1}/{rounds} {path:6} {'baseline' if baseline else 'service '}: "
                    f"{len(samples) / seconds:6.1f} req/s  p50 {st.p50:6.1f}  p99 {st.p99:6.1f} ms  errors {st.errors}",
                    flush=True,
                )

        print()
        print(
            f"## {len(world.users):,} users, {args.rate:g} req/s, {'SQLite' if args.sqlite else 'PostgreSQL'} store\n"
        )
        for line in table(results, paths):
            print(line)
        everything = [s for p in paths for op, v in results[p].items() if op != BASELINE for s in v]
        st = Stats.of(everything)
        verdict = "met" if st.p99 < GOAL_P99_MS and st.errors == 0 else "MISSED"
        print(
            f"\nGoal p99 < {GOAL_P99_MS:g} ms and 0 errors, all share requests of both paths: p99 {st.p99:.1f} ms, "
            f"{st.errors} errors of {st.count:,}: {verdict}"
        )
        for path in paths:
            ss = [s for op, v in results[path].items() if op != BASELINE for s in v]
            print(f"  {path}: p99 {Stats.of(ss).p99:.1f} ms, errors {sum(not s.ok for s in ss)}")
        if world.errors:
            print(f"\nfirst errors ({len(world.errors)}):")
            for e in world.errors[:10]:
                print("  " + e)

        print(
            "\n## CPU while measuring: % of one core used (and % of the time runnable but waiting for a "
            f"CPU; the machine has {os.cpu_count()}); CPU of the Hub, service, proxy and PostgreSQL per request; "
            "the event loop's lag in this process\n"
        )
        names = [n for n in next(iter(cpu.values())) if not n.endswith(" wait")]
        print(
            "| condition | req/s | "
            + " | ".join(names)
            + " | server CPU ms / request | loop lag p99 ms |"
        )
        print("| --- | ---: | " + " | ".join("---:" for _ in names) + " | ---: | ---: |")
        for path, baseline in conditions:
            key = (path, baseline)
            count = sum(len(v) for op, v in results[path].items() if (op == BASELINE) == baseline)
            cells = " | ".join(
                f"{100 * cpu[key][n] / wall[key]:.0f} ({100 * cpu[key][n + ' wait'] / wall[key]:.0f})"
                for n in names
            )
            server = sum(cpu[key][n] for n in names if n != "load generator")
            print(
                f"| {path}, {'baseline' if baseline else 'service'} | {count / wall[key]:.1f} | {cells} | "
                f"{1000 * server / max(count, 1):.1f} | {1000 * quantile(lags[key], 0.99):.1f} |"
            )
        print(
            f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )

        print("\n## What the Hub served for the share requests (its own log and clock)\n")
        share_requests = {
            p: sum(len(v) for op, v in results[p].items() if op != BASELINE) for p in paths
        }
        for line in hub_calls_table(hub_calls, share_requests):
            print(line)

        if args.ramp:
            print(
                "\n## Other rates, direct, the service and the baseline alternately, steps of "
                f"{args.ramp_step:g} s (each stops once p99 >= {GOAL_P99_MS:g} ms, an error, or clearly < 90 % of the rate)\n"
            )
            print(
                "| target req/s | measured | achieved req/s | p50 ms | p99 ms | errors | service CPU % | Hub CPU % |"
            )
            print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            best = {False: None, True: None}
            failed = {False: False, True: False}
            for factor in sorted(args.ramp_factors):
                rate = args.rate * factor
                for baseline in (False, True):
                    if failed[baseline]:
                        continue
                    world.errors.clear()
                    before = procs.snapshot()
                    samples, _, seconds = await run_round(
                        world, clients, targets["direct"], "direct", baseline, rate, args.ramp_step
                    )
                    after = procs.snapshot()
                    st = Stats.of(samples)
                    achieved = len(samples) / seconds
                    print(
                        f"| {rate:.0f} | {'baseline' if baseline else 'service'} | {achieved:.1f} | {st.p50:.1f} | "
                        f"{st.p99:.1f} | {st.errors} | {100 * procs.used(before, after)['service'] / seconds:.0f} | "
                        f"{100 * procs.used(before, after)['Hub'] / seconds:.0f} |",
                        flush=True,
                    )
                    expected = (
                        rate * args.ramp_step
                    )  # Poisson: fewer than 90 % minus 3 sigma is saturation
                    if (
                        st.p99 >= GOAL_P99_MS
                        or st.errors
                        or len(samples) < 0.9 * expected - 3 * math.sqrt(expected)
                    ):
                        failed[baseline] = True
                    elif not failed[baseline]:
                        best[baseline] = rate
                if all(failed.values()):
                    break
            for baseline in (False, True):
                what = (
                    "the baseline (GET /hub/api/user)"
                    if baseline
                    else "the share service (the mix)"
                )
                print(
                    f"\nhighest rate at which {what} kept p99 < {GOAL_P99_MS:g} ms with no errors: "
                    f"{f'{best[baseline]:.0f} req/s' if best[baseline] else 'below the lowest step'}"
                    f"{'' if failed[baseline] else ' (or more: it never missed)'}"
                )

        if args.probe:
            print(f"\n## Each request alone, {args.probe} of each one after another (direct)\n")
            with Statements(None if args.sqlite else hub.db_url, procs.pg_port).logging() as sql:
                for line in await probe(
                    world, clients["direct"], targets["direct"], hublog, sql, args.probe
                ):
                    print(line, flush=True)

        if profiler:
            report_profile(profiler)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument("--users", type=int, default=1000, help="simulated users (default 1000)")
    parser.add_argument(
        "--duration",
        type=float,
        default=120,
        help="seconds of measured load, split over the four conditions (default 120)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=50,
        help="requests per second of all users together (default 50: each of 1000 users "
        "one request every 20 s on average)",
    )
    parser.add_argument(
        "--round", type=float, default=10, help="seconds of one round of one condition (default 10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of unmeasured load per condition first"
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=100,
        help="the load generator's connection limit per path",
    )
    parser.add_argument(
        "--sqlite",
        action="store_true",
        help="the SQLite store instead of PostgreSQL, for comparison",
    )
    parser.add_argument(
        "--no-ramp", dest="ramp", action="store_false", help="skip the search for the highest rate"
    )
    parser.add_argument(
        "--ramp-step", type=float, default=8, help="seconds per step of the rate search"
    )
    parser.add_argument(
        "--ramp-factors",
        type=float,
        nargs="+",
        default=[0.1, 0.2, 0.4, 0.6, 1, 1.5, 2, 3],
        help="rates of the search, as multiples of --rate",
    )
    parser.add_argument(
        "--probe",
        type=int,
        default=30,
        help="requests of each kind sent one at a time at the end, to count their Hub calls and "
        "SQL round trips (0: skip)",
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy the service and the Hub into DIR and summarize"
    )
    parser.add_argument(
        "--service-option",
        action="append",
        metavar="NAME=VALUE",
        help="a ShareServiceApp option for the service, e.g. directory_cache_seconds=60 (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    args = parser.parse_args()

    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    rng = random.Random(args.seed)
    names = [f"u{i:04d}" for i in range(args.users)]
    groups = make_groups(names)
    work = Path(tempfile.mkdtemp(prefix="share-load-"))
    print(
        f"# {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    hub = None
    pg_port = None
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        try:
            if args.sqlite:
                db_url = None
            else:
                server = stack.enter_context(postgres.cluster())
                pg_port = int(re.search(r":(\d+)/", server).group(1))
                db_url = postgres.fresh_database(server, "share_load")
                print(f"# PostgreSQL up in {time.perf_counter() - started:.0f} s", flush=True)
            t = time.perf_counter()
            extra = ""
            if args.service_option:
                options = [f"--ShareServiceApp.{option}" for option in args.service_option]
                extra = (
                    "_services = c.JupyterHub.services  # a LazyConfigValue after .append()\n"
                    "c.JupyterHub.services = _services = getattr(_services, 'get_value', lambda _: _services)([])\n"
                    "for _service in _services:\n"
                    "    if _service['name'] == 'share':\n"
                    f"        _service['command'] = list(_service['command']) + {options!r}\n"
                )
                print(f"# service options: {' '.join(options)}", flush=True)
            hub = start_hub(work / "hub", db_url=db_url, extra=extra)
            family: set[int] = set()

            def stop_hub() -> None:
                family.update(descendants(hub.process.pid))
                t = time.perf_counter()
                killed = hub.stop()
                left = [p for p in family | set(killed) if alive(p)]
                print(
                    f"# stopped the Hub in {time.perf_counter() - t:.0f} s{f'; had to kill {killed}' if killed else ''}"
                    f"{f'; STILL ALIVE: {left}' if left else ''}",
                    flush=True,
                )

            stack.callback(stop_hub)
            hub.wait_service()
            import jupyterhub

            print(
                f"# JupyterHub {jupyterhub.__version__} up in {time.perf_counter() - t:.0f} s; store "
                f"{'SQLite' if args.sqlite else 'PostgreSQL'}",
                flush=True,
            )
            procs = Processes(hub, pg_port)
            family.update(descendants(hub.process.pid))
            t = time.perf_counter()
            tokens = asyncio.run(create_at_hub(hub, names, groups))
            print(
                f"# {len(names):,} users, {len(groups)} groups and {len(tokens):,} tokens at the Hub in "
                f"{time.perf_counter() - t:.0f} s",
                flush=True,
            )
            member_of = collections.defaultdict(list)
            for group, members in groups.items():
                for m in members:
                    member_of[m].append(group)
            world = World(
                [SimUser(n, tok, member_of[n]) for n, tok in zip(names, tokens, strict=False)],
                names,
                groups,
                rng,
            )
            profiler = None
            if args.profile:
                profiler = Profiler(
                    Path(args.profile), {"service": procs.service, "Hub": procs.hub}
                )
                stack.callback(profiler.stop, 0)
            asyncio.run(load_phase(args, hub, world, procs, profiler))
        except KeyboardInterrupt:
            print("\n# interrupted: stopping everything", flush=True)
    if pg_port and postmaster_pid(pg_port):
        print(f"# PostgreSQL on port {pg_port} is STILL RUNNING", flush=True)
    print(f"# done in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
