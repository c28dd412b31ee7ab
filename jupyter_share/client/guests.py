"""Who is in a running container now, asked of its server (`jupyter share guests`).

Presence lives in the memory of the container's own server (`GuestActivity`), not in the
store: this asks the server `url` names (its token from `token`, else from its runtime file),
or the only server running for this user on this machine."""

from __future__ import annotations

from ..model import Forbidden, InvalidInput, NotFound, ShareError


def _server(url: str | None, token: str | None) -> tuple[str, str | None]:
    from .discovery import _running_servers, _server_url

    if url:
        return url, token
    servers = _running_servers()
    if len(servers) == 1:
        return _server_url(servers[0]), token or servers[0].get("token") or None
    found = ", ".join(_server_url(s) for s in servers) or "none"
    raise InvalidInput(
        f"presence is kept by the running server of your container: name it with --url (running here: {found})",
        field="url",
    )


def guests_now(url: str | None, token: str | None) -> dict:
    """`GET sessions/current/guests` of a running server, as the share API answers it."""
    from . import ShareClient

    url, token = _server(url, token)
    try:
        with ShareClient(url=url, token=token, timeout=15) as api:
            answer: dict = api._json("GET", "sessions/current/guests")
            return answer
    except ShareError as e:
        if isinstance(e, (InvalidInput, Forbidden, NotFound)):
            raise  # the client raises the server's own refusals
        raise ShareError(f"the server at {url}: {e.message}") from None
