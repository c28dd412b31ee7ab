"""What every process that holds the rules sets up the same way: the server extension
standalone (`standalone.LocalBackend`) and the share service under JupyterHub
(`hub.service.app.ShareServiceApp`). One place, so the two cannot drift apart."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tornado.ioloop import IOLoop, PeriodicCallback

from .config_traits import BadShareConfiguration
from .service import ShareService
from .store import UnsupportedStoreURL

EVENTS = Path(__file__).parent / "events"
EVENT_SCHEMA = EVENTS / "change.yaml"
EVENT_SCHEMA_ID = "https://events.jupyter.org/jupyter_share/change/v1"
PRESENCE_SCHEMA = EVENTS / "presence.yaml"
PRESENCE_SCHEMA_ID = "https://events.jupyter.org/jupyter_share/presence/v1"
ENVIRONMENT_SCHEMA = EVENTS / "environment.yaml"
ENVIRONMENT_SCHEMA_ID = "https://events.jupyter.org/jupyter_share/environment/v1"


def register_event_schemas(event_logger: Any, *schemas: Path) -> None:
    """The change event's schema, and any other of `schemas`, on a jupyter_events logger."""
    for schema in (EVENT_SCHEMA, *schemas):
        event_logger.register_event_schema(schema)


def make_store(store_class: type, url: str, app: str = "ShareApp") -> Any:
    """`store_class(url=url)`. A URL the store does not open is `app`'s bad configuration
    (said, not a traceback)."""
    try:
        return store_class(url=url)
    except UnsupportedStoreURL as e:
        raise BadShareConfiguration(f"{app}.db_url: {e}") from None


async def purge(service: ShareService, log: logging.Logger) -> None:
    """One sweep: expired grants, then history older than the service keeps. Each runs in a
    worker thread; a failure is logged and the next sweep tries again."""
    loop = IOLoop.current()
    try:
        await loop.run_in_executor(None, service.purge_expired)
    except Exception:
        log.exception("jupyter_share: purging expired grants failed")
    try:
        await loop.run_in_executor(None, service.purge_history)
    except Exception:
        log.exception("jupyter_share: purging old history failed")


def start_purging(
    service: ShareService, interval: float, log: logging.Logger
) -> PeriodicCallback | None:
    """Sweep every `interval` seconds (0: never). Started like the server's own culling
    callbacks: the loop runs it later."""
    if interval <= 0:
        return None

    async def sweep() -> None:
        await purge(service, log)

    callback = PeriodicCallback(sweep, interval * 1000)
    callback.start()
    return callback
