"""The rules of sharing (docs/architecture.md, "The rules"): the only place that decides who may
do what.

Surfaces (REST handlers, CLI, hub service) call one method per request with the acting user
name and what the client sent; the service validates, checks rights, writes through the store
(change and audit row together) and emits one event per change. Refusals are `ShareError`s.
"""

from __future__ import annotations

import builtins
import difflib
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypedDict, cast

from . import liveness, specs
from .directory import Directory
from .model import (
    HISTORY_ACTIONS,
    OWNER,
    AccessRequest,
    AuditEntry,
    Conflict,
    Forbidden,
    Grant,
    InvalidInput,
    Kind,
    NotFound,
    Page,
    Permission,
    Principal,
    PrincipalType,
    RequestView,
    Resource,
    ResourceView,
    ShareError,
    utcnow,
)
from .sessions import new_link
from .store import ShareStore

log = logging.getLogger(__name__)

#: Called once per change with the event's data (see events/change.yaml).
EventSink = Callable[[dict[str, str | None]], None]

SCOPES = ("owned", "shared", "all")

# What a resource id can look like; anything else cannot exist, and is not looked up.
_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class Containers(Protocol):
    """Under JupyterHub, the Hub's servers and sharing API, as the rules use them
    (hub.containers.HubContainers); standalone there is none: the container is the server
    answering, opened by personal links."""

    def label(self, server_name: str) -> str: ...

    def servers_of(self, owner: str, fresh: bool = False) -> dict[str, dict[str, Any]]: ...

    def members(self, group: str) -> set[str]: ...

    def wanted(self, resource: Resource, principals: Iterable[Principal]) -> set[Principal]: ...

    def sync(
        self,
        resource: Resource,
        principals: Iterable[Principal],
        current: set[Principal] | None = None,
    ) -> Callable[[], None]: ...

    def share_with_user(self, resource: Resource, user: str) -> None: ...

    def unshare_user(self, resource: Resource, user: str) -> None: ...

    def shares_of(self, resource: Resource, recent: bool = False) -> set[Principal]: ...

    def dated_shares_of(self, resource: Resource) -> dict[Principal, datetime | None]: ...

    def shared_with(self, user: str) -> list[tuple[str, str, dict[str, Any], datetime | None]]: ...

    def forget_shares(self) -> None: ...


class Me(TypedDict):
    username: str
    groups: list[str]


class DirectoryMatches(TypedDict):
    users: list[str]
    groups: list[str]


@dataclass
class ShareResult:
    grant: Grant
    created: bool
    #: A new personal link's token (shown once), for a new user grant on this container.
    link_token: str | None = None
    #: The grant was there already with this permission and expiry: nothing changed.
    unchanged: bool = False


#: The longest message that may come with a request for more.
MAX_REQUEST_MESSAGE = 1000

#: How many requests one list answers (they are few: each is one person waiting).
MAX_REQUESTS_LISTED = 500

DECISIONS = ("approve", "deny")

#: How many grantees a list shows per resource (the badge's names; `share_count` counts all).
MAX_GRANTEES_LISTED = 20

#: The formats the history is answered in (`GET …/history?format=`).
HISTORY_FORMATS = ("json", "csv")

#: The most rows one history export (`format=csv` without `limit`) carries.
MAX_HISTORY_EXPORT = 100_000

#: The most people or actions one history query filters by.
MAX_HISTORY_FILTERS = 20

#: The longest client address kept with a sign-in.
MAX_ADDRESS = 64


@dataclass
class Decision:
    request: AccessRequest
    decision: str  # "approve" or "deny"
    #: Approving: the grant as it is now (changed, made, or left as it was when the requester
    #: held the permission already).
    share: ShareResult | None = None


def _rank(access: str | None) -> int:
    """Order access levels: none < view < edit < manage < owner."""
    if access is None:
        return 0
    if access == OWNER:
        return len(Permission) + 1
    return int(Permission.parse(access))


def usable_image(resource: Resource) -> Resource:
    """The image, if it has packages to build an environment from (the rule of
    `ShareService.image_to_use`, also applied by a Hub user server to the image the share
    service let its owner read)."""
    if not (resource.spec.get("environment") or {}).get("packages"):
        raise InvalidInput(
            f"image {resource.name!r} has no captured packages: it runs where its "
            "container image reference runs",
            field="spec.environment",
        )
    return resource


