"""The operations on requests for more access, by path."""

from __future__ import annotations

from typing import Any

from .common import PRINCIPAL_PATTERN, parameter, response, schema

#: Path template -> its operations, as OpenAPI 3.0 has them.
PATHS: dict[str, Any] = {
    "/requests": {
        "get": {
            "tags": ["requests"],
            "operationId": "myRequests",
            "summary": "The open requests for more that I may decide, and my own open requests.",
            "description": (
                "`to_decide`: the open requests on the resources the caller owns or manages (up to "
                "500, oldest first); `asked`: the caller's own open requests on resources they still "
                "see. Anyone signed in."
            ),
            "x-permission": "signed-in",
            "responses": {
                "200": {
                    "description": "The two lists.",
                    "content": {"application/json": {"schema": schema("MyRequests")}},
                },
                "401": response("NotSignedIn"),
                "503": response("Unavailable"),
            },
        }
    },
    "/{kind}/{id}/requests": {
        "parameters": [parameter("kind"), parameter("id")],
        "get": {
            "tags": ["requests"],
            "operationId": "listRequests",
            "summary": "The open requests for more on a resource (all for its managers, one's own otherwise).",
            "description": (
                "Permission view or higher. The owner and managers get every open request; anyone "
                "else who sees the resource gets their own (none or one)."
            ),
            "x-permission": "view",
            "responses": {
                "200": {
                    "description": "The open requests, oldest first.",
                    "content": {"application/json": {"schema": schema("AccessRequestList")}},
                },
                "401": response("NotSignedIn"),
                "404": response("NotFound"),
                "503": response("Unavailable"),
            },
        },
        "post": {
            "tags": ["requests"],
            "operationId": "askForMore",
            "summary": (
                "Ask the owner and managers for a higher permission (edit or manage), with an "
                "optional message."
            ),
            "description": (
                "Permission view or higher (a resource the caller does not see is a 404). One open "
                "request per person and resource, none from the owner, none for a permission the "
                "caller holds already (409); none above `manage` (400). The owner and managers are "
                "told (an `ask` event) and approve or deny it."
            ),
            "x-permission": "view",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema("AccessRequestCreate")}},
            },
            "responses": {
                "201": {
                    "description": "The open request.",
                    "content": {"application/json": {"schema": schema("AccessRequest")}},
                },
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "404": response("NotFound"),
                "409": response("Conflict"),
                "503": response("Unavailable"),
            },
        },
    },
    "/{kind}/{id}/requests/{requester}": {
        "parameters": [
            parameter("kind"),
            parameter("id"),
            {
                "name": "requester",
                "in": "path",
                "required": True,
                "description": "Who asked: a user name (or `user:NAME`).",
                "schema": {
                    "type": "string",
                    "pattern": PRINCIPAL_PATTERN,
                },
            },
        ],
        "post": {
            "tags": ["requests"],
            "operationId": "decideRequest",
            "summary": "Approve or deny an open request; either closes it.",
            "description": (
                "Permission manage or higher. Approving changes the requester's grant to the "
                "permission asked for through the rules of sharing (a grant of their own, keeping its"
                " expiry; nothing changes when they hold it already): the answer carries the grant, "
                "and, for a new user grant on this container (standalone), its personal link. A "
                "requester who lost access meanwhile cannot be approved (409): deny, or share anew."
            ),
            "x-permission": "manage",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema("DecisionRequest")}},
            },
            "responses": {
                "200": {
                    "description": "Decided.",
                    "content": {"application/json": {"schema": schema("Decision")}},
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
            "tags": ["requests"],
            "operationId": "withdrawRequest",
            "summary": "Withdraw one's own open request.",
            "description": (
                "The requester themself. The owner or a manager naming someone else's request is "
                "refused (403: they approve or deny it instead); anyone else gets 404."
            ),
            "x-permission": "view",
            "responses": {
                "204": {"description": "Withdrawn."},
                "400": response("BadRequest"),
                "401": response("NotSignedIn"),
                "403": response("Forbidden"),
                "404": response("NotFound"),
                "503": response("Unavailable"),
            },
        },
    },
}
