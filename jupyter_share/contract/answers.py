"""What the server answers: the REST API's answers as pydantic models.

The serializers (`serialize`) build these answers as plain JSON; the models describe them for
the OpenAPI description (`contract.openapi`), from which the extension's TypeScript types are
generated. tests/test_openapi.py checks every real answer against the description.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..model import HistoryAction
from .bodies import ABSENT, Environment, FormationSpec, ImageSpec, absent

Permission = Literal["view", "edit", "manage"]
KindName = Literal["image", "formation", "session"]
DateTime = Field(json_schema_extra={"format": "date-time"})


class Answer(BaseModel):
    """A JSON object with exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class Error(Answer):
    message: str = Field(description="What went wrong, for a person.")
    reason: str | None = Field(description="The HTTP reason phrase.")
    field: str | None = absent(
        "The input at fault (a body field like `spec.image`, or `principal`, `scope`, ...).",
    )


class GuestOf(Answer):
    """Present when the caller is a guest in someone else's container (signed in by a personal
    link): whose container, with which permission, and until when."""

    owner: str
    permission: Permission
    expires_at: str | None = Field(
        None,
        json_schema_extra={"format": "date-time"},
        description="When the guest's grant ends (null for never).",
    )


class Me(Answer):
    username: str
    display_name: str
    mode: Literal["standalone", "hub"]
    groups: list[str]
    guest: GuestOf = ABSENT
    launched_from: str = absent(
        "Present in a server launched from a formation: `formation:{id}`.",
    )


class Directory(Answer):
    users: list[str]
    groups: list[str]


class Grantee(Answer):
    principal: str = Field(description="`user:NAME` or `group:NAME`.")
    kind: Literal["user", "group"]
    name: str
    permission: Permission


class EnvironmentSummary(Answer):
    """Images only: a summary of the captured environment (null: none captured). In list
    answers the image's `spec` leaves `environment` out: the whole of it comes with
    `GET /images/{id}` or as a file from `/images/{id}/environment`."""

    python: str | None
    packages: int = Field(ge=0, description="How many Python distributions.")
    kernelspecs: int = Field(ge=0)
    captured_at: str | None


class SessionSpec(BaseModel):
    """What the running server reports about itself; kept by the server, read-only."""

    model_config = ConfigDict(extra="allow")

    url: str
    root_dir: str = ABSENT
    hostname: str = ABSENT
    started_at: str = ABSENT
    state: Literal["running", "stopped"] = absent(
        "running from its server's start; stopped when the server stops, or when "
        "another server on its machine finds it gone (ShareApp.liveness_interval).",
    )
    stopped_at: str = absent("When it was recorded as stopped.")
    jupyter_server: str = absent("The jupyter_server version.")
    launched_from: str = absent(
        "Set in a server launched from a formation (`formation:{id}`); such a container can be "
        "stopped (`POST /sessions/{id}/stop`).",
    )


class Resource(Answer):
    id: str
    kind: KindName
    name: str
    description: str
    owner: str
    created_at: str = DateTime
    updated_at: str = DateTime
    spec: ImageSpec | FormationSpec | SessionSpec = Field(
        description="An ImageSpec, a FormationSpec or a SessionSpec, after the kind."
    )
    access: Literal["owner", "manage", "edit", "view"] = Field(
        description="The caller's effective access."
    )
    shared: bool = Field(
        description="Whether anyone holds a live grant (always true for resources shared "
        "with the caller)."
    )
    share_count: int | None = Field(
        ge=0,
        description="How many live grants it has; null where the caller may not list grants "
        "(below manage).",
    )
    shared_at: str = absent(
        format="date-time",
        description="Only for resources shared with the caller; when the caller's first live "
        "grant was made.",
    )
    expires_at: str | None = Field(
        None,
        json_schema_extra={"format": "date-time"},
        description="Only for resources shared with the caller; when their access runs out "
        "(null for never).",
    )
    grantees: list[Grantee] | None = Field(
        max_length=20,
        description="Who holds a live grant (users first, by name; at most 20, `share_count` "
        "counts all), where the caller may list grants (owner and manage); else null. The "
        "badge's names: nobody asks per resource.",
    )
    environment: EnvironmentSummary | None = None


