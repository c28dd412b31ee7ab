"""Each user's event stream: changes made anywhere on the store, as they concern that user.

`Streams` keeps this process's open streams by user. The process's one watcher
(`changefeed`) hands it each committed change; for every user with a stream open it asks the
service what that user may be told (`ShareService.feed_message`, once per user and change,
on the watcher's thread) and queues it on each of their streams. A stream is a long GET
answered as server-sent events (`text/event-stream`): one `change` event per message, a
comment every `KEEPALIVE` seconds so proxies keep it open. Streams are the signed-in user's
own: guests are never let in (guests.ROUTES does not list `FeedHandler`), and under
JupyterHub the share service serves them to user servers (`hub.userserver`), which relay them
to their owner's browsers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.iostream import StreamClosedError

from .handlers import ShareAPIBase, SignInRequired
from .store.changefeed import Change

if TYPE_CHECKING:
    from .app import ShareApp

log = logging.getLogger(__name__)

KEEPALIVE = 25.0
#: Messages a slow stream may have waiting before it is closed (its client reconnects and
#: reads the lists again).
BACKLOG = 1000


class Stream:
    """One open stream: messages queued from any thread, read on its loop."""

    def __init__(self, user: str, loop: asyncio.AbstractEventLoop):
        self.user = user
        self.loop = loop
        self.queue: asyncio.Queue = asyncio.Queue()

    def put(self, message: dict | None) -> None:
        """Queue a message (None: close), from any thread."""
        self.loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: dict | None) -> None:
        if message is not None and self.queue.qsize() >= BACKLOG:
            message = None  # too far behind: close it, the client reads the lists anew
        self.queue.put_nowait(message)


class Streams:
    def __init__(self, message_for: Callable[[str, Change], dict | None]):
        self.message_for = message_for
        self._by_user: dict[str, set[Stream]] = {}
        self._lock = threading.Lock()
        self.delivered = 0

    def open(self, user: str) -> Stream:
        stream = Stream(user, asyncio.get_running_loop())
        with self._lock:
            self._by_user.setdefault(user, set()).add(stream)
        return stream

    def close(self, stream: Stream) -> None:
        with self._lock:
            streams = self._by_user.get(stream.user)
            if streams is not None:
                streams.discard(stream)
                if not streams:
                    del self._by_user[stream.user]

    def count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._by_user.values())

    def deliver(self, changes: list[Change]) -> None:
        """A batch of committed changes (on the watcher's thread)."""
        with self._lock:
            listening = {user: list(streams) for user, streams in self._by_user.items()}
        for change in changes:
            for user, streams in listening.items():
                try:
                    message = self.message_for(user, change)
                except Exception:
                    log.exception("jupyter_share: could not tell %s of change %s", user, change.id)
                    continue
                if message is None:
                    continue
                self.delivered += 1
                for stream in streams:
                    stream.put(message)

    def close_all(self) -> None:
        with self._lock:
            streams = [s for group in self._by_user.values() for s in group]
        for stream in streams:
            stream.put(None)


async def serve(handler: web.RequestHandler, streams: Streams, user: str) -> None:
    """Answer `handler`'s request with `user`'s stream until either side closes it."""
    handler.set_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.set_header("Cache-Control", "no-cache")
    handler.set_header("X-Accel-Buffering", "no")  # nginx: pass each event at once
    stream = streams.open(user)
    # Read by `connection_closed` (any handler may serve a stream).
    handler._jupyter_share_stream = stream  # type: ignore[attr-defined]
    try:
        # The first bytes tell the client that its stream is open (and the headers go out).
        handler.write(": open\n\n")
        await handler.flush()
        while True:
            try:
                message = await asyncio.wait_for(stream.queue.get(), KEEPALIVE)
            except asyncio.TimeoutError:
                handler.write(": keepalive\n\n")
            else:
                if message is None:
                    break
                handler.write(f"event: change\ndata: {json.dumps(message)}\n\n")
            await handler.flush()
    except StreamClosedError:
        pass
    finally:
        streams.close(stream)
    if not handler._finished:
        handler.finish()


def connection_closed(handler: web.RequestHandler) -> None:
    stream = getattr(handler, "_jupyter_share_stream", None)
    if stream is not None:
        stream.put(None)


class FeedHandler(SignInRequired, ExtensionHandlerMixin, APIHandler):
    """`GET /jupyter-share/api/v1/feed`: the owner's stream (standalone mode)."""

    if TYPE_CHECKING:

        @property
        def extensionapp(self) -> ShareApp: ...

    auth_resource = "share"
    write_error = ShareAPIBase.write_error  # JSON, never a traceback

    @web.authenticated
    @authorized
    async def get(self) -> None:
        streams = self.extensionapp.streams
        if streams is None:
            raise web.HTTPError(503, "this server has no change feed (an in-memory store)")
        await serve(self, streams, self.extensionapp.username)

    def on_connection_close(self) -> None:
        connection_closed(self)
