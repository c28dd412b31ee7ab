"""`ShareClient`: a small blocking Python client of the share REST API v1 (jupyter_share/openapi.yaml).

It is what the notebook widgets use, and it works on its own in scripts:

    from jupyter_share.client import ShareClient
    share = ShareClient()                      # the Jupyter server this code runs under
    image = share.create_image("CARET", capture=True)
    share.share(image, "bob")                  # view, no expiry
    share.shared_with_me()

With no arguments it finds the server the code runs under, in this order:

1. `JUPYTER_SHARE_URL` (and `JUPYTER_SHARE_TOKEN`), set by hand or by a launcher;
2. `JUPYTERHUB_SERVICE_URL` + `JUPYTERHUB_API_TOKEN`, which JupyterHub gives every single-user
   server and so every kernel it starts;
3. the runtime file (`jpserver-<pid>.json`) of the server whose pid is `JPY_PARENT_PID`, which
   jupyter_client sets in every kernel it launches.

Every answer is the API's JSON as plain dicts and lists; collections are paged through and
returned as lists of items. A refusal raises a `ShareError` subclass carrying the server's
message (and the input at fault in `field`), never an HTTP library traceback. The token is
sent in the Authorization header only: it is not in `repr`, in messages or in logs.
"""

from __future__ import annotations

import builtins
import json
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

# What the one-module client defined stays importable from `jupyter_share.client` (the
# widgets, the spawner and scripts import these names; F401: re-exported).
from ..model import Conflict, Forbidden, InvalidInput, Kind, NotFound, ShareError  # noqa: F401
from .discovery import (  # noqa: F401
    _API_SUFFIX,
    _LOOPBACK,
    API_PATH,
    FoundServer,
    _api_url,
    _connectable,
    _running_servers,
    _runtime_dir,
    _server_url,
    _token_for,
    find_server,
)
from .errors import (
    BadRequest,
    MethodNotAllowed,
    NoServerFound,
    NotSignedIn,
    ServerError,
    Unreachable,
    _error_from_response,
)
from .resources import Resource, _history_filter, _iso, _kind, _resource_path

__all__ = [
    "ShareClient",
    "ShareError",
    "BadRequest",
    "NotSignedIn",
    "Forbidden",
    "NotFound",
    "MethodNotAllowed",
    "Conflict",
    "ServerError",
    "Unreachable",
    "NoServerFound",
    "find_server",
    "FoundServer",
]

#: Items per request when paging through a collection (the API's maximum).
PAGE_SIZE = 1000

KINDS = ("images", "formations", "sessions")


