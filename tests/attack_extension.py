"""A server extension that the guest attack tests load beside jupyter_share: it stands for any
extension installed later, whose routes jupyter_share has never heard of. Its handlers are
ordinary authenticated jupyter_server handlers, usable by the owner."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.base.handlers import APIHandler
from tornado import web


class SecretsHandler(APIHandler):
    """GET reads something of the owner's; POST writes a file in the root dir."""

    @web.authenticated
    def get(self):
        self.finish({"secret": "owner-only data"})

    @web.authenticated
    def post(self):
        Path(self.settings["server_root_dir"], "written-by-extension.txt").write_text("x")
        self.finish({"written": True})


def _jupyter_server_extension_points():
    return [{"module": "tests.attack_extension"}]


def _load_jupyter_server_extension(serverapp):
    serverapp.web_app.add_handlers(
        ".*$", [(serverapp.base_url + "attack-ext/secrets", SecretsHandler)]
    )
