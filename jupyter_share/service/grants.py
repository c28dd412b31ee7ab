"""The rules of grants: who holds what on a resource, sharing and changing a grant, personal
links, revoking and leaving, re-keying a container, and grants ending at their expiry."""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import contract
from ..contract import bodies
from ..model import (
    Conflict,
    Forbidden,
    Grant,
    InvalidInput,
    Kind,
    NotFound,
    Permission,
    Principal,
    PrincipalType,
    Resource,
    ShareError,
)
from ..sessions import new_link
from .base import _rank, expiry_entries, log
from .resources import ResourceRules


@dataclass
class ShareResult:
    grant: Grant
    created: bool
    #: A new personal link's token (shown once), for a new user grant on this container.
    link_token: str | None = None
    #: The grant was there already with this permission and expiry: nothing changed.
    unchanged: bool = False


class GrantRules(ResourceRules):
    # -- grants ---------------------------------------------------------------------------

    # `builtins.list`: in this class `list` is the method above.
    def grants(self, user: str, kind: Kind, resource_id: str) -> builtins.list[Grant]:
        if kind == Kind.SESSION and self.mirrored:
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
            now = self.clock()
            asked = contract.parse(bodies.GrantRequest, body, context={"now": now})
            permission = Permission.parse(asked.permission)
            expires_at = asked.expires_at
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
                grant,
                self._audit("share", user, resource, principal, permission),
                link,
                changed=self._audit("change", user, resource, principal, permission),
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

    def links_open_here(self, kind: Kind, resource_id: str, here: Callable[[], str] | None) -> bool:
        """Whether new user grants on this resource come with a personal link: personal links
        open the container answering (`here()`, its id, asked only about a container: the
        first ask makes it; None where there is none, as under JupyterHub, whose shares open
        its servers), so only its own grants have them."""
        return kind == Kind.SESSION and here is not None and resource_id == here()

    def reissue_link(
        self,
        user: str,
        kind: Kind,
        resource_id: str,
        principal_text: Any,
        with_link: bool = True,
    ) -> str:
        """A new personal link for a user's grant on this container; the old one dies.
        `with_link`: the resource is the container answering (`links_open_here`), the only
        one that can issue its links."""
        if not with_link:
            raise InvalidInput(
                "personal links are issued by the container they open, for its users' grants"
            )
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
        purged = self.store.purge_expired(self.clock(), expiry_entries(self.clock()))
        for grant in purged:
            resource = self.store.get_resource(grant.resource_id)
            if (
                resource is not None
                and resource.kind == Kind.SESSION
                and self.containers is not None
                and self.containers.mirrors_grants
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
