"""The suite's split among pytest-xdist workers (tests/conftest.py): a module listed in SPREAD
has its tests handed out one by one, so none of them may keep a fixture for the module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def collect(module: str, spread: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "JUPYTER_SHARE_TEST_SPREAD": spread}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            module,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # two collections in a new pytest (about 15 s)
def test_a_spread_module_that_keeps_a_fixture_for_the_module_is_refused():
    # test_links.py keeps its server for the module (`container`): listed, it is refused by name.
    listed = collect("tests/test_links.py", spread="tests/test_links.py")
    assert listed.returncode != 0
    assert "SPREAD" in listed.stderr + listed.stdout
    assert "tests/test_links.py::" in listed.stderr + listed.stdout
    # Not listed, it collects.
    unlisted = collect("tests/test_links.py")
    assert unlisted.returncode == 0, unlisted.stdout + unlisted.stderr
