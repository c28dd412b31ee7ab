"""What a Jupyter server with the extension does for sharing, by mode: the one thing
`ShareApp` chooses once (`ShareApp.backend_class`, defaulting by `ShareApp.mode`).

- standalone (`standalone.LocalBackend`): the server holds the rules, with the store, the
  directory and the containers port that `ShareApp.store_class`, `directory_class` and
  `containers_class` name; its own container is opened by personal links;
- under JupyterHub (`jupyter_share.hub.userserver.HubBackend`): the server holds no store; it
  carries its owner's requests to the share service and asks it who else may come in.

The core never imports the Hub's: the default names it as a string, which traitlets imports
when the trait is first read.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import ShareApp


class Backend(abc.ABC):
    #: The mode this backend serves, as `ShareApp.resolved_mode` names it.
    mode = ""

    def __init__(self, app: ShareApp):
        self.app = app
        self.log = app.log

    @classmethod
    def default_username(cls) -> str | None:
        """The owner's name when `ShareApp.username` is not set (None: the OS login name)."""
        return None

    @abc.abstractmethod
    def start(self) -> None:
        """Build the ports, install the identity hooks and start what runs periodically
        (from `ShareApp.initialize_settings`, on the server's loop)."""

    @abc.abstractmethod
    def handlers(self, prefix: str) -> list[tuple[str, Any]]:
        """The share API's handlers under `/{prefix}`."""

    def changed(self, data: dict) -> None:  # noqa: B027 (optional hook)
        """A change this server's service made (any thread), before its event is emitted."""

    async def stop(self) -> None:  # noqa: B027 (optional hook)
        """The server stops."""
