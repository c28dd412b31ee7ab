"""The operations on the caller and on resources, by path (`contract.openapi`)."""

from __future__ import annotations

from typing import Any

from ...model import Kind
from ...service import SCOPES
from .common import parameter, response, schema

#: Path template -> its operations, as OpenAPI 3.0 has them.
PATHS: dict[str, Any] = {
    "/me": {
        "get": {
            "tags": ["identity"],
            "operationId": "getMe",
            "summary": "Who the caller is, the server's mode, and the caller's groups.",
            "description": "Anyone signed in.",
            "x-permission": "signed-in",
            "responses": {
                "200": {
                    "description": "The caller.",
                    "content": {"application/json": {"schema": schema("Me")}},
                },
                "401": response("NotSignedIn"),
                "503": response("Unavailable"),
            },
        }
    },
    "/directory": {
        "get": {
            "tags": ["identity"],
            "operationId": "searchDirectory",
            "summary": "User and group names that start with a prefix, for the user picker.",
            "description": "Anyone signed in. At most 20 users and 20 groups, sorted.",
            "x-permission": "signed-in",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "description": "The prefix to look for (empty or absent lists the first names).",
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": {
                    "description": "Matching names.",
                    "content": {"application/json": {"schema": schema("Directory")}},
                },
                "401": response("NotSignedIn"),
                "503": response("Unavailable"),
            },
        }
    },
    "/shared-with-me": {
        "get": {
            "tags": ["resources"],
            "operationId": "listSharedWithMe",
            "summary": "Resources of every kind that others shared with the caller.",
            "description": (
                "Anyone signed in. Newest first. Each item carries `owner`, `access`, `shared_at` and"
                " `expires_at` (the expiry of the grant that gives the caller their access; null for "
                "none)."
            ),
            "x-permission": "signed-in",
            "parameters": [
                {
                    "name": "kind",
                    "in": "query",
                    "description": "Only this kind (singular or plural). An empty value is the same as none.",
                    "schema": {
                        "type": "string",
                        "enum": [k.value for k in Kind] + [k.plural for k in Kind],
                    },
                },
                parameter("offset"),
                parameter("limit"),
            ],
            "responses": {
                "200": {
                    "description": "One page of resources shared with the caller.",
                    "content": {"application/json": {"schema": schema("ResourcePage")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "502": response("HubRefused"),
                "503": response("Unavailable"),
            },
        }
    },
    "/{kind}": {
        "parameters": [parameter("kind")],
        "get": {
            "tags": ["resources"],
            "operationId": "listResources",
            "summary": "The caller's own resources of one kind and those shared with them.",
            "description": (
                "Anyone signed in. Newest first. Owned ones carry `shared` and `share_count`; shared "
                "ones also carry `shared_at` and `expires_at`."
            ),
            "x-permission": "signed-in",
            "parameters": [
                {
                    "name": "scope",
                    "in": "query",
                    "description": (
                        "owned: the caller's own; shared: shared with the caller; all: both. An empty value "
                        "is the same as none."
                    ),
                    "schema": {
                        "type": "string",
                        "enum": list(SCOPES),
                        "default": "all",
                    },
                },
                parameter("offset"),
                parameter("limit"),
            ],
            "responses": {
                "200": {
                    "description": "One page of resources.",
                    "content": {"application/json": {"schema": schema("ResourcePage")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "502": response("HubRefused"),
                "503": response("Unavailable"),
            },
        },
        "post": {
            "tags": ["resources"],
            "operationId": "createResource",
            "summary": "Create an image or a formation owned by the caller.",
            "description": (
                'Anyone signed in. Images need `spec.reference` or `"capture": true` (capture records'
                " this container's Python, packages, conda environment and kernelspecs in "
                "`spec.environment`). Sessions are the running servers and cannot be created (405). A"
                " name is unique per owner and kind (409)."
            ),
            "x-permission": "signed-in",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"oneOf": [schema("ImageCreate"), schema("FormationCreate")]}
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "The new resource.",
                    "headers": {
                        "Location": {
                            "description": "The path of the new resource.",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {"application/json": {"schema": schema("Resource")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "405": {
                    "description": "`sessions`: sessions are the running servers; they are not created by hand.",
                    "content": {"application/json": {"schema": schema("Error")}},
                },
                "409": response("Conflict"),
                "503": response("Unavailable"),
            },
        },
    },
    "/{kind}/{id}": {
        "parameters": [parameter("kind"), parameter("id")],
        "get": {
            "tags": ["resources"],
            "operationId": "getResource",
            "summary": "One resource, with the caller's access to it.",
            "description": "Permission view or higher. `sessions/current` is this container.",
            "x-permission": "view",
            "responses": {
                "200": {
                    "description": "The resource.",
                    "content": {"application/json": {"schema": schema("Resource")}},
                },
                "401": response("NotSignedIn"),
                "404": response("NotFound"),
                "502": response("HubRefused"),
                "503": response("Unavailable"),
            },
        },
        "patch": {
            "tags": ["resources"],
            "operationId": "updateResource",
            "summary": "Change a resource's name, description or spec.",
            "description": (
                "Permission edit or higher. Only the fields sent change; a session's spec is kept by "
                "its server and cannot be sent."
            ),
            "x-permission": "edit",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema("ResourceUpdate")}},
            },
            "responses": {
                "200": {
                    "description": "The changed resource.",
                    "content": {"application/json": {"schema": schema("Resource")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "409": response("Conflict"),
                "503": response("Unavailable"),
            },
        },
        "delete": {
            "tags": ["resources"],
            "operationId": "deleteResource",
            "summary": "Delete a resource and every grant on it.",
            "description": "Owner only.",
            "x-permission": "owner",
            "responses": {
                "204": {"description": "Deleted."},
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "502": response("HubRefused"),
                "503": response("Unavailable"),
            },
        },
    },
    "/images/{id}/environment": {
        "parameters": [parameter("id")],
        "get": {
            "tags": ["resources"],
            "operationId": "getImageEnvironment",
            "summary": "An image's captured environment as a requirements.txt or environment.yml file.",
            "description": "Permission view or higher. 404 also when the image has no captured environment.",
            "x-permission": "view",
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "description": (
                        "requirements: a pip requirements.txt; conda: a conda environment.yml. An empty value"
                        " is the same as none."
                    ),
                    "schema": {
                        "type": "string",
                        "enum": ["requirements", "conda"],
                        "default": "requirements",
                    },
                }
            ],
            "responses": {
                "200": {
                    "description": "The file, as an attachment.",
                    "headers": {
                        "Content-Disposition": {
                            "description": 'attachment; filename="requirements.txt" or "environment.yml".',
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {
                        "text/plain": {"schema": {"type": "string"}},
                        "application/x-yaml": {"schema": {"type": "string"}},
                    },
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "404": response("NotFound"),
                "503": response("Unavailable"),
            },
        },
    },
}
