"""Working together live: with jupyter-collaboration installed, an edit-level guest and the
owner edit one notebook at once; a view-level guest watches the room live, read-only: the
server drops every change his socket sends (a forged Yjs update changes nothing for anyone).

Runs where jupyter-collaboration is installed (`.ci/run` runs it in a second environment
that has it); elsewhere it is skipped.
"""

from __future__ import annotations

import asyncio
import json

import pytest

# Starts real servers with jupyter-collaboration.
pytestmark = pytest.mark.slow

pytest.importorskip("jupyter_server_ydoc", reason="jupyter-collaboration is not installed")

import pycrdt  # noqa: E402
from jupyter_ydoc import YNotebook  # noqa: E402
from tornado.httpclient import HTTPClientError, HTTPRequest  # noqa: E402
from tornado.websocket import websocket_connect  # noqa: E402

from .servers import start_servers  # noqa: E402
from .test_links import Guest, Owner  # noqa: E402

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "first",
            "metadata": {},
            "outputs": [],
            "source": "x = 1",
        }
    ],
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
            asyncio.ensure_future(
                self.ws.write_message(pycrdt.create_update_message(event.update), binary=True)
            )

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
    r = browser.request(
        "PUT", f"api/collaboration/session/{path}", {"format": "json", "type": "notebook"}
    )
    assert r.status_code in (200, 201), r.text
    session = r.json()
    return (
        f"api/collaboration/room/json:notebook:{session['fileId']}?sessionId={session['sessionId']}"
    )


def test_owner_and_edit_guest_edit_one_notebook_live(tmp_path):
    alice = start_servers(
        ["alice"], f"sqlite:///{tmp_path / 's.db'}", tmp_path, users=["bob", "carol"]
    )["alice"]
    try:
        (alice.root / "together.ipynb").write_text(json.dumps(NOTEBOOK))
        owner = Owner(alice)
        bob = Guest(
            alice, alice.put("/sessions/current/grants/bob", {"permission": "edit"}).json()["link"]
        )
        Guest(
            alice,
            alice.put("/sessions/current/grants/carol", {"permission": "view"}).json()["link"],
        )
        room = _room(owner, "together.ipynb")

        async def scenario():
            ws_base = f"ws://127.0.0.1:{alice.port}/"
            them = Peer("alice")
            await them.join(ws_base + room, {"Authorization": f"token {alice.token}"})
            guest = Peer("bob")
            cookies = "; ".join(f"{k}={v}" for k, v in bob.http.cookies.items())
            await guest.join(
                ws_base + room, {"Cookie": cookies, "Origin": f"http://127.0.0.1:{alice.port}"}
            )
            await them.wait_for("x = 1")
            await guest.wait_for("x = 1")
            guest.notebook.append_cell(
                {"cell_type": "code", "source": "y = 2  # bob", "metadata": {}, "outputs": []}
            )
            await them.wait_for("y = 2  # bob")
            them.notebook.append_cell(
                {"cell_type": "markdown", "source": "alice was here", "metadata": {}}
            )
            await guest.wait_for("alice was here")
            # Revoking bob closes his room socket at once; alice keeps editing.
            assert alice.delete("/sessions/current/grants/bob").status_code == 204
            await asyncio.wait_for(guest.reader, timeout=1.0)
            them.notebook.append_cell(
                {"cell_type": "code", "source": "z = 3", "metadata": {}, "outputs": []}
            )
            await asyncio.sleep(0.3)
            assert "z = 3" not in guest.sources()
            with pytest.raises(HTTPClientError) as refused:
                await websocket_connect(
                    HTTPRequest(
                        ws_base + room,
                        headers={"Cookie": cookies, "Origin": f"http://127.0.0.1:{alice.port}"},
                    )
                )
            assert refused.value.code in (403, 404)
            them.ws.close()

        asyncio.run(scenario())
    finally:
        alice.stop()


def _cookies(browser):
    return "; ".join(f"{k}={v}" for k, v in browser.http.cookies.items())


