"""The test harness (tests/servers.py) finds a server that had to move off the port it was
given: another process may take a free port between the harness picking it and the server
binding it (seen when two test runs share a machine)."""

from __future__ import annotations

import socket

import pytest

from . import servers


@pytest.mark.slow  # a real server
def test_a_server_whose_port_was_taken_is_found_on_the_next(tmp_path, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(servers, "free_port", lambda: port)
        server = servers.start_server("alice", f"sqlite:///{tmp_path / 'share.db'}", tmp_path)
        try:
            servers.wait_ready(server, timeout=120)
            assert server.port != port
            assert server.get("/me").json()["username"] == "alice"
        finally:
            server.stop()
