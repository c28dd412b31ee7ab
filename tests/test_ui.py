"""The JupyterLab Sharing panel in a real Chromium: runs the Playwright suite of `ui-tests/`
(which starts real JupyterLab servers of alice and bob on one store) and fails when it fails.

Needs Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it) and the built
labextension (`pip install -e .` builds it). Without Chromium the test is skipped, except in CI
(the CI variable set), where it fails.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Starts real servers and Chromium (Playwright).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
UI_TESTS = ROOT / "ui-tests"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def jlpm() -> list[str]:
    """The jlpm of this Python environment (JupyterLab's pinned yarn)."""
    beside = Path(sys.executable).parent / "jlpm"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("jlpm")
    if found:
        return [found]
    return [
        sys.executable,
        "-c",
        "import sys; from jupyter_builder.jlpm import main; sys.exit(main())",
    ]


def tail(text: str, lines: int = 150) -> str:
    return "\n".join(text.splitlines()[-lines:])


def run_ui_suite(extra_env: dict[str, str] | None = None, timeout: int = 900) -> str:
    """Run the Playwright suite of ui-tests/ with servers in this Python environment; its
    output. `extra_env` chooses what runs (JUPYTER_SHARE_UI_COLLAB: the collaboration specs)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium must be installed in CI (.ci/run installs it): no {CHROMIUM}")
        pytest.skip(f"Chromium is not installed ({CHROMIUM}); apt-get install chromium")
    if shutil.which("node") is None:
        pytest.fail("Node.js is needed to run the Playwright UI tests")

    env = dict(os.environ)
    env["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"  # browsers cannot be downloaded: Debian's is used
    env["CHROMIUM_PATH"] = CHROMIUM
    env["JUPYTER_SHARE_PYTHON"] = sys.executable  # the servers run in this environment
    env.pop("JUPYTERHUB_API_TOKEN", None)
    env.update(extra_env or {})

    # One install at a time: pytest-xdist may start test_ui_hub.py's suite beside this one's,
    # and a half-installed node_modules already has @playwright/test in it.
    with (UI_TESTS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (UI_TESTS / "node_modules" / ".installed").exists():
            install = subprocess.run(
                jlpm() + ["install"],
                cwd=UI_TESTS,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert install.returncode == 0, (
                f"jlpm install in ui-tests failed:\n{tail(install.stdout + install.stderr)}"
            )
            (UI_TESTS / "node_modules" / ".installed").touch()

    # Each module's run its own output folder: Playwright empties it as a run starts, and
    # pytest-xdist may run test_ui_hub.py's suite beside this one's.
    module = Path(os.environ.get("PYTEST_CURRENT_TEST", "ui").split("::", 1)[0]).stem
    run = subprocess.run(
        jlpm() + ["playwright", "test", "--output", f"test-results/{module}"],
        cwd=UI_TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = run.stdout + run.stderr
    print(output)
    assert run.returncode == 0, f"the Playwright UI tests failed:\n{tail(output)}"
    assert " passed" in output, f"the Playwright UI tests ran no test:\n{tail(output)}"
    return output


def test_sharing_panel_in_chromium():
    run_ui_suite()