class ShareClient:
    """A blocking client of one Jupyter server's share API. See the module docstring."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 60.0):
        sock = None
        if url is None:
            found = find_server()
            url, sock, self.found_by = found.url, found.sock, found.found_by
            token = token if token is not None else found.token
        else:
            self.found_by = "the url argument"
            if token is None:
                token = _token_for(url)
        self.url = _api_url(url)
        suffix = API_PATH if self.url.endswith(API_PATH) else _API_SUFFIX[1:]
        self.server_url = self.url[: -len(suffix)]
        self._has_token = bool(token)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"token {token}"
        transport = httpx.HTTPTransport(uds=sock) if sock else None
        # A proxy from the environment (common in kernels) must not carry calls to this machine.
        local = bool(sock) or urlsplit(self.url).hostname in _LOOPBACK
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            trust_env=not local,
        )

    def __repr__(self) -> str:
        return f"ShareClient(url={self.server_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShareClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, params: dict | None = None, body: Any = None
    ) -> httpx.Response:
        content = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self._http.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise Unreachable(
                f"the Jupyter server at {self.server_url} did not answer in time"
            ) from None
        except httpx.HTTPError as e:
            raise Unreachable(
                f"cannot reach the Jupyter server at {self.server_url}: {e}"
            ) from None
        if response.status_code >= 400:
            error = _error_from_response(response)
            if error.status == 401 and not self._has_token:
                error.message += (
                    " (no token was found: pass ShareClient(token=...) or set JUPYTER_SHARE_TOKEN)"
                )
                error.args = (error.message,)
            raise error
        return response

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        response = self._request(method, path, **kw)
        try:
            return response.json()
        except ValueError:
            message = f"the server at {self.server_url} did not answer JSON for {method} {path}"
            raise ServerError(message, status=response.status_code) from None

    def _all(self, path: str, params: dict | None = None) -> list[dict]:
        """Every item of a paged collection."""
        items: list[dict] = []
        while True:
            page = self._json(
                "GET", path, params={**(params or {}), "offset": len(items), "limit": PAGE_SIZE}
            )
            items.extend(page["items"])
            if not page["items"] or len(items) >= page.get("total", 0):
                return items

    # -- identity ----------------------------------------------------------------------------

    def me(self) -> dict:
        """`{"username", "display_name", "mode", "groups"}` of the caller."""
        return self._json("GET", "me")

    def directory(self, q: str = "") -> dict:
        """`{"users": [...], "groups": [...]}` whose names start with `q` (at most 20 each)."""
        return self._json("GET", "directory", params={"q": q})

    # -- resources ---------------------------------------------------------------------------

    def list(self, kind: str, scope: str = "all") -> list[dict]:
        """The caller's resources of one kind (`scope="owned"`), those shared with them
        (`"shared"`), or both (`"all"`), newest first."""
        return self._all(_kind(kind), {"scope": scope})

    def get(self, resource: Resource) -> dict:
        return self._json("GET", _resource_path(resource))

    def create_image(
        self, name: str, spec: dict | None = None, description: str = "", capture: bool = False
    ) -> dict:
        """A new image: from a container image reference in `spec`, and/or with this
        container's environment captured (`capture=True`)."""
        body: dict = {"name": name, "description": description}
        if spec is not None:
            body["spec"] = spec
        if capture:
            body["capture"] = True
        return self._json("POST", "images", body=body)

    def create_formation(self, name: str, spec: dict, description: str = "") -> dict:
        """A new launch template; `spec` has at least `image` (an image id or a reference)."""
        return self._json(
            "POST", "formations", body={"name": name, "description": description, "spec": spec}
        )

    def update(self, resource: Resource, **fields: Any) -> dict:
        """Change `name`, `description` and/or `spec` (which replaces the whole spec)."""
        return self._json("PATCH", _resource_path(resource), body=fields)

    def delete(self, resource: Resource) -> None:
        self._request("DELETE", _resource_path(resource))

    # -- sharing -----------------------------------------------------------------------------

    @staticmethod
    def _principal_path(principal: str) -> str:
        if not isinstance(principal, str) or not principal.strip():
            raise BadRequest(
                "principal is required: 'NAME', 'user:NAME' or 'group:NAME'", field="principal"
            )
        return quote(principal.strip(), safe="")

    def share(
        self, resource: Resource, principal: str, permission: str = "view", expires_at: Any = None
    ) -> dict:
        """Give `principal` ("bob", "user:bob", "group:class-2026") `permission` on a resource,
        or change their grant. `expires_at`: None (never), an ISO 8601 string, a datetime or a
        date. Answers the Grant; a share of a standalone container with a user also carries the
        neighbour's personal `link` (a secret: send it to them only)."""
        body = {"permission": permission, "expires_at": _iso(expires_at)}
        return self._json(
            "PUT", f"{_resource_path(resource)}/grants/{self._principal_path(principal)}", body=body
        )

    def revoke(self, resource: Resource, principal: str) -> None:
        """Remove a grant; revoking one's own grant leaves a resource shared with you."""
        self._request(
            "DELETE", f"{_resource_path(resource)}/grants/{self._principal_path(principal)}"
        )

    def new_link(self, resource: Resource, principal: str) -> str:
        """A new personal link for a user's grant on this (standalone) container; the old link
        stops working. A secret: send it to that user only."""
        return self._json(
            "POST", f"{_resource_path(resource)}/grants/{self._principal_path(principal)}/link"
        )["link"]

    # `builtins.list`: in this class `list` is the method above.
    def grants(self, resource: Resource) -> builtins.list[dict]:
        """The access list: live grants (needs manage)."""
        return self._json("GET", f"{_resource_path(resource)}/grants")["items"]

    def history(
        self,
        resource: Resource,
        person: str | builtins.list[str] | None = None,
        action: str | builtins.list[str] | None = None,
    ) -> builtins.list[dict]:
        """The history, oldest first: all of it for the owner and managers, the rows about
        the caller for anyone else. `person`, `action`: only these people (actor or
        principal) and kinds of event (a name, a list, or comma-separated)."""
        return self._all(f"{_resource_path(resource)}/history", _history_filter(person, action))

    def history_csv(
        self,
        resource: Resource,
        person: str | builtins.list[str] | None = None,
        action: str | builtins.list[str] | None = None,
    ) -> str:
        """The history as the text of a CSV file (every matching row, a header first)."""
        return self._request(
            "GET",
            f"{_resource_path(resource)}/history",
            params={**_history_filter(person, action), "format": "csv"},
        ).text

    def guests(self, resource: Resource = "sessions/current") -> builtins.list[dict]:
        """Who is in a container now (its owner and managers): each guest's permission, when
        they signed in, their last activity and address, and what they have open."""
        return self._json("GET", f"{_resource_path(resource, 'sessions')}/guests")["items"]

    def ask(self, resource: Resource, permission: str = "edit", message: str = "") -> dict:
        """Ask the owner and managers of a resource shared with you for more: `edit` or
        `manage`, with an optional message. Answers the open request."""
        return self._json(
            "POST",
            f"{_resource_path(resource)}/requests",
            body={"permission": permission, "message": message},
        )

    def requests(self, resource: Resource | None = None) -> Any:
        """Without a resource: `{"to_decide": [...], "asked": [...]}`, the open requests on
        what you own or manage, and your own. With one: its open requests (all of them if you
        manage it, else your own)."""
        if resource is None:
            return self._json("GET", "requests")
        return self._json("GET", f"{_resource_path(resource)}/requests")["items"]

    def approve(self, resource: Resource, requester: str) -> dict:
        """Approve a request: the requester's grant becomes what they asked for (needs manage)."""
        return self._json(
            "POST",
            f"{_resource_path(resource)}/requests/{self._principal_path(requester)}",
            body={"decision": "approve"},
        )

    def deny(self, resource: Resource, requester: str) -> dict:
        """Deny a request; it closes (needs manage)."""
        return self._json(
            "POST",
            f"{_resource_path(resource)}/requests/{self._principal_path(requester)}",
            body={"decision": "deny"},
        )

    def withdraw(self, resource: Resource, requester: str) -> None:
        """Take your own open request back."""
        self._request(
            "DELETE", f"{_resource_path(resource)}/requests/{self._principal_path(requester)}"
        )

    def shared_with_me(self, kind: str | None = None) -> builtins.list[dict]:
        """Resources of every kind (or of `kind`) that others shared with the caller, each with
        `owner`, `access`, `shared_at` and `expires_at`."""
        return self._all("shared-with-me", {"kind": _kind(kind)} if kind else None)

    def environment(self, image: Resource, format: str = "requirements") -> str:
        """An image's captured environment as the text of a `requirements.txt`
        (`format="requirements"`) or an `environment.yml` (`"conda"`)."""
        return self._request(
            "GET", f"{_resource_path(image, 'images')}/environment", params={"format": format}
        ).text

    # -- environments from images (built in the container of this server) ----------------------

    def use_plan(self, image: Resource) -> dict:
        """What using `image` here would build: Python captured and used, pins, refusals."""
        return self._json("GET", f"{_resource_path(image, 'images')}/use")

    def use_image(self, image: Resource) -> dict:
        """Start building an environment and a kernel here from `image` (or find the one
        built or being built): the environment, with its `state` and progress."""
        return self._json("POST", f"{_resource_path(image, 'images')}/use", body={})

    def environments(self) -> builtins.list[dict]:
        """The environments made here from images."""
        return self._json("GET", "environments")["items"]

    def environment_build(self, env_id: str) -> dict:
        """One environment and its build's progress."""
        return self._json("GET", f"environments/{quote(env_id, safe='')}")

    def cancel_environment(self, env_id: str) -> dict:
        return self._json("POST", f"environments/{quote(env_id, safe='')}/cancel")

    def environment_log(self, env_id: str) -> str:
        return self._request("GET", f"environments/{quote(env_id, safe='')}/log").text

    def remove_environment(self, env_id: str) -> None:
        """Remove an environment and its kernel."""
        self._request("DELETE", f"environments/{quote(env_id, safe='')}")

    # -- launching formations (a new server of yours on this machine, standalone) -------------

    def launch(self, formation: Resource, name: str | None = None) -> dict:
        """Launch `formation` as a new server of yours, run by the server this client talks
        to: `state` "running" with the new `container`, or "building" while its image's
        environment is built first; `not_applied` lists what a local server cannot honour."""
        return self._json(
            "POST",
            f"{_resource_path(formation, 'formations')}/launch",
            body={"name": name} if name else {},
        )

    def stop(self, container: Resource) -> dict:
        """Stop a container that the server this client talks to launched; the container."""
        return self._json("POST", f"{_resource_path(container, 'sessions')}/stop", body={})
