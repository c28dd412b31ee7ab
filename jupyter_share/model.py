"""Plain data of jupyter_share: kinds, permissions, principals, resources, grants, errors.

No I/O here; every other layer speaks in these types.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Generic, Literal, TypeVar, get_args


class Kind(str, enum.Enum):
    IMAGE = "image"
    FORMATION = "formation"
    SESSION = "session"

    @property
    def plural(self) -> str:
        return self.value + "s"

    @property
    def noun(self) -> str:
        """What people call it: a session is the container they work in."""
        return "container" if self is Kind.SESSION else self.value

    @classmethod
    def parse(cls, text: Any) -> Kind:
        """A kind as people write it, singular or plural (`image`, `images`): the one parser
        of the API's parameters, the CLI and the Python client."""
        for kind in cls:
            if text in (kind.value, kind.plural):
                return kind
        raise InvalidInput(
            f"unknown kind {text!r}: use images, formations or sessions", field="kind"
        )

    @classmethod
    def from_plural(cls, plural: str) -> Kind:
        """A kind in an API path, which names it in the plural only."""
        for kind in cls:
            if kind.plural == plural:
                return kind
        raise InvalidInput(
            f"unknown kind {plural!r}: use images, formations or sessions", field="kind"
        )


class Permission(enum.IntEnum):
    """What a grant allows; the order is the order of power."""

    VIEW = 1
    EDIT = 2
    MANAGE = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: Any) -> Permission:
        if isinstance(value, str):
            for perm in cls:
                if perm.label == value:
                    return perm
        if value == "owner":
            raise InvalidInput("nobody can be granted more than 'manage'", field="permission")
        raise InvalidInput(
            f"unknown permission {value!r}: use view, edit or manage", field="permission"
        )


#: The access level of a resource's owner: above every grant.
OWNER = "owner"


class PrincipalType(str, enum.Enum):
    USER = "user"
    GROUP = "group"


# User and group names as JupyterHub and most authenticators produce them.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._@+\-]{0,127}$")


@dataclass(frozen=True, order=True)
class Principal:
    """Who receives access: a user or a group."""

    type: PrincipalType
    name: str

    @classmethod
    def parse(cls, text: Any) -> Principal:
        """`user:NAME`, `group:NAME`, or a bare NAME for a user."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(
                "principal must be 'user:NAME', 'group:NAME' or NAME", field="principal"
            )
        text = text.strip()
        prefix, sep, name = text.partition(":")
        if not sep:
            ptype, name = PrincipalType.USER, text
        else:
            try:
                ptype = PrincipalType(prefix)
            except ValueError:
                raise InvalidInput(
                    f"malformed principal {text!r}: the prefix must be 'user:' or 'group:'",
                    field="principal",
                ) from None
        if not NAME_PATTERN.match(name):
            raise InvalidInput(f"malformed principal {text!r}: not a valid name", field="principal")
        return cls(ptype, name)

    @classmethod
    def user(cls, name: str) -> Principal:
        return cls(PrincipalType.USER, name)

    @classmethod
    def group(cls, name: str) -> Principal:
        return cls(PrincipalType.GROUP, name)

    def __str__(self) -> str:
        return f"{self.type.value}:{self.name}"


#: What a resource id can look like; anything else cannot exist, and is not looked up.
RESOURCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

#: The ids this version makes (`new_resource_id`): 16 hex digits. A value of this shape that
#: is not found names a resource the caller cannot see, not something else.
NEW_RESOURCE_ID = re.compile(r"^[0-9a-f]{16}$")


def is_resource_id(value: object) -> bool:
    return RESOURCE_ID.match(str(value)) is not None


def new_resource_id() -> str:
    return secrets.token_hex(8)


@dataclass
class Resource:
    id: str
    kind: Kind
    name: str
    owner: str
    description: str = ""
    spec: dict[str, Any] = field(default_factory=dict)  # JSON, checked by contract/bodies.py
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Grant:
    resource_id: str
    principal: Principal
    permission: Permission
    granted_by: str
    created_at: datetime
    expires_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass
class Link:
    """A personal link to a container: it signs one grantee in. Only the secret's hash is kept."""

    id: str
    resource_id: str
    username: str
    secret_hash: str
    created_by: str
    created_at: datetime


@dataclass
class AccessRequest:
    """An open request of a user for a higher permission on a resource (one per user and
    resource); closed (approved, denied, withdrawn) requests live on in the history only."""

    resource_id: str
    requester: str
    permission: Permission
    message: str
    created_at: datetime


@dataclass
class RequestView:
    """A request as a list shows it: with its resource and what the requester holds now."""

    request: AccessRequest
    resource: Resource
    #: The requester's access when the list was read ("view", "edit"; None: none any more).
    holds: str | None = None


@dataclass
class ResourceView:
    """A resource as one caller sees it: with their access and its sharing state."""

    resource: Resource
    access: str  # "owner" or a Permission label
    shared: bool
    share_count: int | None  # None where the caller may not list grants
    shared_at: datetime | None = None  # for resources shared with the caller
    expires_at: datetime | None = None
    #: Who holds access (the first few live grants), where the caller may list grants.
    grantees: list[Grant] | None = None


@dataclass
class AuditEntry:
    resource_id: str
    at: datetime
    actor: str
    action: str
    principal: str | None = None
    permission: str | None = None
    kind: Kind | None = None
    #: A sign-in by personal link: the client address it came from.
    address: str | None = None


#: What a history row can say happened (the `action` of an `AuditEntry`); the contract's
#: answers name the same type.
HistoryAction = Literal[
    "create",
    "start",
    "stop",
    "update",
    "delete",
    "share",
    "change",
    "revoke",
    "leave",
    "expire",
    "relink",
    "signin",
    "ask",
    "approve",
    "deny",
    "withdraw",
]
HISTORY_ACTIONS: tuple[str, ...] = get_args(HistoryAction)


_Item = TypeVar("_Item")


@dataclass
class Page(Generic[_Item]):
    items: list[_Item]
    total: int


def utcnow() -> datetime:
    """Now, as a naive UTC datetime: the form the store keeps."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


# -- errors: the service raises these; each surface maps them to its own form -----------


class ShareError(Exception):
    """A refusal with a message for the user. `status` is its HTTP equivalent (None: no answer
    came, on the client's side), `field` the input at fault when one is named. The server
    raises these, and the Python client (`jupyter_share.client`) raises the same classes for
    the server's answers, so one `except NotFound` serves both."""

    status: int | None = 400
    reason: str | None = "Bad Request"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        status: int | None = None,
        reason: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        return self.message


class InvalidInput(ShareError):
    status = 400
    reason = "Bad Request"


class NotFound(ShareError):
    status = 404
    reason = "Not Found"


class Forbidden(ShareError):
    status = 403
    reason = "Forbidden"


class Conflict(ShareError):
    status = 409
    reason = "Conflict"


class HubUnavailable(ShareError):
    """JupyterHub (or the share service) did not answer, or answered too slowly."""

    status = 503
    reason = "Service Unavailable"


class HubRefused(ShareError):
    """JupyterHub answered a call made on the caller's behalf with an error."""

    status = 502
    reason = "Bad Gateway"
