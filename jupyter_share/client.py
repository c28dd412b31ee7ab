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
import datetime as _dt
import json
import os
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from .model import Conflict, Forbidden, InvalidInput, Kind, NotFound, ShareError

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

API_PATH = "jupyter-share/api/v1/"

#: Items per request when paging through a collection (the API's maximum).
PAGE_SIZE = 1000

KINDS = ("images", "formations", "sessions")

Resource = str | dict


# -- errors ----------------------------------------------------------------------------------


# The server's own classes (jupyter_share.model): what the service raises is what the client
# raises for the same answer (a 400 is a BadRequest, which is an InvalidInput).


class BadRequest(InvalidInput):
    """400: bad input, e.g. an unknown user (with a "did you mean" hint) or permission."""


class NotSignedIn(ShareError):
    """401: no token, or a token the server does not accept."""

    status = 401
    reason = "Unauthorized"


class MethodNotAllowed(ShareError):
    """405: e.g. creating a session by hand."""

    status = 405
    reason = "Method Not Allowed"


class ServerError(ShareError):
    """5xx: the server failed; its log has the details."""

    status = 500
    reason = "Internal Server Error"


class Unreachable(ShareError):
    """No answer: the server is down, or the URL is wrong."""

    status = None
    reason = None


class NoServerFound(ShareError):
    """No URL was given and none of the ways to find the server worked."""

    status = None
    reason = None


_ERRORS_BY_STATUS = {
    400: BadRequest,
    401: NotSignedIn,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
}


def _error_from_response(response: httpx.Response) -> ShareError:
    status = response.status_code
    message, reason, field = None, response.reason_phrase, None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") if isinstance(body.get("message"), str) else None
        reason = body.get("reason") or reason
        field = body.get("field") if isinstance(body.get("field"), str) else None
    if not message:
        # Not an answer of the share API (a proxy, or a server without the extension).
        message = f"{status} {reason}" + (
            " (is jupyter_share enabled on this server?)" if status == 404 else ""
        )
    cls = _ERRORS_BY_STATUS.get(status, ServerError if status >= 500 else ShareError)
    return cls(message, status=status, reason=reason, field=field)


# -- finding the server ------------------------------------------------------------------------


