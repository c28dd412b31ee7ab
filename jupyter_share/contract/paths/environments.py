"""The operations on environments built from images, by path."""

from __future__ import annotations

from typing import Any

from .common import parameter, response, schema

#: Path template -> its operations, as OpenAPI 3.0 has them.
PATHS: dict[str, Any] = {
    "/images/{id}/use": {
        "parameters": [parameter("id")],
        "get": {
            "tags": ["environments"],
            "operationId": "planImageUse",
            "summary": "What using an image in this container would build, before anything is built.",
            "description": (
                "Permission view or higher (who sees an image may use it). Answers the pinned "
                "packages, the Python the image was captured with and the one that will be used, the "
                "installer, the kernel's name, any refusal (packages installed from a local path), "
                "and the environment already made from this image version, if any. Only the owner of "
                "the container answering (a guest gets 403). 400 for an image without captured "
                "packages. Under JupyterHub the user's own server answers this and the other "
                "environment paths (it builds in its own container and reads the image through the "
                "share service; 503 when the service cannot be reached); the share service itself "
                "answers 400."
            ),
            "x-permission": "view",
            "responses": {
                "200": {
                    "description": "The plan.",
                    "content": {"application/json": {"schema": schema("UsePlan")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "503": response("Unavailable"),
            },
        },
        "post": {
            "tags": ["environments"],
            "operationId": "useImage",
            "summary": "Build an environment and a kernel in this container from an image's packages.",
            "description": (
                "Permission view or higher. Starts a build (202) in the container answering, for its "
                "owner; an image version that is built, or being built, answers its environment "
                "(200): nothing is built twice. Progress: GET /environments/{env}, and the server's "
                "event stream (schema https://events.jupyter.org/jupyter_share/environment/v1). 400 "
                "when the image cannot be built here (no captured packages, a package installed from "
                "a local path: named in the message); guests get 403."
            ),
            "x-permission": "view",
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": schema("UseImageRequest")}},
            },
            "responses": {
                "200": {
                    "description": "Built already, or being built.",
                    "content": {"application/json": {"schema": schema("BuiltEnvironment")}},
                },
                "202": {
                    "description": "The build started.",
                    "headers": {
                        "Location": {
                            "description": "The environment's URL, to follow its progress.",
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {"application/json": {"schema": schema("BuiltEnvironment")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "503": response("Unavailable"),
            },
        },
    },
    "/environments": {
        "get": {
            "tags": ["environments"],
            "operationId": "listEnvironments",
            "x-permission": "owner",
            "summary": "The environments made from images in this container, by the caller.",
            "description": "Ready ones, and builds of this server's run (building, failed, cancelled).",
            "responses": {
                "200": {
                    "description": "The environments, newest first.",
                    "content": {"application/json": {"schema": schema("BuiltEnvironmentList")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
            },
        }
    },
    "/environments/{env}": {
        "parameters": [parameter("env")],
        "get": {
            "tags": ["environments"],
            "operationId": "getEnvironment",
            "x-permission": "owner",
            "summary": "An environment and its build's progress.",
            "responses": {
                "200": {
                    "description": "The environment.",
                    "content": {"application/json": {"schema": schema("BuiltEnvironment")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
            },
        },
        "delete": {
            "tags": ["environments"],
            "operationId": "removeEnvironment",
            "x-permission": "owner",
            "summary": "Remove an environment and its kernelspec together (a build is cancelled first).",
            "responses": {
                "204": {"description": "Removed."},
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
            },
        },
    },
    "/environments/{env}/cancel": {
        "parameters": [parameter("env")],
        "post": {
            "tags": ["environments"],
            "operationId": "cancelEnvironment",
            "x-permission": "owner",
            "summary": "Stop a build; what it made is removed before the answer.",
            "responses": {
                "200": {
                    "description": "The environment, cancelled.",
                    "content": {"application/json": {"schema": schema("BuiltEnvironment")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "409": {
                    "description": "The environment is not being built (ready, failed or cancelled).",
                    "content": {"application/json": {"schema": schema("Error")}},
                },
            },
        },
    },
    "/environments/{env}/log": {
        "parameters": [parameter("env")],
        "get": {
            "tags": ["environments"],
            "operationId": "getEnvironmentLog",
            "x-permission": "owner",
            "summary": "The build's log (every command and every line the installers printed).",
            "responses": {
                "200": {
                    "description": "The log, as text.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
            },
        },
    },
}
