"""A small blocking client of JupyterHub's REST API, as the share service uses it.

The service's ports run in worker threads, so this client blocks (httpx). Every failure
becomes a `ShareError`: a Hub that does not answer or answers 5xx is `HubUnavailable` (503),
an unexpected refusal is `HubRefused` (502), each with a message that says what was asked.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import quote

import httpx

from ...model import HubRefused, HubUnavailable


class HubAPI:
    def __init__(self, api_url: str | None = None, token: str | None = None, timeout: float = 10.0):
        self.api_url = (
            api_url or os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")
        ).rstrip("/") + "/"
        self._token = token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self.timeout = timeout
        self._local = threading.local()

    @property
    def _client(self) -> httpx.Client:
        # One connection pool per worker thread: httpx clients are not meant to be shared
        # between threads that use them at once.
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(
                base_url=self.api_url,
                headers={"Authorization": f"token {self._token}"},
                timeout=self.timeout,
            )
        return client

    def request(self, method: str, path: str, *, allow_404: bool = False, **kwargs: Any) -> Any:
        """The JSON of a Hub API answer (None for 404 when `allow_404`, and for empty bodies)."""
        what = f"{method} {path.split('?')[0]}"
        try:
            response = self._client.request(method, path.lstrip("/"), **kwargs)
        except httpx.TimeoutException:
            raise HubUnavailable(
                f"JupyterHub did not answer in {self.timeout:g} s ({what}); try again"
            ) from None
        except httpx.HTTPError as e:
            raise HubUnavailable(
                f"JupyterHub is not reachable ({what}: {type(e).__name__}); try again"
            ) from None
        if response.status_code == 404 and allow_404:
            return None
        if response.status_code >= 500:
            raise HubUnavailable(f"JupyterHub failed ({what}: {response.status_code}); try again")
        if response.status_code >= 400:
            try:
                message = response.json().get("message") or response.reason_phrase
            except ValueError:
                message = response.reason_phrase
            raise HubRefused(f"JupyterHub refused {what}: {response.status_code} {message}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise HubRefused(
                f"JupyterHub answered {what} with something that is not JSON"
            ) from None

    def items(self, path: str, params: dict | None = None, every_page: bool = False) -> list[dict]:
        """The items of a list the Hub answers in pages ([] for 404): the first page, or with
        `every_page` all of them."""
        params = dict(params or {})
        found: list[dict] = []
        while True:
            answer = self.request(
                "GET",
                path,
                allow_404=True,
                params=params,
                headers={"Accept": "application/jupyterhub-pagination+json"},
            )
            if answer is None:
                return found
            if not isinstance(answer, dict):  # a Hub that does not page
                return found + answer
            found += answer["items"]
            following = (answer.get("_pagination") or {}).get("next")
            if not every_page or not following:
                return found
            params["offset"] = following["offset"]

    # -- users and groups -----------------------------------------------------------------

    def user(self, name: str) -> dict | None:
        return self.request(
            "GET",
            f"users/{quote(name, safe='')}",
            allow_404=True,
            params={"include_stopped_servers": "1"},
        )

    def users(self, name_filter: str = "", limit: int = 200) -> list[dict]:
        params: dict = {"limit": limit}
        if name_filter:
            params["name_filter"] = name_filter
        return self.items("users", params)

    def group(self, name: str) -> dict | None:
        return self.request("GET", f"groups/{quote(name, safe='')}", allow_404=True)

    def groups(self, limit: int = 200) -> list[dict]:
        return self.items("groups", {"limit": limit})

    # -- the Hub's sharing API (JupyterHub >= 5.5.1) ----------------------------------------

    @staticmethod
    def _server_path(owner: str, server: str) -> str:
        return f"shares/{quote(owner, safe='')}/{quote(server, safe='')}"

    def share(
        self, owner: str, server: str, *, user: str | None = None, group: str | None = None
    ) -> dict:
        body = {"user": user} if user else {"group": group}
        return self.request("POST", self._server_path(owner, server), json=body)

    def unshare(
        self, owner: str, server: str, *, user: str | None = None, group: str | None = None
    ) -> None:
        body = {"user": user} if user else {"group": group}
        self.request("PATCH", self._server_path(owner, server), json=body, allow_404=True)

    def shares_of_server(self, owner: str, server: str) -> list[dict]:
        return self.items(self._server_path(owner, server), every_page=True)

    def shared_with_user(self, name: str) -> list[dict]:
        return self.items(f"users/{quote(name, safe='')}/shared", every_page=True)

    # -- users' servers: restarting one gives it a new API token ---------------------------

    @staticmethod
    def _user_server_path(owner: str, server: str) -> str:
        owner = quote(owner, safe="")
        return (
            f"users/{owner}/servers/{quote(server, safe='')}" if server else f"users/{owner}/server"
        )

    def server(self, owner: str, server: str) -> dict | None:
        """The Hub's model of a user's (named) server, None when it has none of that name."""
        model = self.user(owner)
        return ((model or {}).get("servers") or {}).get(server)

    def stop_server(self, owner: str, server: str) -> None:
        """Ask the Hub to stop the server (the `servers` scope); it may answer before it stops."""
        self.request("DELETE", self._user_server_path(owner, server))

    def start_server(self, owner: str, server: str, user_options: dict | None = None) -> None:
        """Ask the Hub to start the server with these user options (the `servers` scope). The
        body is the options themselves: JupyterHub 5 reads it so, 6 too (its older form)."""
        self.request("POST", self._user_server_path(owner, server), json=dict(user_options or {}))

    def own_scopes(self) -> set[str]:
        """The scopes of this client's own token, as the Hub expands them."""
        return set((self.request("GET", "user") or {}).get("scopes") or [])

    def close(self) -> None:
        client = getattr(self._local, "client", None)
        if client is not None:
            client.close()
