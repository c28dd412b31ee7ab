"""The user server's side of the share service: calls it as this server's owner (with the
server's own `JUPYTERHUB_API_TOKEN`), and asks it who else may use this server."""

from __future__ import annotations

import asyncio
import json
import os
import time
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ...model import Permission
from ...service.guests import guest_permission
from ..wire import SERVER_HEADER

_BODY_METHODS = {"POST", "PUT", "PATCH"}


class ServiceUnreachable(Exception):
    pass


class ShareServiceClient:
    """Calls the share service as this server's owner."""

    def __init__(self, api_url: str, token: str, server_name: str, timeout: float = 15.0):
        self.api_url = api_url.rstrip("/") + "/"
        self.token = token
        self.server_name = server_name
        self.timeout = timeout

    async def fetch(self, method: str, path: str, query: str = "", body: bytes | None = None):
        url = self.api_url + path.lstrip("/") + (f"?{query}" if query else "")
        request = HTTPRequest(
            url,
            method=method,
            headers={
                "Authorization": f"token {self.token}",
                "Content-Type": "application/json",
                # Which of the owner's servers `sessions/current` is; header values are latin-1.
                SERVER_HEADER: quote(self.server_name, safe=""),
            },
            body=body if method in _BODY_METHODS else None,
            allow_nonstandard_methods=True,
            request_timeout=self.timeout,
            connect_timeout=min(self.timeout, 5.0),
        )
        try:
            return await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError, asyncio.TimeoutError) as e:
            raise ServiceUnreachable(str(e) or type(e).__name__) from None


class ContainerAccess:
    """Who may use this server besides its owner, as the share service decides it
    (`GET sessions/current/access/{user}`: the grants, the user's groups as the Hub says now,
    and the Hub's share of this server), each answer kept for `ttl` seconds. The groups in the
    Hub's answer about a guest's token are never used: HubAuth keeps that answer for minutes,
    and a member who left a group, or whose share an admin ended, must be refused within
    seconds."""

    def __init__(self, client: ShareServiceClient, ttl: float):
        self.client = client
        self.ttl = ttl
        self._answers: dict[str, tuple[float, Permission | None]] = {}
        self._generation = 0
        self._lock = asyncio.Lock()

    def forget(self) -> None:
        self._answers.clear()
        self._generation += 1

    async def grants(self, fresh: bool = False) -> list[dict]:
        """The server's access list, from the service; `fresh` also forgets the answers kept
        about each guest, so that the next check of each asks again."""
        if fresh:
            self.forget()
        response = await self.client.fetch("GET", "sessions/current/grants")
        if response.code != 200:
            raise ServiceUnreachable(f"the share service answered {response.code}")
        return json.loads(response.body)["items"]

    async def permission(
        self, username: str, groups: list[str] | None = None, fresh: bool = False
    ) -> Permission | None:
        """The user's permission on this server now, None for none. `groups` is ignored (the
        service asks the Hub for them); it is taken for callers that still pass it."""
        now = time.monotonic()
        kept = self._answers.get(username)
        if not fresh and kept is not None and now - kept[0] < self.ttl:
            return kept[1]
        async with self._lock:
            kept = self._answers.get(username)
            if not fresh and kept is not None and time.monotonic() - kept[0] < self.ttl:
                return kept[1]
            generation = self._generation
            asked = time.monotonic()
            response = await self.client.fetch(
                "GET", "sessions/current/access/" + quote(username, safe="")
            )
            if response.code != 200:
                raise ServiceUnreachable(f"the share service answered {response.code}")
            permission = guest_permission(json.loads(response.body).get("access"))
            if generation == self._generation:  # not forgotten meanwhile
                if len(self._answers) > 10_000:
                    self._answers.clear()
                self._answers[username] = (asked, permission)
            return permission


def service_client_from_env(timeout: float) -> ShareServiceClient | None:
    url = os.environ.get("JUPYTER_SHARE_SERVICE_URL")
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not url or not token:
        return None
    return ShareServiceClient(url, token, os.environ.get("JUPYTERHUB_SERVER_NAME", ""), timeout)