class ShareService:
    def __init__(
        self,
        store: ShareStore,
        directory: Directory,
        emit: EventSink | None = None,
        capture_environment: Callable[[], dict[str, Any]] | None = None,
        clock: Callable[[], datetime] = utcnow,
        containers: Containers | None = None,
        history_retention: timedelta | None = None,
    ):
        self.store = store
        #: How long history rows are kept (`purge_history`); None: for ever.
        self.history_retention = history_retention
        self.directory = directory
        #: Under JupyterHub, the Hub's servers and sharing API (hub.containers.HubContainers);
        #: standalone, None: the container is the server answering, opened by personal links.
        self.containers = containers
        self.emit = emit or (lambda data: None)
        self.capture_environment = capture_environment
        self.clock = clock

    # -- who the caller is ------------------------------------------------------------------

    def principals_of(self, user: str) -> list[Principal]:
        return [Principal.user(user)] + [Principal.group(g) for g in self.directory.groups_of(user)]

    def me(self, user: str) -> Me:
        return {"username": user, "groups": sorted(self.directory.groups_of(user))}

    def my_grant(self, user: str, kind: Kind, resource_id: str) -> Grant | None:
        """The caller's own live user grant on a resource (anyone may see their own), or None."""
        return self.store.get_grant(resource_id, Principal.user(user), self.clock())

    def search_directory(self, user: str, query: Any) -> DirectoryMatches:
        if query is not None and not isinstance(query, str):
            raise InvalidInput("q must be a string", field="q")
        specs.no_nul(query, "q")
        users, groups = self.directory.search((query or "").strip(), limit=20)
        return {"users": users, "groups": groups}

    # -- access ---------------------------------------------------------------------------

    def access_of(self, user: str, resource: Resource, now: datetime | None = None) -> str | None:
        """The caller's effective access: "owner", a permission label, or None."""
        if resource.owner == user:
            return OWNER
        held = self.store.grants_for_principals(
            [resource.id], self.principals_of(user), now or self.clock()
        )
        best = max((g.permission for g in held.get(resource.id, [])), default=None)
        return best.label if best else None

    def _resolve(self, user: str, kind: Kind, resource_id: str, need: str) -> tuple[Resource, str]:
        """The resource if the caller holds at least `need`: 404 if they cannot see it, 403 if
        they see it but hold less."""
        resource = self.store.get_resource(resource_id) if _ID.match(str(resource_id)) else None
        access = self.access_of(user, resource) if resource and resource.kind == kind else None
        if resource is None or access is None:
            raise NotFound(f"no {kind.noun} {resource_id!r}")
        if _rank(access) < _rank(need):
            needed = "its owner" if need == OWNER else f"'{need}' permission"
            raise Forbidden(f"you hold '{access}' on this {kind.noun}; this needs {needed}")
        return resource, access

    def _views(
        self,
        user: str,
        items: Sequence[Resource],
        now: datetime,
        held: dict[str, list[Grant]] | None = None,
        counts: dict[str, int] | None = None,
    ) -> list[ResourceView]:
        """Views of `items` for `user`; `held` (the caller's live grants by resource id) and
        `counts` (live grants by resource id), when the caller read them already."""
        ids = [r.id for r in items]
        if held is None:
            held = self.store.grants_for_principals(
                [r.id for r in items if r.owner != user], self.principals_of(user), now
            )
        manageable = [
            r.id
            for r in items
            if r.owner == user
            or max((g.permission for g in held.get(r.id, [])), default=0) >= Permission.MANAGE
        ]
        if counts is None:
            counts = self.store.share_counts(manageable, now) if ids else {}
        # The badge's names come with the list: nobody has to ask per resource.
        grantees = self.store.grantees(
            [rid for rid in manageable if counts.get(rid)], now, MAX_GRANTEES_LISTED
        )
        views = []
        for r in items:
            if r.owner == user:
                count = counts.get(r.id, 0)
                views.append(
                    ResourceView(
                        r,
                        OWNER,
                        shared=count > 0,
                        share_count=count,
                        grantees=grantees.get(r.id, []),
                    )
                )
                continue
            mine = held.get(r.id, [])
            best = max(g.permission for g in mine)
            top = [g for g in mine if g.permission == best]
            ends = [g.expires_at for g in top]
            expiry = None if None in ends else max(e for e in ends if e is not None)
            views.append(
                ResourceView(
                    r,
                    best.label,
                    shared=True,
                    share_count=counts.get(r.id, 0) if r.id in manageable else None,
                    shared_at=min(g.created_at for g in mine),
                    expires_at=expiry,
                    grantees=grantees.get(r.id, []) if r.id in manageable else None,
                )
            )
        return views

    def view(self, user: str, kind: Kind, resource_id: str) -> ResourceView:
        with self.store.reading():
            resource, _ = self._resolve(user, kind, resource_id, "view")
            return self._views(user, [resource], self.clock())[0]

    # -- lists ----------------------------------------------------------------------------

    def list(
        self,
        user: str,
        kind: Kind | None,
        scope: Any = "all",
        offset: Any = None,
        limit: Any = None,
    ) -> Page[ResourceView]:
        scope = scope or "all"
        if scope not in SCOPES:
            raise InvalidInput(f"unknown scope {scope!r}: use owned, shared or all", field="scope")
        offset, limit = specs.page(offset, limit)
        if self.containers is not None and kind in (None, Kind.SESSION):
            if scope in ("owned", "all"):
                self.sync_servers(user)
            if scope in ("shared", "all"):
                self.merge_hub_shares(user)
        now = self.clock()
        # The page, the caller's grants on it, the share counts and grantees, read together.
        with self.store.reading():
            items, total, held, counts = self.store.list_page(
                user,
                self.principals_of(user),
                kind,
                owned=scope in ("owned", "all"),
                shared=scope in ("shared", "all"),
                now=now,
                offset=offset,
                limit=limit,
            )
            return Page(self._views(user, items, now, held, counts), total)

    def shared_with_me(
        self, user: str, kind: Any = None, offset: Any = None, limit: Any = None
    ) -> Page[ResourceView]:
        if kind in (None, ""):
            parsed = None
        else:
            parsed = Kind.parse(kind)
        return self.list(user, parsed, "shared", offset, limit)

    # -- resources ------------------------------------------------------------------------

    def _event(
        self,
        action: str,
        actor: str,
        resource: Resource,
        principal: str | None = None,
        permission: str | None = None,
    ) -> None:
        try:
            self.emit(
                {
                    "action": action,
                    "kind": resource.kind.value,
                    "resource_id": resource.id,
                    "resource_name": resource.name,
                    "owner": resource.owner,
                    "actor": actor,
                    "principal": principal,
                    "permission": permission,
                }
            )
        except Exception:  # an event sink must never undo a committed change
            log.exception("jupyter_share: could not emit the %s event", action)

    def _audit(
        self,
        action: str,
        actor: str,
        resource: Resource,
        principal: Principal | None = None,
        permission: Permission | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            resource_id=resource.id,
            kind=resource.kind,
            at=self.clock(),
            actor=actor,
            action=action,
            principal=str(principal) if principal else None,
            permission=permission.label if permission else None,
        )

    def _is_visible_image_id(self, user: str, value: str) -> bool | None:
        if not _ID.match(value):
            return None
        resource = self.store.get_resource(value)
        if resource is None:
            return None
        return resource.kind == Kind.IMAGE and self.access_of(user, resource) is not None

    def _spec(self, user: str, kind: Kind, value: Any, captured: bool = False) -> dict[str, Any]:
        if kind == Kind.IMAGE:
            return specs.image_spec(value, captured=captured)
        if kind == Kind.FORMATION:
            return specs.formation_spec(value, lambda v: self._is_visible_image_id(user, v))
        raise InvalidInput("the spec of a session is kept by its server", field="spec")

    def create(self, user: str, kind: Kind, body: Any) -> ResourceView:
        if kind == Kind.SESSION:
            raise InvalidInput(
                "sessions are the running servers; they are not created by hand", field="kind"
            )
        allowed = {"name", "description", "spec"} | ({"capture"} if kind == Kind.IMAGE else set())
        body = specs.check_fields(specs.no_nul(body), allowed)
        if "name" not in body:
            raise InvalidInput("name is required", field="name")
        name = specs.name(body["name"])
        description = specs.description(body.get("description"))
        capture = specs.boolean(body.get("capture", False), "capture")
        spec = self._spec(user, kind, body.get("spec"), captured=capture)
        if capture:
            if self.capture_environment is None:
                raise InvalidInput("this server cannot capture its environment", field="capture")
            spec["environment"] = specs.environment(self.capture_environment())
            specs.image_spec(spec)  # the captured environment counts toward the size limit
        now = self.clock()
        resource = Resource(
            id=secrets.token_hex(8),
            kind=kind,
            name=name,
            owner=user,
            description=description,
            spec=spec,
            created_at=now,
            updated_at=now,
        )
        self.store.create_resource(resource, self._audit("create", user, resource))
        self._event("create", user, resource)
        return ResourceView(resource, OWNER, shared=False, share_count=0, grantees=[])

    def ensure_session(self, owner: str, name: str, spec: dict[str, Any]) -> Resource:
        """The resource of a running server: found by owner and name, its spec kept current."""
        existing = self.store.find_resource(owner, Kind.SESSION, name)
        if existing is not None:
            self._keep_spec_current(existing, spec)
            return existing
        now = self.clock()
        resource = Resource(
            id=secrets.token_hex(8),
            kind=Kind.SESSION,
            name=name,
            owner=owner,
            spec=spec,
            created_at=now,
            updated_at=now,
        )
        try:
            self.store.create_resource(resource, self._audit("create", owner, resource))
        except Conflict:  # created by a concurrent request
            found = self.store.find_resource(owner, Kind.SESSION, name)
            if found is None:  # and deleted since
                raise
            return found
        self._event("create", owner, resource)
        return resource

    def _keep_spec_current(self, session: Resource, spec: dict[str, Any]) -> None:
        """A container's spec as its server reports it now; each change is a start or a stop
        in its history."""
        if session.spec == spec:
            return
        stopping = (
            spec.get("state") == liveness.STOPPED and session.spec.get("state") != liveness.STOPPED
        )
        session.spec = spec
        session.updated_at = self.clock()
        action = "stop" if stopping else "start"
        self.store.update_resource(session, self._audit(action, session.owner, session))

    def session_started(self, owner: str, name: str, spec: dict[str, Any]) -> None:
        """A restarted server's container shows as running again, if it was ever made (it is
        made on first use, not for every server that starts)."""
        existing = self.store.find_resource(owner, Kind.SESSION, name)
        if existing is not None:
            self._keep_spec_current(existing, spec)

    def session_stopped(self, resource_id: str, started_at: str) -> bool:
        """The server that started at `started_at` no longer runs: its container shows as
        stopped (audited as "stop"). Nothing changes when another start took its place since,
        or it is already stopped. Whether anything changed."""
        resource = self.store.get_resource(resource_id)
        if (
            resource is None
            or resource.kind != Kind.SESSION
            or resource.spec.get("started_at") != started_at
            or resource.spec.get("state") == liveness.STOPPED
        ):
            return False
        seen = resource.updated_at
        resource.spec = {
            **resource.spec,
            "state": liveness.STOPPED,
            "stopped_at": self.clock().isoformat(timespec="seconds") + "Z",
        }
        resource.updated_at = self.clock()
        try:
            # Only if nothing wrote it since it was read: a restart may have just said running.
            self.store.update_resource(
                resource, self._audit("stop", resource.owner, resource), if_updated_at=seen
            )
        except (Conflict, NotFound):
            return False
        self._event("stop", resource.owner, resource)
        return True

    def sweep_stopped(
        self, hostname: str, probe: Callable[[dict[str, Any]], str]
    ) -> builtins.list[str]:
        """Containers on `hostname` recorded as running whose server is gone without saying
        so (killed, or the machine restarted): marked stopped when `probe` says so. The ids
        marked."""
        marked = []
        for resource in self.store.resources_of_kind(Kind.SESSION):
            spec = resource.spec
            if spec.get("hostname") != hostname or spec.get("state") == liveness.STOPPED:
                continue
            if probe(spec) == liveness.STOPPED and self.session_stopped(
                resource.id, str(spec.get("started_at"))
            ):
                marked.append(resource.id)
        return marked

    def update(self, user: str, kind: Kind, resource_id: str, body: Any) -> ResourceView:
        resource, _ = self._resolve(user, kind, resource_id, "edit")
        # A container's name and spec come from its server (ShareApp.session_name finds it again
        # after a restart); people may describe it.
        allowed = {"description"} if kind == Kind.SESSION else {"name", "description", "spec"}
        body = specs.check_fields(specs.no_nul(body), allowed)
        if "name" in body:
            resource.name = specs.name(body["name"])
        if "description" in body:
            resource.description = specs.description(body["description"])
        if "spec" in body:
            resource.spec = self._spec(user, kind, body["spec"])
        resource.updated_at = self.clock()
        self.store.update_resource(resource, self._audit("update", user, resource))
        self._event("update", user, resource)
        return self.view(user, kind, resource.id)

    def delete(self, user: str, kind: Kind, resource_id: str) -> None:
        resource, _ = self._resolve(user, kind, resource_id, OWNER)
        self._with_hub_access(
            resource,
            lambda held: set(),
            lambda: self.store.delete_resource(resource.id, self._audit("delete", user, resource)),
            all_at_hub=True,
        )
        self._event("delete", user, resource)

    # -- grants ---------------------------------------------------------------------------

    # `builtins.list`: in this class `list` is the method above.
    def grants(self, user: str, kind: Kind, resource_id: str) -> builtins.list[Grant]:
        if kind == Kind.SESSION and self.containers is not None:
            # Writes (shares adopted from the Hub) come before the reads below.
            resource, _ = self._resolve(user, kind, resource_id, "manage")
            self.merge_server_shares(resource)
        with self.store.reading():
            resource, _ = self._resolve(user, kind, resource_id, "manage")
            return self.store.live_grants(resource.id, self.clock())

    def _check_principal_exists(self, principal: Principal, invitation: bool = False) -> None:
        """Refuse a principal the directory does not know, saying what to do next.
        `invitation`: a new user grant on this container, whose personal link makes the user
        known where the directory takes invitations (standalone)."""
        if principal.type == PrincipalType.GROUP:
            if not self.directory.group_exists(principal.name):
                hint = difflib.get_close_matches(principal.name, self.directory.group_names(), n=1)
                raise InvalidInput(
                    f"unknown group {principal.name!r}"
                    + (f", did you mean {hint[0]!r}?" if hint else ""),
                    field="principal",
                )
            return
        if self.directory.user_exists(principal.name):
            return
        hint = difflib.get_close_matches(principal.name, self.directory.user_names(), n=1)
        if invitation and self.directory.takes_invitations and not hint:
            # A new name is invited by the link; a near miss of a known one ("bobb" for "bob")
            # is far likelier a typo, which would hand a link to nobody in particular.
            return
        advice = self.directory.unknown_user_advice(principal.name)
        raise InvalidInput(
            f"unknown user {principal.name!r}"
            + (f", did you mean {hint[0]!r}?" if hint else f": {advice}" if advice else ""),
            field="principal",
        )

    def share(
        self,
        user: str,
        kind: Kind,
        resource_id: str,
        principal_text: Any,
        body: Any,
        with_link: bool = False,
    ) -> ShareResult:
        """Grant (or change) access. `with_link`: the resource is the container answering, whose
        new user grants come with a personal link."""
        # The checks read in one transaction; the write (put_grant) takes its own.
        with self.store.reading():
            resource, _ = self._resolve(user, kind, resource_id, "manage")
            principal = Principal.parse(principal_text)
            body = specs.check_fields(specs.no_nul(body), {"permission", "expires_at"})
            if "permission" not in body:
                raise InvalidInput(
                    "permission is required: view, edit or manage", field="permission"
                )
            permission = Permission.parse(body["permission"])
            now = self.clock()
            expires_at = specs.expires_at(body.get("expires_at"), now)
            if principal.type == PrincipalType.USER:
                if principal.name == resource.owner:
                    raise Conflict(
                        f"{principal.name} owns this {kind.noun}: owners hold every right already",
                        field="principal",
                    )
                if principal.name == user:
                    raise Conflict("you cannot share with yourself", field="principal")
            invitation = with_link and kind == Kind.SESSION and principal.type == PrincipalType.USER
            self._check_principal_exists(principal, invitation)
            existing = self.store.get_grant(resource.id, principal, now)
        # A change keeps who made the grant: the maker may re-issue its link (`reissue_link`),
        # and a manager must not become the maker of someone else's grant by re-sharing it.
        maker = existing.granted_by if existing is not None else user
        grant = Grant(
            resource.id,
            principal,
            permission,
            granted_by=maker,
            created_at=now,
            expires_at=expires_at,
        )
        action = "share" if existing is None else "change"
        link, token = None, None
        if (
            with_link
            and existing is None
            and kind == Kind.SESSION
            and principal.type == PrincipalType.USER
        ):
            self._check_link_maker(user, resource, principal)
            link, token = new_link(resource.id, principal.name, user, now)
        created = self._with_hub_access(
            resource,
            lambda held: held | {principal},
            lambda: self.store.put_grant(
                grant, self._audit(action, user, resource, principal, permission), link
            ),
        )
        if not created and existing is not None:
            grant.created_at = existing.created_at
        action = (
            "share" if created else "change"
        )  # as the store found it (another may have shared meanwhile)
        self._event(action, user, resource, str(principal), permission.label)
        if created and token and self.directory.takes_invitations:
            self.directory.invited(principal.name, now)  # a neighbour invited by name exists now
        unchanged = (
            not created
            and existing is not None
            and (existing.permission, existing.expires_at) == (permission, expires_at)
        )
        return ShareResult(grant, created, token if created else None, unchanged)

    def _check_link_maker(self, user: str, resource: Resource, principal: Principal) -> None:
        """A new personal link goes to whoever shares: a manager who revoked a grant someone
        else made and shared again with the same name would get that person's link, and sign
        in under their name. Only the owner, or whoever made the name's last grant here, may."""
        if user == resource.owner:
            return
        total = self.store.history(resource.id, 0, 1)[1]
        entries, _ = self.store.history(resource.id, max(0, total - 1000), 1000)
        made = next(
            (e for e in reversed(entries) if e.action == "share" and e.principal == str(principal)),
            None,
        )
        if made is not None and made.actor != user:
            raise Forbidden(
                f"{made.actor} shared this container with {principal.name} before: only {resource.owner} "
                f"or {made.actor} may give {principal.name} a new link"
            )

    def reissue_link(self, user: str, kind: Kind, resource_id: str, principal_text: Any) -> str:
        """A new personal link for a user's grant on this container; the old one dies."""
        resource, _ = self._resolve(user, kind, resource_id, "manage")
        principal = Principal.parse(principal_text)
        if kind != Kind.SESSION or principal.type != PrincipalType.USER:
            raise InvalidInput(
                "personal links are for users' grants on a container", field="principal"
            )
        grant = self.store.get_grant(resource.id, principal, self.clock())
        if grant is None:
            raise NotFound(f"{principal} holds no grant on this {kind.noun}")
        if user != resource.owner and grant.granted_by != user:
            # A new link cuts the grantee off and is shown to whoever asks for it: a manager
            # could then sign in under someone else's name.
            raise Forbidden(
                f"only {resource.owner} or whoever shared with {principal.name} may issue their link"
            )
        link, token = new_link(resource.id, principal.name, user, self.clock())
        self.store.replace_link(
            link, self._audit("relink", user, resource, principal, grant.permission)
        )
        self._event("relink", user, resource, str(principal), grant.permission.label)
        return token

    def revoke(self, user: str, kind: Kind, resource_id: str, principal_text: Any) -> None:
        with self.store.reading():
            resource, access = self._resolve(user, kind, resource_id, "view")
            principal = Principal.parse(principal_text)
            leaving = principal == Principal.user(user)
            if not leaving and _rank(access) < _rank("manage"):
                raise Forbidden(
                    f"you hold '{access}' on this {kind.noun}; revoking others needs 'manage'"
                )
            existing = self.store.get_grant(resource.id, principal, self.clock())
        if existing is None:
            raise NotFound(f"{principal} holds no grant on this {kind.noun}")
        action = "leave" if leaving else "revoke"
        self._with_hub_access(
            resource,
            lambda held: held - {principal},
            lambda: self.store.delete_grant(
                resource.id,
                principal,
                self._audit(action, user, resource, principal, existing.permission),
            ),
        )
        self._event(action, user, resource, str(principal), existing.permission.label)

    def check_rekey(self, user: str, kind: Kind, resource_id: str, flag: Any) -> bool:
        """Whether a revoke should also re-key the container (`?rekey=`): only its owner may,
        and only a container has keys."""
        if flag in (None, "", "false", "0"):
            return False
        if flag not in ("true", "1"):
            raise InvalidInput("rekey is true or false", field="rekey")
        with self.store.reading():
            resource, _ = self._resolve(user, kind, resource_id, "view")
        if kind != Kind.SESSION:
            raise InvalidInput(f"only a container is re-keyed, not an {kind.noun}", field="rekey")
        if user != resource.owner:
            raise Forbidden(f"only {resource.owner} may re-key their container")
        return True

    def history(
        self,
        user: str,
        kind: Kind,
        resource_id: str,
        offset: Any = None,
        limit: Any = None,
        person: Any = None,
        action: Any = None,
        fmt: Any = None,
    ) -> Page[AuditEntry]:
        """A page of a resource's history, oldest first. The owner and managers read all of
        it; anyone else who sees the resource reads the rows about themselves (their own
        grant, their groups' grants, their sign-ins and requests); anyone who cannot see it:
        404. `person`: rows whose actor or principal is one of these (`bob`, `user:bob`,
        `group:class`); `action`: rows of these actions; each a list of values, or one
        comma-separated. `fmt` "csv" without `limit`: every matching row (an export)."""
        fmt = self.history_format(fmt)
        people = self._history_people(person)
        actions = self._history_actions(action)
        if fmt == "csv" and limit in (None, ""):
            offset, limit = specs.page(offset, None)[0], MAX_HISTORY_EXPORT
        else:
            offset, limit = specs.page(offset, limit)
        with self.store.reading():
            resource, access = self._resolve(user, kind, resource_id, "view")
            mine = (
                None
                if _rank(access) >= _rank("manage")
                else [str(p) for p in self.principals_of(user)]
            )
            entries, total = self.store.history(
                resource.id, offset, limit, people=people, principals=mine, actions=actions
            )
        return Page(entries, total)

    # -- the change feed: what each user is told of changes made anywhere -----------------

    def feed_message(self, user: str, change: Any) -> dict[str, Any] | None:
        """What `user` may be told, on their event stream, of a change committed on any server
        of the store (`changefeed.Change`), or None. Only changes to what they see now, or to
        a grant of theirs that just ended (they saw the resource until then); the principal,
        permission and actor only where they may know them (their own grant, or they manage
        the resource). Never a secret: a change carries none."""
        mine = change.principal in {str(p) for p in self.principals_of(user)}
        resource = self.store.get_resource(change.resource_id)
        if resource is None:
            if change.action != "delete" or not self._held_until_deleted(user, change):
                return None
            owner, name, access = None, None, None
        else:
            owner, name = resource.owner, resource.name
            access = self.access_of(user, resource)
            if access is None and not mine:
                return None
        message = {
            "id": change.id,
            "action": change.action,
            "kind": change.kind,
            "resource_id": change.resource_id,
            # Which of the panel's lists holds it: the caller's own, or shared with them.
            "list": "owned"
            if (owner == user or change.actor == user and owner is None)
            else "shared-with-me",
            "access": access,
        }
        if resource is not None:
            message.update(resource_name=name, owner=owner)
        if mine or _rank(access) >= _rank("manage"):
            message.update(principal=change.principal, permission=change.permission)
        if mine or _rank(access) >= _rank("manage") or change.actor in (owner, user):
            message["actor"] = change.actor
        return message

    def _held_until_deleted(self, user: str, change: Any) -> bool:
        """Whether `user` owned or held a grant on a resource just deleted: its history (kept
        after the resource) is the only record left of who held it."""
        if change.actor == user:
            return True  # only the owner deletes
        names = {str(p) for p in self.principals_of(user)}
        held: dict[str | None, bool] = {}
        offset, total = 0, 1
        while offset < total:
            entries, total = self.store.history(change.resource_id, offset, 1000)
            if not entries:
                break
            offset += len(entries)
            for entry in entries:
                if entry.action in ("share", "change"):
                    held[entry.principal] = True
                elif entry.action in ("revoke", "leave", "expire"):
                    held[entry.principal] = False
        return any(held.get(n) for n in names)

    @staticmethod
    def history_format(value: Any) -> str:
        if value in (None, ""):
            return "json"
        if value not in HISTORY_FORMATS:
            raise InvalidInput(f"unknown format {value!r}: use json or csv", field="format")
        return cast(str, value)  # one of HISTORY_FORMATS

    @staticmethod
    def _filter_values(value: Any, name: str) -> builtins.list[str] | None:
        """A filter's values: a string (comma-separated) or a list of them; None: no filter."""
        if value in (None, "", []):
            return None
        raw = [value] if isinstance(value, str) else value
        if not isinstance(raw, (list, tuple)) or not all(isinstance(v, str) for v in raw):
            raise InvalidInput(f"{name} must be a string or a list of strings", field=name)
        values = [v.strip() for text in raw for v in text.split(",") if v.strip()]
        if not values:
            return None
        if len(values) > MAX_HISTORY_FILTERS:
            raise InvalidInput(f"at most {MAX_HISTORY_FILTERS} values of {name}", field=name)
        for v in values:
            specs.no_nul(v, name)
        return values

    def _history_people(self, value: Any) -> builtins.list[str] | None:
        values = self._filter_values(value, "person")
        if values is None:
            return None
        people: builtins.list[str] = []
        for text in values:
            try:
                principal = Principal.parse(text)
            except InvalidInput as e:
                raise InvalidInput(
                    e.message.replace("principal", "person"), field="person"
                ) from None
            if principal.type == PrincipalType.USER:
                people.append(principal.name)  # as the actor
            people.append(str(principal))
        return people

    @staticmethod
    def _history_actions(value: Any) -> builtins.list[str] | None:
        values = ShareService._filter_values(value, "action")
        if values is None:
            return None
        for v in values:
            if v not in HISTORY_ACTIONS:
                raise InvalidInput(
                    f"unknown action {v!r}: use {', '.join(HISTORY_ACTIONS)}", field="action"
                )
        return values

    def record_signin(self, resource_id: str, username: str, address: str) -> None:
        """A history row: `username` signed in to this container by their personal link,
        from `address` (the link itself is a secret and is not written)."""
        resource = self.store.get_resource(resource_id)
        if resource is None:
            return
        permission = self.access_of(username, resource)
        entry = self._audit(
            "signin",
            username,
            resource,
            Principal.user(username),
            Permission.parse(permission) if permission not in (None, OWNER) else None,
        )
        entry.address = (address or "")[:MAX_ADDRESS] or None
        self.store.add_history(entry)

    def purge_history(self) -> int:
        """Delete history rows older than `history_retention` (the last `share` row of each
        grantee stays: it says who made the grant)."""
        if self.history_retention is None:
            return 0
        return self.store.purge_history(self.clock() - self.history_retention)

    def guests_in(
        self, user: str, kind: Kind, resource_id: str, usernames: Sequence[str]
    ) -> dict[str, Permission]:
        """Who is in a container now is shown to its owner and managers (a guest below manage:
        403; anyone who cannot see it: 404). Of `usernames` (the guests its server holds in
        memory), those who hold a live user grant on it, with that grant's permission: a
        guest whose access ended is not shown, whatever the server still remembers."""
        if kind != Kind.SESSION:
            raise InvalidInput(f"guests are in containers, not in an {kind.noun}", field="kind")
        with self.store.reading():
            resource, _ = self._resolve(user, kind, resource_id, "manage")
            live = self.store.live_grants(resource.id, self.clock())
        held = {
            g.principal.name: g.permission for g in live if g.principal.type == PrincipalType.USER
        }
        return {name: held[name] for name in usernames if name in held}

    def purge_expired(self) -> int:
        purged = self.store.purge_expired(self.clock())
        for grant in purged:
            resource = self.store.get_resource(grant.resource_id)
            if (
                resource is not None
                and resource.kind == Kind.SESSION
                and self.containers is not None
            ):
                try:
                    self.containers.sync(resource, self._principals_on(resource, self.clock()))
                except (
                    ShareError
                ) as e:  # the owner's server refuses them anyway; the next change syncs
                    log.warning(
                        "jupyter_share: could not end the Hub's share of an expired grant: %s", e
                    )
            if resource is not None:
                self._event(
                    "expire", "system", resource, str(grant.principal), grant.permission.label
                )
        return len(purged)

    # -- asking for more ---------------------------------------------------------------------
    # Anyone who sees a resource and holds less than manage may ask its owner and managers for
    # a higher permission (one open request per person and resource); they approve (the grant
    # changes through `share`, with its rules) or deny, and the asker may withdraw.

    def _requester(self, text: Any) -> str:
        principal = Principal.parse(text)
        if principal.type != PrincipalType.USER:
            raise InvalidInput(
                "requests come from users: give the requester's user name", field="requester"
            )
        return principal.name

    def ask(self, user: str, kind: Kind, resource_id: str, body: Any) -> RequestView:
        """Ask for `permission` (edit or manage) on a resource the caller sees."""
        with self.store.reading():
            resource, access = self._resolve(user, kind, resource_id, "view")
            body = specs.check_fields(specs.no_nul(body), {"permission", "message"})
            if "permission" not in body:
                raise InvalidInput("permission is required: edit or manage", field="permission")
            permission = Permission.parse(body["permission"])
            message = body.get("message")
            if message is None:
                message = ""
            if not isinstance(message, str):
                raise InvalidInput("message must be a string", field="message")
            message = message.strip()
            if len(message) > MAX_REQUEST_MESSAGE:
                raise InvalidInput(
                    f"message is longer than {MAX_REQUEST_MESSAGE} characters", field="message"
                )
            if access == OWNER:
                raise Conflict(
                    f"you own this {kind.noun}: owners hold every right already", field="permission"
                )
            if _rank(access) >= _rank(permission.label):
                raise Conflict(
                    f"you hold '{access}' on this {kind.noun} already: ask for more than that",
                    field="permission",
                )
            if self.store.get_request(resource.id, user) is not None:
                raise Conflict(
                    f"you asked for more on this {kind.noun} already: withdraw that request to ask again",
                    field="permission",
                )
        request = AccessRequest(resource.id, user, permission, message, self.clock())
        self.store.put_request(
            request, self._audit("ask", user, resource, Principal.user(user), permission)
        )
        self._event("ask", user, resource, str(Principal.user(user)), permission.label)
        return RequestView(request, resource, access)

    def requests_on(self, user: str, kind: Kind, resource_id: str) -> builtins.list[RequestView]:
        """The open requests on a resource: all of them for its owner and managers, the
        caller's own (none or one) for anyone else who sees it."""
        with self.store.reading():
            resource, access = self._resolve(user, kind, resource_id, "view")
            if _rank(access) >= _rank("manage"):
                found = self.store.open_requests(resource.id)
            else:
                mine = self.store.get_request(resource.id, user)
                found = [mine] if mine else []
            now = self.clock()
            return [
                RequestView(r, resource, self.access_of(r.requester, resource, now)) for r in found
            ]

    def requests_for_me(self, user: str) -> dict[str, builtins.list[RequestView]]:
        """`to_decide`: the open requests on what the caller owns or manages; `asked`: the
        caller's own open requests (on resources they still see)."""
        now = self.clock()
        with self.store.reading():
            to_decide = [
                RequestView(r, res, self.access_of(r.requester, res, now))
                for r, res in self.store.requests_to_decide(
                    user, self.principals_of(user), now, MAX_REQUESTS_LISTED
                )
            ]
            asked = []
            for r, res in self.store.requests_by(user, MAX_REQUESTS_LISTED):
                holds = self.access_of(user, res, now)
                if holds is not None:  # no longer shared: not revealed
                    asked.append(RequestView(r, res, holds))
        return {"to_decide": to_decide, "asked": asked}

    def decide(
        self,
        user: str,
        kind: Kind,
        resource_id: str,
        requester_text: Any,
        body: Any,
        with_link: bool = False,
    ) -> Decision:
        """Approve (the grant becomes what was asked, through `share` and its rules) or deny a
        request; both close it. Needs manage."""
        with self.store.reading():
            resource, _ = self._resolve(user, kind, resource_id, "manage")
            requester = self._requester(requester_text)
            body = specs.check_fields(specs.no_nul(body), {"decision"})
            decision = body.get("decision")
            if decision not in DECISIONS:
                raise InvalidInput("decision is required: approve or deny", field="decision")
            request = self.store.get_request(resource.id, requester)
            if request is None:
                raise NotFound(f"{requester} has no open request on this {kind.noun}")
            now = self.clock()
            holds = self.access_of(requester, resource, now)
            existing = self.store.get_grant(resource.id, Principal.user(requester), now)
        principal = Principal.user(requester)
        result = None
        if decision == "approve":
            if holds is None:
                raise Conflict(
                    f"{requester} no longer has access to this {kind.noun}: deny the request, or share with them",
                    field="requester",
                )
            if _rank(holds) < _rank(request.permission.label):
                # Their own grant's expiry stays; through a group only: a grant of their own.
                expiry = (
                    existing.expires_at.isoformat()
                    if existing is not None and existing.expires_at
                    else None
                )
                result = self.share(
                    user,
                    kind,
                    resource.id,
                    str(principal),
                    {"permission": request.permission.label, "expires_at": expiry},
                    with_link,
                )
            else:  # given meanwhile (directly, or through a group)
                grant = existing or Grant(resource.id, principal, request.permission, user, now)
                result = ShareResult(grant, created=False, unchanged=True)
        action = "approve" if decision == "approve" else "deny"
        closed = self.store.close_request(
            resource.id,
            requester,
            self._audit(action, user, resource, principal, request.permission),
        )
        if not closed and decision == "deny":
            raise NotFound(
                f"{requester} has no open request on this {kind.noun}"
            )  # withdrawn meanwhile
        if closed:
            self._event(action, user, resource, str(principal), request.permission.label)
        return Decision(request, decision, result)

    def withdraw(self, user: str, kind: Kind, resource_id: str, requester_text: Any) -> None:
        """The asker takes their open request back."""
        with self.store.reading():
            resource, access = self._resolve(user, kind, resource_id, "view")
            requester = self._requester(requester_text)
            request = self.store.get_request(resource.id, requester)
            if requester != user:
                if _rank(access) < _rank("manage"):
                    # Others' requests are not shown below manage: not revealed either.
                    raise NotFound(f"no request of {requester} that you can see")
                if request is not None:
                    raise Forbidden(
                        f"only {requester} may withdraw their request: approve or deny it"
                    )
            if request is None:
                raise NotFound(f"{requester} has no open request on this {kind.noun}")
        principal = Principal.user(user)
        if not self.store.close_request(
            resource.id,
            user,
            self._audit("withdraw", user, resource, principal, request.permission),
        ):
            raise NotFound(f"{user} has no open request on this {kind.noun}")
        self._event("withdraw", user, resource, str(principal), request.permission.label)

    # -- containers under JupyterHub ---------------------------------------------------------

    def _with_hub_access(
        self,
        resource: Resource,
        after: Callable[[set[Principal]], set[Principal]],
        write: Callable[[], Any],
        all_at_hub: bool = False,
    ) -> Any:
        """`write` a change of who may use a container, the Hub's shares first (real access):
        they become what `after(the principals holding grants now)` needs; if the Hub refuses,
        nothing is written, and if the write fails, the Hub's shares are put back. The Hub's
        shares are taken to be what the grants imply (one call to the Hub per share added or
        ended), or, with `all_at_hub`, read from the Hub. Not a container under JupyterHub:
        just `write`."""
        if resource.kind != Kind.SESSION or self.containers is None:
            return write()
        held = self._principals_on(resource, self.clock())
        current = None if all_at_hub else self.containers.wanted(resource, held)
        undo = self.containers.sync(resource, after(held), current=current)
        try:
            return write()
        except BaseException:
            try:
                undo()
            except ShareError as e:
                log.error(
                    "jupyter_share: the Hub's side of a failed change could not be undone: %s", e
                )
            raise

    def _server_session(self, owner: str, server_name: str, spec: dict[str, Any]) -> Resource:
        assert self.containers is not None  # Hub mode only
        return self.ensure_session(owner, self.containers.label(server_name), spec)

    def hub_session(self, owner: str, server_name: str) -> Resource:
        """The resource of one of the owner's servers at the Hub (404 if it has none)."""
        assert self.containers is not None, "under JupyterHub only"
        spec = self.containers.servers_of(owner).get(server_name)
        if spec is None:  # a server made since the Hub was last asked?
            spec = self.containers.servers_of(owner, fresh=True).get(server_name)
        if spec is None:
            raise NotFound(
                f"you have no server named {server_name!r}"
                if server_name
                else "you have no default server"
            )
        return self._server_session(owner, server_name, spec)

    def sync_servers(self, owner: str) -> None:
        """List the owner's servers at the Hub as their containers."""
        assert self.containers is not None, "under JupyterHub only"
        for server_name, spec in self.containers.servers_of(owner).items():
            self._server_session(owner, server_name, spec)

    def _principals_on(self, resource: Resource, now: datetime) -> set[Principal]:
        return {g.principal for g in self.store.live_grants(resource.id, now)}

    #: How old a difference between the Hub and the store must be before a merge settles it:
    #: a share or revoke in flight (here or in another replica) makes one for a moment.
    SETTLE = timedelta(seconds=30)

    def _settled(self, since: datetime | None, now: datetime) -> bool:
        """A difference that is no share or revoke in flight: older than SETTLE, or undated
        (a Hub that does not say when a share was made)."""
        return since is None or since <= now - self.SETTLE

    # The grants decide who may use a server; the Hub's shares are their mirror (the door the
    # Hub opens), and a merge only ever narrows access to what the grants give. A share the
    # grants do not explain (made at the Hub directly, a redeemed share code, or the share a
    # member kept after leaving a granted group) is never adopted as a grant: it is taken back
    # once settled. A grant whose share the Hub ended is dropped once settled, and its share is
    # never made again by a merge.

    def merge_hub_shares(self, user: str) -> None:
        """Make the store and the Hub agree about the servers shared with `user`: a share no
        grant explains is taken back, a user grant whose share the Hub ended is dropped, and a
        server shared with one of the user's groups gets the user's own Hub share (the Hub lets
        tokens in only through those) while the group's share is there. Differences younger
        than SETTLE are left alone; a Hub that does not answer leaves all as is."""
        assert self.containers is not None, "under JupyterHub only"
        try:
            at_hub = self.containers.shared_with(user)
            principal = Principal.user(user)
            now = self.clock()
            seen = set()
            for owner, server_name, spec, since in at_hub:
                if owner == user:
                    continue
                resource = self._server_session(owner, server_name, spec)
                seen.add(resource.id)
                if self.access_of(user, resource, now) is None and self._settled(since, now):
                    self.containers.unshare_user(resource, user)  # no grant gives it
            held, _ = self.store.list_resources(
                user,
                self.principals_of(user),
                Kind.SESSION,
                owned=False,
                shared=True,
                now=now,
                offset=0,
                limit=1000,
            )
            groups = {Principal.group(g) for g in self.directory.groups_of(user)}
            for resource in held:
                if resource.id in seen:
                    continue
                own = self.store.get_grant(resource.id, principal, now)
                if own is not None:
                    if self._settled(own.created_at, now):
                        self._drop_unshared(resource, principal, now)  # the Hub ended it
                elif any(
                    user in self.containers.members(g.name)
                    for g in groups & self.containers.shares_of(resource)
                ):
                    # Through a group the Hub still shares, whose members (as the sync reads
                    # them) include the user: the member's own share, the door the Hub opens.
                    self.containers.share_with_user(resource, user)
        except ShareError as e:
            log.warning("jupyter_share: listing without the Hub's shares: %s", e)

    def merge_server_shares(self, resource: Resource) -> None:
        """As `merge_hub_shares`, for everyone the Hub lets into one server: a grant whose share
        the Hub ended is dropped once settled; then, when no share at the Hub is in flight, the
        Hub's shares follow the grants whose share the Hub still holds (members who joined a
        granted group get theirs, shares no grant explains are taken back, and a share the Hub
        ended is not made again)."""
        assert self.containers is not None, "under JupyterHub only"
        try:
            dated = self.containers.dated_shares_of(resource)
            at_hub = set(dated)
            now = self.clock()
            grants = {g.principal: g for g in self.store.live_grants(resource.id, now)}
            for principal in set(grants) - at_hub:
                if self._settled(grants[principal].created_at, now):
                    self._drop_unshared(resource, principal, now)
            if all(self._settled(since, now) for since in dated.values()):
                present = {p for p in self._principals_on(resource, now) if p in at_hub}
                self.containers.sync(resource, present, current=at_hub)
        except ShareError as e:
            log.warning("jupyter_share: the access list without the Hub's shares: %s", e)

    def _drop_unshared(self, resource: Resource, principal: Principal, now: datetime) -> None:
        existing = self.store.get_grant(resource.id, principal, now)
        if existing is None:
            return
        try:
            self.store.delete_grant(
                resource.id,
                principal,
                self._audit("revoke", "jupyterhub", resource, principal, existing.permission),
            )
        except NotFound:  # revoked meanwhile
            return
        self._event("revoke", "jupyterhub", resource, str(principal), existing.permission.label)

    def guest_access(self, user: str, server_name: str, guest: str) -> str | None:
        """What `guest` may do in the caller's own server `server_name` now, as its owner's
        server asks before letting them in: the grants' access (their groups as the Hub says
        now, not as a token cache remembers), and only while the Hub still lets them in through
        their own share (an admin's revoke at the Hub holds at once, before the merge drops
        the grant). None: not at all."""
        assert self.containers is not None, "under JupyterHub only"
        resource = self.hub_session(user, server_name)
        if guest == user:
            return OWNER
        access = self.access_of(guest, resource)
        if access is None or Principal.user(guest) not in self.containers.shares_of(
            resource, recent=True
        ):
            return None
        return access

    # -- images ---------------------------------------------------------------------------

    def environment_file(self, user: str, resource_id: str, fmt: Any) -> tuple[str, str, str]:
        """(filename, content type, text) of an image's environment as pip or conda reads it."""
        from .capture import conda_environment_yaml, requirements_txt

        resource, _ = self._resolve(user, Kind.IMAGE, resource_id, "view")
        fmt = fmt or "requirements"
        if fmt not in ("requirements", "conda"):
            raise InvalidInput(f"unknown format {fmt!r}: use requirements or conda", field="format")
        environment = resource.spec.get("environment")
        if not environment:
            raise NotFound(f"image {resource.name!r} has no captured environment")
        if fmt == "requirements":
            return (
                "requirements.txt",
                "text/plain; charset=UTF-8",
                requirements_txt(environment, resource.name),
            )
        return (
            "environment.yml",
            "application/x-yaml; charset=UTF-8",
            conda_environment_yaml(environment, resource.name),
        )

    def image_to_use(self, user: str, resource_id: str) -> Resource:
        """The image the caller may build an environment from here: anyone who sees it may use
        it (view is enough, as for launching). Whose container builds it is the surface's
        question: guests never reach it (guests.ROUTES lists no environment handler)."""
        with self.store.reading():
            resource, _ = self._resolve(user, Kind.IMAGE, resource_id, "view")
        return usable_image(resource)
