"""Working together live: with jupyter-collaboration installed, an edit-level guest and the
owner edit one notebook at once; a view-level guest cannot join the document's room.

Runs where jupyter-collaboration is installed (`.ci/run` runs it in a second environment
that has it); elsewhere it is skipped.
"""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("jupyter_server_ydoc", reason="jupyter-collaboration is not installed")

import pycrdt  # noqa: E402
from jupyter_ydoc import YNotebook  # noqa: E402
from tornado.httpclient import HTTPRequest  # noqa: E402
from tornado.websocket import websocket_connect  # noqa: E402

from .servers import start_servers  # noqa: E402
from .test_links import Guest, Owner  # noqa: E402

NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "first", "metadata": {}, "outputs": [], "source": "x = 1"}],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


class Peer:
    """One side of a collaborative document: a Y document kept in sync over the room socket."""

    def __init__(self, name):
        self.name = name
        self.doc = pycrdt.Doc()
        self.notebook = YNotebook(self.doc)
        self.ws = None

    async def join(self, url, headers):
        self.ws = await websocket_connect(HTTPRequest(url, headers=headers))
        self.doc.observe(self._on_change)
        await self.ws.write_message(pycrdt.create_sync_message(self.doc), binary=True)
        self.reader = asyncio.ensure_future(self._read())

    def _on_change(self, event):
        if self.ws is not None:
            asyncio.ensure_future(self.ws.write_message(pycrdt.create_update_message(event.update), binary=True))

    async def _read(self):
        while True:
            message = await self.ws.read_message()
            if message is None:
                return
            if message[0] == pycrdt.YMessageType.SYNC:
                reply = pycrdt.handle_sync_message(message[1:], self.doc)
                if reply is not None:
                    await self.ws.write_message(reply, binary=True)

    def sources(self):
        return [str(cell["source"]) for cell in self.notebook.ycells]

    async def wait_for(self, source, timeout=10.0):
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if source in self.sources():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} never saw {source!r}: {self.sources()}")


def _room(browser, path):
    r = browser.request("PUT", f"api/collaboration/session/{path}", {"format": "json", "type": "notebook"})
    assert r.status_code in (200, 201), r.text
    session = r.json()
    return f"api/collaboration/room/json:notebook:{session['fileId']}?sessionId={session['sessionId']}"


def test_owner_and_edit_guest_edit_one_notebook_live(tmp_path):
    alice = start_servers(["alice"], f"sqlite:///{tmp_path / 's.db'}", tmp_path, users=["bob", "carol"])["alice"]
    try:
        (alice.root / "together.ipynb").write_text(json.dumps(NOTEBOOK))
        owner = Owner(alice)
        bob = Guest(alice, alice.put("/sessions/current/grants/bob", {"permission": "edit"}).json()["link"])
        carol = Guest(alice, alice.put("/sessions/current/grants/carol", {"permission": "view"}).json()["link"])
        room = _room(owner, "together.ipynb")
        # A view guest can neither open a collaboration session nor join the room.
        assert carol.request("PUT", "api/collaboration/session/together.ipynb", {"format": "json", "type": "notebook"}).status_code == 403

        async def scenario():
            ws_base = f"ws://127.0.0.1:{alice.port}/"
            them = Peer("alice")
            await them.join(ws_base + room, {"Authorization": f"token {alice.token}"})
            guest = Peer("bob")
            cookies = "; ".join(f"{k}={v}" for k, v in bob.http.cookies.items())
            await guest.join(ws_base + room, {"Cookie": cookies, "Origin": f"http://127.0.0.1:{alice.port}"})
            await them.wait_for("x = 1")
            await guest.wait_for("x = 1")
            guest.notebook.append_cell({"cell_type": "code", "source": "y = 2  # bob", "metadata": {}, "outputs": []})
            await them.wait_for("y = 2  # bob")
            them.notebook.append_cell({"cell_type": "markdown", "source": "alice was here", "metadata": {}})
            await guest.wait_for("alice was here")
            # Revoking bob closes his room socket at once; alice keeps editing.
            assert alice.delete("/sessions/current/grants/bob").status_code == 204
            await asyncio.wait_for(guest.reader, timeout=1.0)
            them.notebook.append_cell({"cell_type": "code", "source": "z = 3", "metadata": {}, "outputs": []})
            await asyncio.sleep(0.3)
            assert "z = 3" not in guest.sources()
            with pytest.raises(Exception):
                await websocket_connect(HTTPRequest(ws_base + room, headers={"Cookie": cookies, "Origin": f"http://127.0.0.1:{alice.port}"}))
            cookies_carol = "; ".join(f"{k}={v}" for k, v in carol.http.cookies.items())
            with pytest.raises(Exception):
                await websocket_connect(HTTPRequest(ws_base + room, headers={"Cookie": cookies_carol, "Origin": f"http://127.0.0.1:{alice.port}"}))
            them.ws.close()

        asyncio.run(scenario())
    finally:
        alice.stop()