class ResourcePage(Answer):
    items: list[Resource]
    total: int = Field(ge=0, description="How many there are in all pages.")


class Grant(Answer):
    principal: str = Field(description="`user:NAME` or `group:NAME`.")
    kind: Literal["user", "group"]
    name: str
    permission: Permission
    granted_by: str
    created_at: str = DateTime
    expires_at: str | None = Field(json_schema_extra={"format": "date-time"})
    link: str = absent(
        "Only in the answer to a share of a standalone session with a user: the "
        "neighbour's personal share link (a secret; shown once).",
    )


class GrantList(Answer):
    items: list[Grant]
    total: int = Field(ge=0)


class AccessRequest(Answer):
    kind: KindName
    resource_id: str
    resource_name: str
    owner: str
    requester: str
    permission: Literal["edit", "manage"] = Field(description="What is asked for.")
    message: str = Field(description="Why (may be empty).")
    created_at: str = DateTime
    holds: Permission | None = Field(
        description="What the requester holds now (null when they no longer have access; "
        "manage when given it meanwhile)."
    )


class AccessRequestList(Answer):
    items: list[AccessRequest]
    total: int = Field(ge=0)


class HistoryEntry(Answer):
    at: str = DateTime
    actor: str = Field(description='Who made the change ("system" for an expiry).')
    action: HistoryAction = Field(
        description="ask, approve, deny, withdraw: a request for more (the principal asked, "
        "its permission is the one asked for); approving also changes the grant (its own row). "
        "relink: a new personal link was issued (a new user grant on a standalone container "
        "issues its first with the share). signin: the principal opened their personal link "
        "(with the client address)."
    )
    principal: str | None = Field(description="For grant changes and requests.")
    permission: Permission | None = Field(description="For grant changes.")
    address: str | None = Field(
        description="For a sign-in by personal link, the client address it came from."
    )


class HistoryPage(Answer):
    items: list[HistoryEntry]
    total: int = Field(ge=0)


class Sockets(Answer):
    """Open websockets by kind."""

    kernel: int = Field(ge=0)
    terminal: int = Field(ge=0)
    document: int = Field(ge=0)
    events: int = Field(ge=0)
    language_server: int = Field(ge=0, alias="language-server")
    other: int = Field(ge=0)


class GuestPresence(Answer):
    username: str
    permission: Permission
    in_now: bool = Field(description="A websocket open, or a request in the last minute.")
    signed_in_at: str = Field(
        json_schema_extra={"format": "date-time"},
        description="When they opened their link, or first came in since the server started.",
    )
    last_active_at: str = Field(
        json_schema_extra={"format": "date-time"}, description="Their last request."
    )
    address: str = Field(description="The client address of their last request.")
    sockets: Sockets
    kernels: list[str] = Field(
        description="Ids of kernels whose channels they hold open, or that they started and "
        "still run."
    )
    terminals: list[str] = Field(
        description="Names of terminals they hold open, or started and still run."
    )
    documents: list[str] = Field(
        description="Paths of the notebooks and consoles of their kernels, and documents open "
        "in collaboration rooms."
    )


class GuestList(Answer):
    items: list[GuestPresence]
    total: int = Field(ge=0)


class BuildError(Answer):
    reason: Literal["no_wheel", "no_index", "not_found", "disk", "no_kernel", "error"]
    package: str | None = Field(description="name==version of the package at fault.")
    message: str


class BuildPython(Answer):
    captured: str | None
    used: str
    matches: bool = Field(description="Same major.minor version.")


class BuiltEnvironment(Answer):
    id: str
    image_id: str
    image_name: str
    owner: str = Field(description="The image's owner.")
    kernel_name: str
    display_name: str = Field(description='The kernel as the launcher shows it: "CARET (alice)".')
    state: Literal["building", "ready", "failed", "cancelled"]
    step: Literal["preparing", "resolving", "downloading", "installing", "registering", "done"]
    done: int = Field(description="Packages done in this step.")
    total: int = Field(description="Packages in this step (0 where unknown).")
    message: str = Field(description="What happens now, or why it stopped.")
    error: BuildError | None
    python: BuildPython
    installer: Literal["uv", "pip"]
    packages: int = Field(description="The image's pinned packages.")
    path: str = Field(description="Where the environment is on this machine.")
    built_by: str
    started_at: str
    finished_at: str | None