# Addresses a server binds to that a client cannot connect to.
_ANY_HOST = {"", "*", "0.0.0.0", "::", "[::]"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _connectable(url: str) -> str:
    """`url` with a wildcard bind address replaced by loopback, and ending in a slash."""
    parts = urlsplit(url)
    host = parts.hostname if parts.hostname is not None else ""
    netloc = parts.netloc
    if host in _ANY_HOST:
        loopback = "[::1]" if host in ("::", "[::]") else "127.0.0.1"
        netloc = loopback + (f":{parts.port}" if parts.port else "")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


#: How every API base ends: `{base_url}jupyter-share/api/v1/` on a Jupyter server, and
#: `/services/NAME/api/v1/` on the JupyterHub service.
_API_SUFFIX = "/api/v1/"


def _api_url(server_url: str) -> str:
    """The API base for a server URL; a URL that already points at an API (a server's or the
    hub service's) is kept."""
    url = _connectable(server_url)
    return url if url.endswith(_API_SUFFIX) else url + API_PATH


def _running_servers(runtime_dir: str | None = None) -> list[dict]:
    # jupyter_server is heavy to import; only this way of finding the server needs it.
    from jupyter_server.serverapp import list_running_servers

    return list(list_running_servers(runtime_dir))


def _server_url(info: dict) -> str:
    if info.get("sock"):
        return f"http://localhost{info.get('base_url') or '/'}"
    return info["url"]


def _runtime_dir() -> str:
    from jupyter_core.paths import jupyter_runtime_dir

    return jupyter_runtime_dir()


class FoundServer:
    """Where a server was found: its URL, token, unix socket (if any), and how it was found."""

    def __init__(self, url: str, token: str | None, found_by: str, sock: str | None = None):
        self.url = url
        self.token = token
        self.found_by = found_by
        self.sock = sock


def find_server(environ: dict | None = None) -> FoundServer:
    """The server this code runs under, found as the module docstring says; `NoServerFound`
    says what was tried when nothing fits."""
    env = os.environ if environ is None else environ
    tried = []

    url = env.get("JUPYTER_SHARE_URL")
    if url:
        return FoundServer(url, env.get("JUPYTER_SHARE_TOKEN") or None, "JUPYTER_SHARE_URL")
    tried.append("JUPYTER_SHARE_URL is not set")

    hub_url, hub_token = env.get("JUPYTERHUB_SERVICE_URL"), env.get("JUPYTERHUB_API_TOKEN")
    if hub_url and hub_token:
        return FoundServer(hub_url, hub_token, "JUPYTERHUB_SERVICE_URL")
    if hub_url or hub_token:
        missing = "JUPYTERHUB_API_TOKEN" if hub_url else "JUPYTERHUB_SERVICE_URL"
        tried.append(f"JupyterHub: {missing} is not set")
    else:
        tried.append("JUPYTERHUB_SERVICE_URL and JUPYTERHUB_API_TOKEN are not set")

    parent = env.get("JPY_PARENT_PID")
    if parent:
        runtime_dir = _runtime_dir()
        try:
            pid = int(parent)
        except ValueError:
            tried.append(f"JPY_PARENT_PID={parent!r} is not a process id")
        else:
            for info in _running_servers(runtime_dir):
                if info.get("pid") == pid:
                    return FoundServer(
                        _server_url(info),
                        info.get("token") or None,
                        f"the runtime file of server pid {pid}",
                        sock=info.get("sock") or None,
                    )
            tried.append(
                f"no running server with pid {pid} (JPY_PARENT_PID) has a runtime file in {runtime_dir}"
            )
    else:
        tried.append(
            "JPY_PARENT_PID is not set (this code does not run in a kernel that a Jupyter server started)"
        )

    raise NoServerFound(
        "cannot find the Jupyter server to talk to: "
        + "; ".join(tried)
        + ". Pass ShareClient(url=..., token=...) or set JUPYTER_SHARE_URL and JUPYTER_SHARE_TOKEN."
    )


def _token_for(url: str) -> str | None:
    """The token of a running server on this machine at `url`, from its runtime file."""
    wanted = _api_url(url)
    try:
        servers = _running_servers()
    except Exception:  # no runtime dir, unreadable files: no token, and the server says 401
        return None
    for info in servers:
        if info.get("url") and _api_url(info["url"]) == wanted:
            return info.get("token") or None
    return None


# -- the client ------------------------------------------------------------------------------


def _resource_path(resource: Resource, kind: str | None = None) -> str:
    """`kind/id` of a resource given as "images/ID", "sessions/current", a bare id (when the
    kind is known) or a dict from the API."""
    if isinstance(resource, dict):
        rkind, rid = resource.get("kind"), resource.get("id")
        if not rkind or not rid:
            raise BadRequest(
                "a resource dict needs 'kind' and 'id', as the API answers it", field="resource"
            )
        text = f"{rkind}/{rid}"
    elif isinstance(resource, str):
        text = resource.strip().strip("/")
    else:
        raise BadRequest(
            f"resource must be 'images/ID', 'formations/ID', 'sessions/current' or a dict, not {type(resource).__name__}",
            field="resource",
        )
    head, sep, rid = text.partition("/")
    if not sep and kind:
        head, rid = kind, text
    try:
        plural = Kind.parse(head).plural
    except InvalidInput:
        plural = ""
    if not plural or not rid or "/" in rid:
        raise BadRequest(
            f"resource {text!r} is not 'images/ID', 'formations/ID' or 'sessions/current'",
            field="resource",
        )
    if kind and plural != kind:
        raise BadRequest(f"{text!r} is not one of {kind}", field="resource")
    return f"{plural}/{quote(rid, safe='')}"


def _history_filter(person: Any, action: Any) -> dict:
    def joined(value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value or None
        return ",".join(value) or None

    return {
        k: v for k, v in (("person", joined(person)), ("action", joined(action))) if v is not None
    }


def _kind(kind: str) -> str:
    try:
        return Kind.parse(kind).plural
    except InvalidInput as e:
        raise BadRequest(e.message, field=e.field) from None


def _iso(value: Any) -> Any:
    """An expiry as the API takes it: datetimes and dates become ISO 8601 (a naive datetime is
    local time, as Python's `datetime.now()` gives it; a date means the start of that day)."""
    if isinstance(value, _dt.datetime):
        return value.astimezone().isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, _dt.date):
        return _iso(_dt.datetime(value.year, value.month, value.day))
    return value


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
