from __future__ import annotations

import itertools
import os

import pytest

from jupyter_share.store import open_store

from . import postgres
from .servers import start_servers

pytest_plugins = ["pytest_jupyter.jupyter_server"]

#: The store backends of the parametrized fixtures: PostgreSQL's runs a real cluster (slow).
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]

#: Fixtures that start a real Jupyter server (pytest-jupyter's in-process one too), the
#: neighbours' servers, a JupyterHub or PostgreSQL: a test that uses one is slow, whether or
#: not its module says so (the fast tier, `-m "not slow"`, must not start any).
SLOW_FIXTURES = {"jp_serverapp", "neighbours", "hub", "postgres_server"}


#: Started first, in this order, so that the run does not end waiting on them (pytest-xdist
#: hands out work in collection order): the modules of the longest single tests (test_ui.py
#: runs the whole Playwright suite; test_requests.py and test_cli.py run `jupyter share`
#: dozens of times in a test).
LONGEST_FIRST = (
    "test_ui.py",
    "test_rules_statemachine.py",
    "test_requests.py",
    "test_cli.py",
    "test_ui_hub.py",
    "test_reliability.py",
    "test_launch.py",
)

#: Modules whose tests share no server or state (no fixture kept for the module or a class,
#: no order between them): pytest-xdist gives each of their tests to whichever worker is free.
#: Every other module runs whole in one worker, which starts its servers once.
SPREAD = frozenset(
    f"tests/{name}.py"
    for name in (
        "test_answers",
        "test_api",
        "test_changefeed",
        "test_cli",
        "test_environments",
        "test_first_run",
        "test_launch",
        "test_liveness",
        "test_presence",
        "test_readme",
        "test_reliability",
        "test_requests",
        "test_store",
        "test_use_image",
        "test_workstation",
    )
)


def _extra_spread() -> frozenset[str]:
    """More SPREAD modules, for the test that shows the check below refuses one."""
    return frozenset(filter(None, os.environ.get("JUPYTER_SHARE_TEST_SPREAD", "").split(",")))


def spread_fixtures_kept(items: list[pytest.Item], spread: frozenset[str]) -> list[str]:
    """`module::fixture` for each fixture kept for a module, class or package that a test of
    a SPREAD module uses. (A session's fixture is started once per worker whatever the split.)"""
    kept = set()
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        info = getattr(item, "_fixtureinfo", None)
        if module not in spread or info is None:
            continue
        for name, defs in info.name2fixturedefs.items():
            if any(d.scope in ("module", "class", "package") for d in defs):
                kept.add(f"{module}::{name}")
    return sorted(kept)


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope` (pyproject's addopts) by module, except the SPREAD modules' tests,
    one by one. (xdist's own `loadgroup` marks do not reach its scheduler under pytest 9.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return nodeid if module in SPREAD else module

    return ByModule(config, log)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    kept = spread_fixtures_kept(items, SPREAD | _extra_spread())
    if kept:
        raise pytest.UsageError(
            "tests/conftest.py SPREAD lists modules whose tests share no fixture, but these "
            "keep one beyond a test (each worker would start it again): " + ", ".join(kept)
        )
    first = {name: i for i, name in enumerate(LONGEST_FIRST)}
    # Stable: the rest as collected.
    items.sort(key=lambda item: first.get(item.path.name, len(first)))


#: The standalone directory every test server is configured with.
GROUPS = {"class-2026": ["erin"], "staff": ["alice", "henry"]}
USERS = ["ivy", "bob", "carol", "dave", "erin", "frank", "gina", "henry"]

#: Numbers the throwaway PostgreSQL databases of one run.
_db_numbers = itertools.count()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """The store of the in-process server (`jp_server_config`): a fresh SQLite file, or a
    fresh database on the throwaway PostgreSQL, so every test of the API runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'share.db'}"
    server = request.getfixturevalue("postgres_server")
    return postgres.fresh_database(server, f"share_api_{os.getpid()}_{next(_db_numbers)}")


@pytest.fixture
def jp_server_config(db_url):
    """The in-process server of pytest-jupyter: alice's, on a fresh SQLite store."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_share": True}},
        "ShareApp": {
            "username": "alice",
            "db_url": db_url,
            "groups": GROUPS,
            "users": USERS,
            "purge_interval": 0.2,
            # Environments from images install from local folders only (test_use_image.py).
            "environment_no_index": True,
        },
    }


@pytest.fixture
def api(jp_fetch):
    """Call the share API of the in-process server as its owner (alice, by token):
    `await api("PUT", "images/ID/grants/bob?x=1", {"permission": "view"})`."""
    import json

    async def call(method, path, body=None, **kw):
        if body is not None:
            kw["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kw["body"] = b""
        kw.setdefault("raise_error", False)
        kw.setdefault("allow_nonstandard_methods", True)
        path, _, query = path.partition("?")
        if query:
            from urllib.parse import parse_qsl

            kw["params"] = dict(parse_qsl(query, keep_blank_values=True))
        return await jp_fetch(
            "jupyter-share",
            "api",
            "v1",
            *[p for p in path.strip("/").split("/") if p],
            method=method,
            **kw,
        )

    return call


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL for the whole run (skipped only outside CI when not installed)."""
    url = os.environ.get("JUPYTER_SHARE_TEST_PG_URL")
    if url:
        yield url
        return
    if postgres.find_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL must be installed in CI (.ci/run installs it)")
        pytest.skip("PostgreSQL is not installed")
    with postgres.cluster() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """A fresh, empty store URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("postgres_server")
    return postgres.fresh_database(server, f"share_test_{os.getpid()}_{next(_db_numbers)}")


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture(scope="module", params=BACKENDS)
def neighbours(request, tmp_path_factory):
    """Real servers of alice, bob, carol, dave, erin, frank, gina and henry on one store
    (a SQLite file, or a database on the throwaway PostgreSQL)."""
    workdir = tmp_path_factory.mktemp("neighbours")
    if request.param == "sqlite":
        db_url = f"sqlite:///{workdir / 'share.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        db_url = postgres.fresh_database(
            server, f"share_neighbours_{os.getpid()}_{next(_db_numbers)}"
        )
    servers = start_servers(
        ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "henry"],
        db_url,
        workdir,
        groups=GROUPS,
        users=USERS + ["alice"],
    )
    servers["db_url"] = db_url
    yield servers
    for name, server in servers.items():
        if name != "db_url":
            server.stop()


@pytest.fixture(scope="session")
def kernel_wheels(tmp_path_factory):
    """ipykernel's wheels for this Python, fetched once per run (tests/wheels.py)."""
    from .wheels import kernel_wheelhouse

    return kernel_wheelhouse(tmp_path_factory.getbasetemp() / "kernel-wheelhouse")


def offline_pip_environ() -> dict:
    """os.environ without pip's machine configuration (its find-links, indexes, constraints):
    environments built under it see only the folders a test names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env
