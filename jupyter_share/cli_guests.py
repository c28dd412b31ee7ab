"""`jupyter share guests`: who is in your running container now.

Unlike the other commands, which read the store, this one asks a running server: presence lives
in the memory of the container's own server (`GuestActivity`), not in the store. The server is
the one `--url` names (its token from `--token`, else from its runtime file, as `jupyter server
list` shows them), or the only server running for this user on this machine.
"""

from __future__ import annotations

import argparse
from typing import Any

from .model import Forbidden, InvalidInput, NotFound, ShareError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url",
        default=None,
        help="the server to ask (default: the only one running here, from `jupyter server list`)",
    )
    p.add_argument("--token", default=None, help="its token (default: from its runtime file)")


def _server(url: str | None, token: str | None) -> tuple[str, str | None]:
    from . import client

    if url:
        return url, token
    servers = client._running_servers()
    if len(servers) == 1:
        return client._server_url(servers[0]), token or servers[0].get("token") or None
    found = ", ".join(client._server_url(s) for s in servers) or "none"
    raise InvalidInput(
        f"presence is kept by the running server of your container: name it with --url (running here: {found})",
        field="url",
    )


def fetch(url: str | None, token: str | None) -> dict:
    """`GET sessions/current/guests` of a running server, as the share API answers it."""
    from . import client

    url, token = _server(url, token)
    try:
        with client.ShareClient(url=url, token=token, timeout=15) as api:
            return api._json("GET", "sessions/current/guests")
    except ShareError as e:
        if isinstance(e, (InvalidInput, Forbidden, NotFound)):
            raise  # the client raises the server's own refusals
        raise ShareError(f"the server at {url}: {e.message}") from None


def _short(value: str) -> str:
    return value.replace("T", " ")[:19] + "Z" if value else ""


def cmd_guests(ctx: Any, args: argparse.Namespace) -> None:
    from .cli import table

    answer = fetch(args.url, args.token)
    if ctx.json:
        return ctx.dump(answer)
    if not answer["items"]:
        return ctx.out("nobody is in your container")
    ctx.out(
        table(
            [
                "GUEST",
                "PERMISSION",
                "IN NOW",
                "SIGNED IN",
                "LAST ACTIVE",
                "FROM",
                "KERNELS",
                "TERMINALS",
                "DOCUMENTS",
            ],
            [
                [
                    g["username"],
                    g["permission"],
                    "yes" if g["in_now"] else "no",
                    _short(g["signed_in_at"]),
                    _short(g["last_active_at"]),
                    g["address"],
                    len(g["kernels"]),
                    len(g["terminals"]),
                    ", ".join(g["documents"]),
                ]
                for g in answer["items"]
            ],
        )
    )
