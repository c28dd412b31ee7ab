"""`jupyter share hub-demo`: a demo JupyterHub on this machine (jupyter_share.hub.demo)."""

from __future__ import annotations

from traitlets import Integer, Unicode
from traitlets.utils.importstring import import_item

from .base import ShareCommand, UsageError
from .options import option, whole_text


class DemoFailed(Exception):
    """The demo could not start (the message says what is missing): exits 1."""


class HubDemoCommand(ShareCommand):
    """Not a command on the store: it runs a whole JupyterHub until Ctrl-C."""

    command = "hub-demo"
    summary = "run a demo JupyterHub with jupyter_share on this machine (alice, bob, carol)"
    name = "jupyter-share-hub-demo"
    description = (
        "Write a jupyterhub_config.py and run JupyterHub in the foreground on 127.0.0.1: "
        "users alice, bob and carol (group class-2026: bob and carol) sign in with one password, "
        "each server is a local JupyterLab, and the share service runs as a managed service. "
        "Needs configurable-http-proxy (npm install -g configurable-http-proxy). For trying "
        "things out only: the user servers are not isolated from each other. Ctrl-C stops it all."
    )

    port = option(
        Integer(8000, help="the Hub's public port (default 8000)"), check=whole_text, metavar="PORT"
    )
    password = option(
        Unicode(
            None,
            allow_none=True,
            help="the users' password, 8 characters or more (default: a random one, printed)",
        ),
        metavar="TEXT",
    )
    directory = option(
        Unicode(
            None,
            allow_none=True,
            help="keep the config, the Hub's database and the users' homes here "
            "(default: a temporary directory, removed at exit)",
        ),
        name="dir",
        metavar="DIR",
    )

    def run_command(self) -> None:
        if self.password is not None and len(self.password) < 8:
            raise UsageError("--password must have at least 8 characters")
        if not 0 < self.port < 65536:
            raise UsageError(f"--port {self.port}: not a TCP port")

        def failed(message: str) -> int:
            raise DemoFailed(message)

        # The demo is the Hub side's, named as a string (as traitlets names subcommands): the
        # core imports nothing of jupyter_share.hub (docs/architecture.md).
        command = import_item("jupyter_share.hub.demo.command")
        code = command(
            port=self.port, password=self.password, directory=self.directory, fail=failed
        )
        if code:
            raise SystemExit(code)
