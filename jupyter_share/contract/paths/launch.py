"""The operations that launch a formation as a server on this machine, and stop it."""

from __future__ import annotations

from typing import Any

from .common import parameter, response, schema

#: Path template -> its operations, as OpenAPI 3.0 has them.
PATHS: dict[str, Any] = {
    "/formations/{id}/launch": {
        "parameters": [parameter("id")],
        "post": {
            "tags": ["launch"],
            "operationId": "launchFormation",
            "summary": "Launch a formation as a new Jupyter server of the caller's on this machine.",
            "description": (
                "Permission view or higher on the formation (who sees a formation may launch it), "
                "and on its image when it names one by id (an image not shared with the caller: "
                "403). The server answering starts a new server for its owner (a guest gets 403): "
                "this Python, with the image's environment as its default kernel (built first when "
                "the image has captured packages; a built environment is reused), the formation's "
                "environment variables that `c.FormationEnvironment.allowed` permits, its start "
                "URL, its own port, token and folder, and the same store: it is listed at once as "
                "the caller's own container. 201 when it runs; 202 while the environment is built "
                "(it starts when the build ends). `not_applied` names every field a local server "
                "cannot honour (CPU, memory, GPU, storage, a container image reference, variables "
                "not on the allow-list). 409 for a container name in use; 502 when the new server "
                "did not start. Under JupyterHub a formation is launched through the Hub's spawner "
                "(400 here)."
            ),
            "x-permission": "view",
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": schema("LaunchRequest")}},
            },
            "responses": {
                "201": {
                    "description": "The new server runs.",
                    "content": {"application/json": {"schema": schema("Launch")}},
                },
                "202": {
                    "description": "The image's environment is being built; the server starts "
                    "when it is ready.",
                    "content": {"application/json": {"schema": schema("Launch")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "409": response("Conflict"),
                "502": {
                    "description": "The new server did not start (the message has the end of "
                    "its log).",
                    "content": {"application/json": {"schema": schema("Error")}},
                },
            },
        },
    },
    "/sessions/{id}/stop": {
        "parameters": [parameter("id")],
        "post": {
            "tags": ["launch"],
            "operationId": "stopContainer",
            "summary": "Stop a container that the server answering launched (its owner only).",
            "description": (
                "Owner only (another user who sees it: 403). Stops the server and everything it "
                "started (kernels, terminals); the container shows as stopped, with its grants "
                "kept. 409 when the server answering did not launch it, or it is stopped already. "
                "A guest gets 403."
            ),
            "x-permission": "owner",
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": schema("StopRequest")}},
            },
            "responses": {
                "200": {
                    "description": "The container, stopped.",
                    "content": {"application/json": {"schema": schema("Resource")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "409": response("Conflict"),
            },
        },
    },
}
