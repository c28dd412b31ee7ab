"""`jupyter share share|revoke|grants|history`: who has access, and what happened."""

from __future__ import annotations

import sys

from traitlets import List, Unicode

from .options import REF, Positional, choice, option, paging_options
from .output import paging_note, table, when
from .store import StoreCommand

PRINCIPAL = Positional("principal", "PRINCIPAL", help="user:NAME, group:NAME, or NAME for a user")


class ShareGrantCommand(StoreCommand):
    command = "share"
    name = "jupyter-share-share"
    description = "give a user or a group access to a resource (or change their permission)"
    arguments = (REF, PRINCIPAL)
    reads_only = False

    permission = choice(
        ("view", "edit", "manage"),
        "view",
        "view (default): see and launch; edit: also change; manage: also share",
    )
    expires = option(
        Unicode(
            None,
            allow_none=True,
            help="when the grant ends, like 2026-12-31T23:59:59Z (a time without zone is UTC)",
        ),
        metavar="ISO8601",
    )

    def run_command(self) -> None:
        from ..serialize import grant_json

        view = self.resolve(self.ref)
        body: dict = {"permission": self.permission}
        if self.expires is not None:
            body["expires_at"] = self.expires
        result = self.service.share(
            self.username, view.resource.kind, view.resource.id, self.principal, body
        )
        grant = grant_json(result.grant)
        if self.json:
            return self.dump(grant)
        until = f" until {when(result.grant.expires_at)}" if result.grant.expires_at else ""
        what = f"{view.resource.kind.value} {view.resource.name!r}"
        access = f"{grant['principal']} · {grant['permission']}{until}"
        if result.unchanged:
            return self.out(f"unchanged: {what} was shared with {access} already")
        self.out(f"{'shared' if result.created else 'changed'} {what} with {access}")


class RevokeCommand(StoreCommand):
    command = "revoke"
    name = "jupyter-share-revoke"
    description = "take a user's or a group's access away (your own name: leave)"
    arguments = (REF, PRINCIPAL)
    reads_only = False

    def run_command(self) -> None:
        from ..model import Principal

        view = self.resolve(self.ref)
        self.service.revoke(self.username, view.resource.kind, view.resource.id, self.principal)
        if not self.json:  # the API answers 204: no body
            self.out(
                f"revoked {Principal.parse(self.principal)} on {view.resource.kind.value} {view.resource.name!r}"
            )


class GrantsCommand(StoreCommand):
    command = "grants"
    name = "jupyter-share-grants"
    description = "list who has access to a resource you manage"
    arguments = (REF,)

    def run_command(self) -> None:
        from ..serialize import grant_json

        view = self.resolve(self.ref)
        grants = self.service.grants(self.username, view.resource.kind, view.resource.id)
        if self.json:
            return self.dump({"items": [grant_json(g) for g in grants], "total": len(grants)})
        if not grants:
            return self.out(f"{view.resource.kind.value} {view.resource.name!r} is not shared")
        self.out(
            table(
                ["PRINCIPAL", "PERMISSION", "GRANTED BY", "SINCE", "EXPIRES"],
                [
                    [
                        str(g.principal),
                        g.permission.label,
                        g.granted_by,
                        when(g.created_at),
                        when(g.expires_at) or "never",
                    ]
                    for g in grants
                ],
            )
        )


class HistoryCommand(StoreCommand):
    command = "history"
    name = "jupyter-share-history"
    description = (
        "show the history of a resource, oldest first: all of it if you manage it, else the "
        "rows about you"
    )
    arguments = (REF,)

    person = option(
        List(
            Unicode(),
            default_value=None,
            allow_none=True,
            help="only rows whose actor or principal is NAME (user:NAME, group:NAME); repeatable",
        ),
        metavar="NAME",
    )
    action = option(
        List(
            Unicode(),
            default_value=None,
            allow_none=True,
            help="only rows of ACTION (share, change, revoke, leave, expire, relink, signin, ask, "
            "approve, deny, withdraw, create, start, stop, update, delete); repeatable or "
            "comma-separated",
        ),
        metavar="ACTION",
    )
    format = choice(
        ("csv", "json"),
        None,
        "write the rows as CSV (every matching row, unless --limit) or as JSON",
    )
    limit, offset = paging_options()

    def run_command(self) -> None:
        from ..serialize import audit_json, history_csv, page_json

        view = self.resolve(self.ref)
        page = self.service.history(
            self.username,
            view.resource.kind,
            view.resource.id,
            self.offset,
            self.limit,
            self.person or None,
            self.action or None,
            self.format,
        )
        if self.format == "csv":
            sys.stdout.write(history_csv(page.items))
            return None
        if self.json or self.format == "json":
            return self.dump(page_json(page, audit_json))
        addresses = any(e.address for e in page.items)
        self.out(
            table(
                ["AT", "ACTOR", "ACTION", "PRINCIPAL", "PERMISSION"]
                + (["ADDRESS"] if addresses else []),
                [
                    [when(e.at), e.actor, e.action, e.principal, e.permission]
                    + ([e.address] if addresses else [])
                    for e in page.items
                ],
            )
        )
        paging_note(len(page.items), self.offset, page.total)
