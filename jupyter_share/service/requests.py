"""The rules of asking for more: anyone who sees a resource and holds less than manage may
ask its owner and managers for a higher permission (one open request per person and resource);
they approve (the grant changes through `share`, with its rules) or deny, and the asker may
withdraw."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from .. import contract
from ..contract import bodies
from ..model import (
    OWNER,
    AccessRequest,
    Conflict,
    Forbidden,
    Grant,
    InvalidInput,
    Kind,
    NotFound,
    Permission,
    Principal,
    PrincipalType,
    RequestView,
)
from .base import _rank
from .grants import GrantRules, ShareResult

#: The longest message that may come with a request for more.
MAX_REQUEST_MESSAGE = bodies.MAX_REQUEST_MESSAGE

#: How many requests one list answers (they are few: each is one person waiting).
MAX_REQUESTS_LISTED = 500

DECISIONS = ("approve", "deny")


@dataclass
class Decision:
    request: AccessRequest
    decision: str  # "approve" or "deny"
    #: Approving: the grant as it is now (changed, made, or left as it was when the requester
    #: held the permission already).
    share: ShareResult | None = None


class RequestRules(GrantRules):
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
            asked = contract.parse(bodies.AccessRequestCreate, body)
            permission = Permission.parse(asked.permission)
            message = asked.message
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
                    user,
                    self.principals_of(user),
                    now,
                    MAX_REQUESTS_LISTED,
                    deciders=Permission.MANAGE,
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
            decision = contract.parse(bodies.DecisionRequest, body).decision
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