class PlanPython(Answer):
    captured: str | None
    used: str
    matches: bool
    note: str = Field(description="Which Python the image was captured with and which is used.")


class UsePlan(Answer):
    id: str = Field(description="The environment's id if it is built.")
    image_id: str
    image_name: str
    owner: str
    kernel_name: str
    display_name: str
    packages: int
    requirements: list[str] = Field(description="name==version, as installed.")
    kernel_requirements: list[str] = Field(
        description="What the kernel needs beside them (the image does not pin it)."
    )
    local_only: list[str] = Field(
        description="Packages installed from a local path; the build is refused."
    )
    python: PlanPython
    installer: Literal["uv", "pip"]
    conda: str | None = Field(
        description="What happens with an image captured from conda, said plainly: conda "
        "environments are not built (a virtual environment instead), and whether conda, mamba "
        "or micromamba is on PATH here."
    )
    conda_tool: str | None = Field(
        description="The conda front-end on PATH here (mamba, micromamba or conda), for an "
        "image captured from conda; null otherwise."
    )
    conda_only: list[str] = Field(
        description="The image's conda packages (name=version) no pip requirement covers: not "
        "installed here."
    )
    refusal: str | None = Field(description="Why it cannot be built here.")
    environment: BuiltEnvironment | None = Field(
        description="The environment made from this image version here (a BuiltEnvironment), "
        "or null."
    )


class Rekeyed(Answer):
    rekeyed: bool
    message: str = Field(description="What happened, for the owner to read.")
    restarting: bool = absent(
        "Under JupyterHub only: whether the server is restarting to get its new "
        "token (it is back within seconds; open pages reload). False when it was not running.",
    )


class NewLink(Answer):
    link: str = Field(description="The personal link (a secret).")


class MyRequests(Answer):
    to_decide: list[AccessRequest]
    asked: list[AccessRequest]


class Decision(Answer):
    decision: Literal["approve", "deny"]
    requester: str
    permission: Permission
    grant: Grant = absent(
        "Approved, the requester's grant as it is now (absent when denied).",
    )
    link: str = absent("A new personal link (a secret), shown once.")


class BuiltEnvironmentList(Answer):
    items: list[BuiltEnvironment]
    total: int


class LaunchedFormation(Answer):
    id: str
    name: str
    owner: str


class NotApplied(Answer):
    field: str = Field(examples=["memory"])
    value: Any = Field(description="The formation's value (null for a variable: not shown).")
    reason: str


class Launch(Answer):
    state: Literal["running", "building"]
    name: str = Field(description="The new container's name.")
    formation: LaunchedFormation
    root_dir: str = Field(description="The new server's own folder.")
    start_url: str = Field(description="The formation's start URL, or empty.")
    env: list[str] = Field(description="The formation's variables that are set.")
    refused_env: list[str] = Field(
        description="The formation's variables left out (not on the allow-list)."
    )
    not_applied: list[NotApplied] = Field(
        description="What a local server cannot honour, each with why."
    )
    environment: BuiltEnvironment | None = Field(
        description="The environment made from the image (null for an image without captured "
        "packages)."
    )
    container: Resource | None = Field(
        description="The new container (null while its environment is built)."
    )
    url: str | None = Field(
        description="The new server's address with its token, for its owner (null while building)."
    )


#: Every model the description names, besides the request bodies.
MODELS: list[type[BaseModel]] = [
    BuiltEnvironment,
    UsePlan,
    Error,
    Me,
    Directory,
    Resource,
    Grantee,
    ResourcePage,
    Grant,
    GrantList,
    AccessRequest,
    AccessRequestList,
    HistoryEntry,
    GuestPresence,
    GuestList,
    HistoryPage,
    ImageSpec,
    Environment,
    FormationSpec,
    SessionSpec,
    Rekeyed,
    NewLink,
    MyRequests,
    Decision,
    BuiltEnvironmentList,
    Launch,
]
