"""The rules of history: who reads which rows of a resource's history, what each user is told
of changes on their event stream, sign-ins, and how long rows are kept."""

from __future__ import annotations

import builtins
from typing import Any, cast

from .. import contract
from ..contract import bodies
from ..model import (
    HISTORY_ACTIONS,
    OWNER,
    AuditEntry,
    InvalidInput,
    Kind,
    Page,
    Permission,
    Principal,
    PrincipalType,
)
from .base import ServiceBase, _rank

#: The formats the history is answered in (`GET …/history?format=`).
HISTORY_FORMATS = ("json", "csv")

#: The most rows one history export (`format=csv` without `limit`) carries.
MAX_HISTORY_EXPORT = 100_000

#: The most people or actions one history query filters by.
MAX_HISTORY_FILTERS = 20

#: The longest client address kept with a sign-in.
MAX_ADDRESS = 64


class HistoryRules(ServiceBase):
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
            offset, limit = bodies.page(offset, None)[0], MAX_HISTORY_EXPORT
        else:
            offset, limit = bodies.page(offset, limit)
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
            contract.no_nul(v, name)
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
        values = HistoryRules._filter_values(value, "action")
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
        return self.store.purge_history(self.clock() - self.history_retention, keep_last=("share",))


def recorded_action(
    method: str, path: str, status: int, answer: dict[str, Any]
) -> tuple[Kind, str] | None:
    """The kind and the action that the rules record (audit row and event) for a successful
    call of the REST API, told by its method, path (below `/api/v1/`), status and JSON answer:
    for a surface that carried the call to the process that ran it (a user server under
    JupyterHub) and tells its own listeners. None: no change of a resource."""
    parts = path.strip("/").split("/")
    kind = next((k for k in Kind if parts and k.plural == parts[0]), None)
    if kind is None:
        return None
    if len(parts) >= 4 and parts[2] == "grants":
        if method == "PUT":
            return kind, "share" if status == 201 else "change"  # 201: a new grant
        return kind, "revoke" if method == "DELETE" else "relink"
    if len(parts) >= 3 and parts[2] == "requests":  # asking for more
        if len(parts) == 3:
            return kind, "ask"
        if method == "DELETE":
            return kind, "withdraw"
        return kind, "approve" if answer.get("decision") == "approve" else "deny"
    return kind, {"POST": "create", "PATCH": "update", "DELETE": "delete"}.get(method, "update")
