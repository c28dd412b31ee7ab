"""The guest's JupyterLab through the Hub share, in a real Chromium: a JupyterHub (tests/hubs.py)
with alice's server, and the Playwright spec `ui-tests/tests/guest.hub.spec.ts` (bob signs in
at the Hub, opens alice's JupyterLab through her share: read-only, his banner links to his own
JupyterLab to ask for more, raised it becomes editable without a reload, revoked he is told).
"""

from __future__ import annotations

import json

import pytest

from .hubs import hub  # noqa: F401  (a fixture)
from .test_ui import run_ui_suite

pytestmark = pytest.mark.slow


def test_a_view_guest_through_the_hub_in_chromium(hub):
    hub.wait_service()
    hub.start_server("alice")
    output = run_ui_suite(
        {
            "JUPYTER_SHARE_UI_HUB": json.dumps(
                {
                    "url": hub.url,
                    "password": hub.password,
                    "aliceServer": hub.server_url("alice"),
                    "aliceToken": hub.token("alice"),
                }
            )
        }
    )
    assert "guest.hub.spec.ts" in output, output[-2000:]
