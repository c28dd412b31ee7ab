"""Watching live in a real Chromium: the Playwright specs `ui-tests/tests/*.collab.spec.ts`
against alice's and bob's JupyterLab with jupyter-collaboration, in this Python environment
(alice types in a notebook, bob, a view guest, sees her text and cursor, sends nothing that
changes the room; raised he edits with her, lowered he is held again, revoked he is told).

Runs where jupyter-collaboration is installed (`.ci/run` runs it in its second environment,
with JUPYTER_SHARE_COLLAB_REQUIRED set, where its absence fails); elsewhere it is skipped.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from .test_ui import run_ui_suite

pytestmark = pytest.mark.slow


def test_a_view_guest_watches_live_in_chromium():
    if importlib.util.find_spec("jupyter_server_ydoc") is None:
        if os.environ.get("JUPYTER_SHARE_COLLAB_REQUIRED"):
            pytest.fail(
                "jupyter-collaboration must be installed here (JUPYTER_SHARE_COLLAB_REQUIRED)"
            )
        pytest.skip("jupyter-collaboration is not installed")
    output = run_ui_suite({"JUPYTER_SHARE_UI_COLLAB": "1"})
    assert "live.collab.spec.ts" in output, output[-2000:]