def test_a_view_guest_watches_live_and_changes_nothing(tmp_path):
    """carol (view) joins alice's room: she sees alice's typing as it happens; every change
    her socket sends (her own edits, a forged update, a save request) is dropped by the
    server, so alice's document, the room and the file on disk stay alice's. Raising her to
    edit lets her changes through at once; lowering her back stops them at once."""
    alice = start_servers(
        ["alice"],
        f"sqlite:///{tmp_path / 's.db'}",
        tmp_path,
        users=["carol"],
        extra_args=["--ShareApp.guest_check_interval=0.2"],
    )["alice"]
    try:
        (alice.root / "watched.ipynb").write_text(json.dumps(NOTEBOOK))
        Owner(alice)
        carol = Guest(
            alice,
            alice.put("/sessions/current/grants/carol", {"permission": "view"}).json()["link"],
        )
        room = _room(carol, "watched.ipynb")  # a view guest may open the document's session

        async def scenario():
            ws_base = f"ws://127.0.0.1:{alice.port}/"
            them = Peer("alice")
            await them.join(ws_base + room, {"Authorization": f"token {alice.token}"})
            watcher = Peer("carol")
            await watcher.join(
                ws_base + room,
                {"Cookie": _cookies(carol), "Origin": f"http://127.0.0.1:{alice.port}"},
            )
            await watcher.wait_for("x = 1")
            them.notebook.append_cell(
                {"cell_type": "code", "source": "typed by alice", "metadata": {}, "outputs": []}
            )
            await watcher.wait_for("typed by alice")
            # carol's own edit, sent as an update: dropped.
            watcher.notebook.append_cell(
                {"cell_type": "code", "source": "carol's edit", "metadata": {}, "outputs": []}
            )
            # A forged update from another document, sent raw on her socket: dropped.
            forged = pycrdt.Doc()
            YNotebook(forged).append_cell(
                {"cell_type": "code", "source": "forged", "metadata": {}, "outputs": []}
            )
            await watcher.ws.write_message(
                pycrdt.create_update_message(forged.get_update()), binary=True
            )
            await watcher.ws.write_message(pycrdt.create_sync_message(forged), binary=True)
            await asyncio.sleep(1.0)
            assert "carol's edit" not in them.sources() and "forged" not in them.sources()
            # A newcomer syncing from the room sees only alice's document.
            late = Peer("alice-2")
            await late.join(ws_base + room, {"Authorization": f"token {alice.token}"})
            await late.wait_for("typed by alice")
            await asyncio.sleep(0.3)
            assert "carol's edit" not in late.sources() and "forged" not in late.sources()
            # Raised to edit: the changes of a client in step with the room go through. (Her
            # first client kept its dropped edits, on which its next updates depend: a view
            # guest's JupyterLab makes none, it is read-only.)
            assert (
                alice.put("/sessions/current/grants/carol", {"permission": "edit"}).status_code
                == 200
            )
            await asyncio.sleep(0.6)
            watcher.ws.close()
            watcher = Peer("carol, raised")
            await watcher.join(
                ws_base + room,
                {"Cookie": _cookies(carol), "Origin": f"http://127.0.0.1:{alice.port}"},
            )
            await watcher.wait_for("typed by alice")
            watcher.notebook.append_cell(
                {"cell_type": "code", "source": "carol may edit now", "metadata": {}, "outputs": []}
            )
            await them.wait_for("carol may edit now")
            # Lowered to view: dropped again at once, and her socket stays open to watch.
            assert (
                alice.put("/sessions/current/grants/carol", {"permission": "view"}).status_code
                == 200
            )
            await asyncio.sleep(0.6)
            watcher.notebook.append_cell(
                {"cell_type": "code", "source": "after lowering", "metadata": {}, "outputs": []}
            )
            them.notebook.append_cell(
                {"cell_type": "code", "source": "alice still typing", "metadata": {}, "outputs": []}
            )
            await watcher.wait_for("alice still typing")
            await asyncio.sleep(0.5)
            assert "after lowering" not in them.sources()
            # Revoked: the room closes for her.
            assert alice.delete("/sessions/current/grants/carol").status_code == 204
            await asyncio.wait_for(watcher.reader, timeout=2.0)
            them.ws.close()
            late.ws.close()

        asyncio.run(scenario())
        log = alice.log()
        assert "dropped" in log and "a view guest sent" in log
    finally:
        alice.stop()


def test_a_view_guest_raised_to_edit_is_synced_and_his_edits_reach_the_room(tmp_path):
    """carol's client keeps what the server dropped while she watched (a JupyterLab writes the
    room's id into the document's state as it joins); Yjs numbers a client's changes one after
    another and the room holds back any change whose predecessors it lacks. Raised to edit on
    the same socket, she is asked to sync again, so her next edit reaches alice."""
    alice = start_servers(
        ["alice"],
        f"sqlite:///{tmp_path / 's.db'}",
        tmp_path,
        users=["carol"],
        extra_args=["--ShareApp.guest_check_interval=0.2"],
    )["alice"]
    try:
        (alice.root / "raised.ipynb").write_text(json.dumps(NOTEBOOK))
        Owner(alice)
        carol = Guest(
            alice,
            alice.put("/sessions/current/grants/carol", {"permission": "view"}).json()["link"],
        )
        room = _room(carol, "raised.ipynb")

        async def scenario():
            ws_base = f"ws://127.0.0.1:{alice.port}/"
            them = Peer("alice")
            await them.join(ws_base + room, {"Authorization": f"token {alice.token}"})
            watcher = Peer("carol")
            await watcher.join(
                ws_base + room,
                {"Cookie": _cookies(carol), "Origin": f"http://127.0.0.1:{alice.port}"},
            )
            await watcher.wait_for("x = 1")
            watcher.doc.get("state", type=pycrdt.Map)["document_id"] = "json:notebook:joined"
            await asyncio.sleep(0.5)
            assert "document_id" not in them.doc.get("state", type=pycrdt.Map)
            assert (
                alice.put("/sessions/current/grants/carol", {"permission": "edit"}).status_code
                == 200
            )
            await asyncio.sleep(0.6)
            watcher.notebook.append_cell(
                {"cell_type": "code", "source": "after the raise", "metadata": {}, "outputs": []}
            )
            await them.wait_for("after the raise")
            assert them.doc.get("state", type=pycrdt.Map)["document_id"] == "json:notebook:joined"
            them.ws.close()
            watcher.ws.close()

        asyncio.run(scenario())
    finally:
        alice.stop()
