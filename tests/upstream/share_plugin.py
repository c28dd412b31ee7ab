"""pytest plugin for jupyter_server's own test suite (issue 11), loaded with `-p share_plugin`
by run_jupyter_server_suite.sh; not a test module of this project.

JUPYTER_SHARE_UPSTREAM=with: every ServerApp the tests start enables jupyter_share, the way
the installed package does (its jupyter_server_config.d/jupyter_share.json, merged by
`ServerApp.find_server_extensions`: on unless the test's own config names it), whichever
fixture or config built the server; and the tests listed in skips.txt are skipped.
JUPYTER_SHARE_UPSTREAM=without: the baseline, nothing changed.

Both: each test's outcome, and how many servers it started with jupyter_share loaded, are
written as JSON to JUPYTER_SHARE_UPSTREAM_OUT for `python share_plugin.py compare`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ENABLED = os.environ.get("JUPYTER_SHARE_UPSTREAM") == "with"
SKIPS = Path(__file__).with_name("skips.txt")

#: nodeid -> {"outcome": ..., "servers": n, "with_share": n}: servers started (that looked for
#: installed extensions), how many of them loaded jupyter_share
_results: dict[str, dict] = {}
_current: list[str] = [""]


def read_skips(path: Path = SKIPS) -> dict[str, str]:
    """skips.txt: `nodeid  # reason`, one a line; blank lines and `#` lines are comments."""
    skips = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        nodeid, sep, reason = line.partition(" # ")
        if not sep or not reason.strip():
            raise ValueError(f"{path}: every skip needs a reason (`nodeid  # reason`): {line!r}")
        skips[nodeid.strip()] = reason.strip()
    return skips


def share_loaded(serverapp) -> bool:
    """Whether jupyter_share's handlers are in the server's router (an extension's handlers
    are added last, after its settings: a load that failed half-way leaves none)."""

    def patterns(router):
        for rule in getattr(router, "rules", []):
            regex = getattr(rule.matcher, "regex", None)
            if regex is not None:
                yield regex.pattern
            yield from patterns(rule.target)

    return any("jupyter-share" in p for p in patterns(serverapp.web_app.default_router))


@pytest.fixture(scope="session", autouse=True)
def _share_extension():
    # Imported here, not at plugin load: jupyter_server's conftest sets up the environment
    # (JUPYTER_PLATFORM_DIRS) before any Jupyter import.
    from jupyter_server.serverapp import ServerApp

    find, load = ServerApp.find_server_extensions, ServerApp.load_server_extensions

    def find_server_extensions(self):
        find(self)
        if ENABLED and "jupyter_share" not in self.jpserver_extensions:
            self.config.ServerApp.jpserver_extensions.update({"jupyter_share": True})
            self.jpserver_extensions.update({"jupyter_share": True})
        self._share_plugin_found = True

    def load_server_extensions(self):
        load(self)
        # Only the servers that look for installed extensions: one started by an extension
        # with load_other_extensions=False loads none, installed or not.
        if getattr(self, "_share_plugin_found", False):
            record = _results.setdefault(_current[0], {})
            record["servers"] = record.get("servers", 0) + 1
            record["with_share"] = record.get("with_share", 0) + share_loaded(self)

    ServerApp.find_server_extensions = find_server_extensions
    ServerApp.load_server_extensions = load_server_extensions
    yield
    ServerApp.find_server_extensions, ServerApp.load_server_extensions = find, load


def pytest_collection_modifyitems(config, items):
    if not ENABLED:
        return
    skips = read_skips()
    for item in items:
        if item.nodeid in skips:
            item.add_marker(pytest.mark.skip(reason=f"jupyter_share enabled: {skips[item.nodeid]}"))


def pytest_runtest_logstart(nodeid, location):
    _current[0] = nodeid


def pytest_runtest_logreport(report):
    record = _results.setdefault(report.nodeid, {})
    if report.when == "call" or (report.outcome != "passed" and "outcome" not in record):
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        elif report.failed and report.when != "call":
            outcome = "error"
        record["outcome"] = outcome
    elif report.when == "teardown" and report.failed:
        record["outcome"] = "error"


def pytest_sessionfinish(session):
    out = os.environ.get("JUPYTER_SHARE_UPSTREAM_OUT")
    if out:
        results = {k: v for k, v in _results.items() if k and "outcome" in v}
        Path(out).write_text(json.dumps(results, indent=1, sort_keys=True))


# -- comparing the runs ------------------------------------------------------------------------

GOOD = {"passed", "xfailed", "xpassed"}
BAD = {"failed", "error"}


def load(path: str) -> dict:
    return json.loads(Path(path).read_text()) if Path(path).exists() else {}


def outcome(run: dict, test: str) -> str:
    return run.get(test, {}).get("outcome", "not run")


def failing_only_with(without: dict, with_: dict) -> list[str]:
    return sorted(t for t in without if outcome(without, t) in GOOD and outcome(with_, t) in BAD)


def compare(without_path: str, with_path: str, rerun_path: str) -> int:
    """Print the comparison; 1 if a test passes without jupyter_share and fails with it (also
    when run once more), or if a server of the run with it did not load it."""
    without, with_, rerun = load(without_path), load(with_path), load(rerun_path)
    differ = failing_only_with(without, with_)
    flaky = [t for t in differ if outcome(rerun, t) in GOOD]
    differ = [t for t in differ if t not in flaky]
    both = sorted(t for t in without if outcome(without, t) in BAD and outcome(with_, t) in BAD)
    only_without = sorted(
        t for t in without if outcome(without, t) in BAD and outcome(with_, t) in GOOD
    )
    missing = sorted(set(without) ^ set(with_))
    skipped = sorted(
        t for t in with_ if outcome(with_, t) == "skipped" and outcome(without, t) != "skipped"
    )
    unloaded = sorted(t for t, r in with_.items() if r.get("servers", 0) > r.get("with_share", 0))
    started = sum(1 for r in with_.values() if r.get("servers"))

    def show(title, tests, detail=lambda t: ""):
        print(f"\n{title}: {len(tests)}")
        for t in tests:
            print(f"  {t}{detail(t)}")

    print(
        f"{len(without)} tests without jupyter_share, {len(with_)} with it; "
        f"{started} tests started a server in the run with it"
    )
    show("Fail in both runs (not jupyter_share's doing)", both)
    show("Fail only without jupyter_share", only_without)
    show("Collected in one run only", missing)
    show("Skipped with jupyter_share (skips.txt)", skipped)
    show("Failed only with jupyter_share, but passed when run again (flaky)", flaky)
    show(
        "Started a server without jupyter_share loaded, in the run with it",
        unloaded,
        lambda t: f"  ({with_[t]['with_share']}/{with_[t]['servers']} servers)",
    )
    show("PASS WITHOUT jupyter_share, FAIL WITH IT", differ, lambda t: f"  ({outcome(with_, t)})")
    return 1 if differ or unloaded else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "differ":
        for test in failing_only_with(load(sys.argv[2]), load(sys.argv[3])):
            print(test)
    elif len(sys.argv) == 5 and sys.argv[1] == "compare":
        sys.exit(compare(*sys.argv[2:]))
    else:
        sys.exit(
            "usage: python share_plugin.py differ WITHOUT.json WITH.json\n"
            "       python share_plugin.py compare WITHOUT.json WITH.json RERUN.json"
        )
