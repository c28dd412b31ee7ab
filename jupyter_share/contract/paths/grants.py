"""The operations on grants, a resource's history and who is in a container, by path."""

from __future__ import annotations

from typing import Any

from ...model import HISTORY_ACTIONS
from ...service import HISTORY_FORMATS
from .common import PRINCIPAL_PATTERN, parameter, response, schema


def _list_of(pattern: str) -> str:
    """One value of `pattern` or several, comma-separated."""
    one = pattern[1:-1]
    return f"^{one}(?:,{one})*$"


#: Path template -> its operations, as OpenAPI 3.0 has them.
PATHS: dict[str, Any] = {
    "/{kind}/{id}/grants": {
        "parameters": [parameter("kind"), parameter("id")],
        "get": {
            "tags": ["grants"],
            "operationId": "listGrants",
            "summary": "Who holds access to a resource (live grants only), the access list.",
            "description": "Permission manage or higher.",
            "x-permission": "manage",
            "responses": {
                "200": {
                    "description": "The resource's live grants.",
                    "content": {"application/json": {"schema": schema("GrantList")}},
                },
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "502": response("HubRefused"),
                "503": response("Unavailable"),
            },
        },
    },
    "/{kind}/{id}/grants/{principal}": {
        "parameters": [parameter("kind"), parameter("id"), parameter("principal")],
        "put": {
            "tags": ["grants"],
            "operationId": "shareResource",
            "summary": "Share a resource with a user or group, or change an existing grant.",
            "description": (
                "Permission manage or higher. Answers 201 for a new grant and 200 for a changed one. "
                "Nobody can be granted more than `manage`; sharing with the owner or with oneself is "
                'a conflict (409); an unknown user or group is refused with a "did you mean" hint '
                "(400)."
            ),
            "x-permission": "manage",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema("GrantRequest")}},
            },
            "responses": {
                "200": {
                    "description": "The changed grant.",
                    "content": {"application/json": {"schema": schema("Grant")}},
                },
                "201": {
                    "description": "The new grant.",
                    "content": {"application/json": {"schema": schema("Grant")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "409": response("Conflict"),
                "502": response("HubRefused"),
                "503": response("Unavailable"),
            },
        },
        "delete": {
            "tags": ["grants"],
            "operationId": "revokeGrant",
            "summary": "Revoke a grant, or leave (remove one's own grant).",
            "description": (
                "Permission manage or higher, or the grantee themself (any permission) removing their"
                " own user grant. 404 when the principal holds no grant. With `rekey=true` (the "
                "container's owner, on the container's own server) the server also gets a new token "
                "and cookie secret, so that nothing a departed edit guest copied still works; the "
                "answer sets the caller's login cookie anew. Under JupyterHub (the owner's server "
                "carries the request to the share service, or the owner calls the service for any of "
                "their servers) the service restarts that server through the Hub's API one second "
                "after answering: the Hub ends the server's `JUPYTERHUB_API_TOKEN` and every Hub "
                "login to it when it stops and gives it a new token when it starts; the answer says "
                "`restarting` (false when the server does not run: its token ended when it stopped). "
                "A Hub that does not let the service restart servers (its role lacks the `servers` "
                "scope) is a 502, and nothing is revoked."
            ),
            "x-permission": "manage",
            "parameters": [
                {
                    "name": "rekey",
                    "in": "query",
                    "required": False,
                    "description": "Also re-key this container (its owner only).",
                    "schema": {"type": "string", "enum": ["true", "false", "1", "0"]},
                }
            ],
            "responses": {
                "200": {
                    "description": "Revoked, and the server re-keyed (under JupyterHub, restarting).",
                    "content": {"application/json": {"schema": schema("Rekeyed")}},
                },
                "204": {"description": "Revoked."},
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "502": response("HubRefused"),
                "503": response("Unavailable"),
            },
        },
    },
    "/{kind}/{id}/grants/{principal}/link": {
        "parameters": [parameter("kind"), parameter("id"), parameter("principal")],
        "post": {
            "tags": ["grants"],
            "operationId": "reissueLink",
            "summary": (
                "Issue a new personal link for a user's grant on this container; the old link stops "
                "working."
            ),
            "description": (
                "Permission manage or higher, on `sessions/current` (or this container's id) in "
                "standalone mode, for a user who holds a grant. The link is shown once: only its hash"
                " is kept. Other resources and group grants answer 400."
            ),
            "x-permission": "manage",
            "responses": {
                "201": {
                    "description": "The new link.",
                    "content": {"application/json": {"schema": schema("NewLink")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "503": response("Unavailable"),
            },
        },
    },
    "/{kind}/{id}/history": {
        "parameters": [parameter("kind"), parameter("id")],
        "get": {
            "tags": ["grants"],
            "operationId": "getHistory",
            "summary": "The history of a resource, oldest first, filtered and as JSON or CSV.",
            "description": (
                "Permission view or higher. The owner and managers read every row; anyone else who "
                "sees the resource reads the rows about themselves: those whose principal is the "
                "caller or one of their groups (their grant shared, changed, revoked, expired, left; "
                "their sign-ins; their requests). Whoever cannot see the resource gets 404. Rows are "
                "kept for `ShareApp.history_days` (`ShareServiceApp.history_days` under JupyterHub). "
                "No row carries a secret: a personal link's sign-in keeps its time and client "
                "address, never the link."
            ),
            "x-permission": "view",
            "parameters": [
                parameter("offset"),
                {
                    "name": "limit",
                    "in": "query",
                    "description": (
                        "Page size, 1 to 1000 (default 100); with `format=csv` and no limit, every matching "
                        "row (up to 100000). An empty value is the same as none."
                    ),
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                },
                {
                    "name": "person",
                    "in": "query",
                    "description": (
                        "Only rows whose actor or principal is this person: `bob` or `user:bob` (actor or "
                        "principal), `group:NAME` (principal). Repeatable or comma-separated, at most 20."
                    ),
                    "style": "form",
                    "explode": True,
                    "schema": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "pattern": _list_of(PRINCIPAL_PATTERN),
                        },
                    },
                },
                {
                    "name": "action",
                    "in": "query",
                    "description": "Only rows of these kinds of event. Repeatable or comma-separated, at most 20.",
                    "style": "form",
                    "explode": True,
                    "schema": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "pattern": _list_of("^(?:" + "|".join(HISTORY_ACTIONS) + ")$"),
                        },
                    },
                },
                {
                    "name": "format",
                    "in": "query",
                    "description": (
                        "json (the default): a page of rows; csv: a `history.csv` attachment with a header "
                        "row and the columns at, actor, action, principal, permission, address. An empty "
                        "value is the same as none."
                    ),
                    "schema": {"type": "string", "enum": list(HISTORY_FORMATS), "default": "json"},
                },
            ],
            "responses": {
                "200": {
                    "description": "One page of history entries, or the CSV export.",
                    "content": {
                        "application/json": {"schema": schema("HistoryPage")},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "404": response("NotFound"),
                "503": response("Unavailable"),
            },
        },
    },
    "/sessions/{id}/guests": {
        "parameters": [parameter("id")],
        "get": {
            "tags": ["grants"],
            "operationId": "listGuestsInNow",
            "summary": "Who is in a container now, with what they have open (its owner and managers).",
            "description": (
                "Permission manage or higher (a guest below manage: 403). The guests this container's"
                " server has seen since it started whose access still lives: when they signed in, "
                "their last request and its client address, whether they are in now (a websocket "
                "open, or a request in the last minute), and what they have open: websockets by kind,"
                " kernels and terminals (held open or started by them), and documents (the sessions "
                "of those kernels, and collaboration rooms). Presence lives in the memory of the "
                "container's own server: asked about another container, the answer is 400; under "
                "JupyterHub the share service does not have it either (400). Changes are told as "
                "`jupyter_share/presence` events on the server's event stream."
            ),
            "x-permission": "manage",
            "responses": {
                "200": {
                    "description": "The guests, by name.",
                    "content": {"application/json": {"schema": schema("GuestList")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "503": response("Unavailable"),
            },
        },
    },
}
