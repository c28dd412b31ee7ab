"""What every operation shares: the head, parameters and error answers (`contract.openapi`)."""

from __future__ import annotations

from typing import Any

from ...model import NAME_PATTERN, Kind
from ..bodies import DEFAULT_LIMIT, MAX_LIMIT

#: `user:NAME`, `group:NAME` or a bare NAME, as `model.Principal.parse` takes them.
PRINCIPAL_PATTERN = "^(?:(?:user|group):)?" + NAME_PATTERN.pattern[1:]


def schema(name: str) -> dict[str, str]:
    """A reference to a model's schema (`contract.openapi` checks that it exists)."""
    return {"$ref": f"#/components/schemas/{name}"}


def response(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def parameter(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


#: The description's head: what the API is, where it is served, how one signs in.
INFO: dict[str, Any] = {
    "info": {
        "title": "jupyter_share REST API",
        "version": "1",
        "description": "Share images, formations and running containers (sessions) with other Jupyter users and\ngroups (docs/architecture.md; the choices in docs/decisions.md). Every Jupyter server with the extension serves this API under\n`{base_url}jupyter-share/api/v1`; the JupyterHub service serves it under\n`/services/share/api/v1`. JSON in and out.\n\nPermissions, from least to most: `view` < `edit` < `manage` < owner.\n- view: see the resource and its spec, launch from an image or formation, open a session read-only.\n- edit: also change its name, description and spec (in a session: run code, write files).\n- manage: also list grants, share and revoke (up to `manage`), read the whole history\n  (below manage, the rows about oneself).\n- owner: also delete it. The owner is never in the grant list.\n\nA caller's permission is the highest of their user grant and their groups' grants that\nhave not expired. A resource the caller may not see answers 404, never 403: existence is\nnot revealed. 401 means not signed in; 403 means the caller sees the resource but holds\ntoo little (or sent a cookie-authenticated request without its XSRF token).\n\nUnder JupyterHub, a guest who opens the owner's container may call `/me` there (as\nthemselves) and nothing else of this API (403): sharing happens on one's own server.\n\nUnder JupyterHub the user's server carries its owner's requests to the share service,\nwhich asks the Hub; if either is down or slow the answer is 503, and if the Hub refuses a\nchange the service made on its sharing API the answer is 502. Each says what failed,\nand nothing is half made: the Hub's share and the grant change together or not at all.\n\nErrors are JSON: `{\"message\", \"reason\", \"field\"?}`; `field` names the offending input when\nthe service knows it. A request from a foreign browser origin is refused by jupyter_server\nwith 404.\n",
    },
    "servers": [
        {
            "url": "/jupyter-share/api/v1",
            "description": "On each Jupyter server, relative to its base_url.",
        },
        {
            "url": "/services/share/api/v1",
            "description": (
                "The JupyterHub share service (named by `configure_jupyterhub`; `share` by default). "
                "It takes JupyterHub API tokens only, no cookies. `sessions/current` there is the "
                "server named by the `X-Jupyter-Share-Server` header, among the caller's own servers."
            ),
        },
    ],
    "security": [{"token": []}, {"cookie": []}],
    "tags": [
        {"name": "identity"},
        {"name": "resources"},
        {"name": "grants"},
        {"name": "requests"},
        {"name": "environments"},
        {"name": "launch"},
    ],
}

#: Routes kept out of `paths`: the event stream and the share service's own.
EXTRA_PATHS: dict[str, Any] = {
    "x-event-stream-paths": {
        "/feed": {
            "get": {
                "tags": ["identity"],
                "operationId": "changeFeed",
                "summary": "The caller's change stream, as server-sent events (`text/event-stream`).",
                "description": (
                    "Every server (and every replica of the JupyterHub share service) watches the store "
                    "(SQLite's data_version, PostgreSQL's LISTEN/NOTIFY) and tells each open stream of "
                    "the changes, made on any server of the store, that concern its user: one `change` "
                    "event per change, its data a JSON object (`id`, `action`, `kind`, `resource_id`, "
                    "`list`: `owned` or `shared-with-me`, `access`: the caller's access now or null when "
                    "it ended; `resource_name` and `owner` while the resource exists; `principal` and "
                    "`permission` only for the caller's own grant or to those who manage the resource; "
                    "`actor` when the caller may know who acted). Nothing about resources the caller does"
                    " not see, never a secret. A comment line every 25 s keeps it open. Guests are "
                    "refused (403). Under JupyterHub, a user server relays its owner's stream from the "
                    "service."
                ),
                "x-permission": "signed-in (not a guest)",
                "responses": {
                    "200": {
                        "description": "The stream: an `: open` comment, then `event: change` and `data:` lines.",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "401": response("NotSignedIn"),
                    "403": {"description": "A guest, or a token that may not use the share API."},
                    "503": response("Unavailable"),
                },
            }
        }
    },
    "x-service-only-paths": {
        "/sessions/current/access/{user}": {
            "get": {
                "tags": ["sessions"],
                "operationId": "guestAccess",
                "summary": "What a user may do in the caller's own server now (the owner's server asks it).",
                "description": (
                    "The share service only. The owner's server asks it (with its own "
                    "`JUPYTERHUB_API_TOKEN`, which acts as its owner) before letting anyone else in, and "
                    "again every `guest_check_interval` seconds for the guests it holds. The service "
                    "decides from the live grants, the user's groups as the Hub says them now (kept "
                    "`membership_cache_seconds`, never the groups in the Hub's answer about the user's "
                    "token) and whether the Hub still shares the server with them. The server is the "
                    "caller's own, named by the `X-Jupyter-Share-Server` header (required)."
                ),
                "x-permission": "owner",
                "parameters": [
                    {
                        "name": "user",
                        "in": "path",
                        "required": True,
                        "description": "The Hub user asked about (URL-quoted).",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    },
                    {
                        "name": "X-Jupyter-Share-Server",
                        "in": "header",
                        "required": True,
                        "description": "The caller's server (URL-quoted name; empty for the default server).",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": (
                            "The user's access: `owner` for the caller themself, a permission, or null for none "
                            "(refused)."
                        ),
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["user", "access"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "user": {"type": "string"},
                                        "access": {
                                            "type": "string",
                                            "nullable": True,
                                            "enum": ["view", "edit", "manage", "owner", None],
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "400": response("BadRequest"),
                    "401": response("NotSignedIn"),
                    "403": response("Forbidden"),
                    "404": response("NotFound"),
                    "503": response("Unavailable"),
                },
            }
        }
    },
}

#: How one signs in.
SECURITY_SCHEMES: dict[str, Any] = {
    "token": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "The server's (or the Hub's) API token: `Authorization: token TOKEN`.",
    },
    "cookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "username-HOST-PORT",
        "description": (
            "jupyter_server's login cookie (its name is derived from the server's host and port)."
            " Requests other than GET must also send the `_xsrf` cookie's value in an "
            "`X-XSRFToken` header, or they are refused with 403."
        ),
    },
}

#: Path and query parameters shared by operations.
PARAMETERS: dict[str, Any] = {
    "kind": {
        "name": "kind",
        "in": "path",
        "required": True,
        "description": "The kind of resource, plural.",
        "schema": {"type": "string", "enum": [k.plural for k in Kind]},
    },
    "id": {
        "name": "id",
        "in": "path",
        "required": True,
        "description": (
            "The resource's id; for sessions, `current` is this container. At the share service, "
            "`current` is the caller's server named in the `X-Jupyter-Share-Server` header "
            "(URL-encoded; empty for the default server), which user servers send."
        ),
        "schema": {"type": "string", "minLength": 1},
    },
    "principal": {
        "name": "principal",
        "in": "path",
        "required": True,
        "description": (
            "Who: `user:NAME`, `group:NAME`, or a bare NAME for a user (URL-encode the colon if "
            "you like)."
        ),
        "schema": {
            "type": "string",
            "pattern": PRINCIPAL_PATTERN,
        },
    },
    "env": {
        "name": "env",
        "in": "path",
        "required": True,
        "description": "An environment's id (the image id and a hash of what it installs).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 256},
    },
    "offset": {
        "name": "offset",
        "in": "query",
        "description": "How many items to skip. An empty value is the same as none.",
        "schema": {"type": "integer", "minimum": 0, "maximum": 4611686018427387904, "default": 0},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "description": "At most this many items. An empty value is the same as none.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
}

#: Answers shared by operations (the errors).
RESPONSES: dict[str, Any] = {
    "BadRequest": {
        "description": (
            "Bad input: an unknown field, a bad value or permission or principal, an expiry in "
            'the past, over a size limit, an unknown user or group (with a "did you mean" hint), '
            "or a body that is not JSON."
        ),
        "content": {"application/json": {"schema": schema("Error")}},
    },
    "NotSignedIn": {
        "description": "Not signed in (no token, no valid login cookie).",
        "content": {"application/json": {"schema": schema("Error")}},
    },
    "Forbidden": {
        "description": (
            "The caller sees the resource but holds too little permission for this (or sent a "
            "cookie request without its XSRF token)."
        ),
        "content": {"application/json": {"schema": schema("Error")}},
    },
    "NotFound": {
        "description": "No such resource, or the caller may not see it (existence is not revealed).",
        "content": {"application/json": {"schema": schema("Error")}},
    },
    "HubRefused": {
        "description": (
            "Under JupyterHub: the Hub refused a change the share service made on its sharing "
            "API. Nothing was changed."
        ),
        "content": {"application/json": {"schema": schema("Error")}},
    },
    "Unavailable": {
        "description": (
            "Under JupyterHub: the share service, or the Hub behind it, is down or did not answer"
            " in time. Nothing was changed; try again."
        ),
        "content": {"application/json": {"schema": schema("Error")}},
    },
    "Conflict": {
        "description": (
            "A conflict: the owner already has a resource of this kind with this name, or a share"
            " with the owner or with oneself; a request for more from the owner, for a permission"
            " held already, or while one's request is open; approving the request of someone who "
            "lost access."
        ),
        "content": {"application/json": {"schema": schema("Error")}},
    },
}
