"""`jupyter share ask|requests|approve|deny|withdraw`: requests for more access."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from traitlets import Unicode

from ..model import Kind
from .options import REF, Positional, choice, option
from .output import table, when
from .store import StoreCommand

_HEADERS = ["RESOURCE", "NAME", "OWNER", "REQUESTER", "HOLDS", "ASKS FOR", "SINCE", "MESSAGE"]


def _rows(views: Any) -> list:
    return [
        [
            f"{v.resource.kind.plural}/{v.resource.id}",
            v.resource.name,
            v.resource.owner,
            v.request.requester,
            v.holds or "-",
            v.request.permission.label,
            when(v.request.created_at),
            v.request.message,
        ]
        for v in views
    ]


class AskCommand(StoreCommand):
    command = "ask"
    name = "jupyter-share-ask"
    description = "ask the owner of a resource shared with you for more: edit or manage"
    arguments = (REF,)
    reads_only = False

    permission = choice(
        ("edit", "manage"),
        "edit",
        "edit (default): change it (in a container: run code); manage: also share it",
    )
    message = option(
        Unicode(None, allow_none=True, help="why, for the owner to read"), metavar="TEXT"
    )

    def run_command(self) -> None:
        from ..serialize import request_json

        view = self.resolve(self.ref)
        asked = self.service.ask(
            self.username,
            view.resource.kind,
            view.resource.id,
            {"permission": self.permission, "message": self.message},
        )
        if self.json:
            return self.dump(request_json(asked))
        self.out(
            f"asked {view.resource.owner} for {self.permission} on {view.resource.kind.value} {view.resource.name!r}"
        )


class RequestsCommand(StoreCommand):
    command = "requests"
    name = "jupyter-share-requests"
    description = (
        "List the open requests for more on what you own or manage (approve or deny them), "
        "and your own open requests; with KIND/ID, that resource's open requests."
    )
    arguments = (replace(REF, name="target", optional=True),)
    target: tuple[Kind, str] | None

    def run_command(self) -> None:
        from ..serialize import request_json

        if self.target is not None:
            view = self.resolve(self.target)
            found = self.service.requests_on(self.username, view.resource.kind, view.resource.id)
            if self.json:
                return self.dump({"items": [request_json(v) for v in found], "total": len(found)})
            if not found:
                return self.out(
                    f"no open requests on {view.resource.kind.value} {view.resource.name!r}"
                )
            return self.out(table(_HEADERS, _rows(found)))
        mine = self.service.requests_for_me(self.username)
        if self.json:
            return self.dump({key: [request_json(v) for v in views] for key, views in mine.items()})
        if mine["to_decide"]:
            self.out("for you to decide (jupyter share approve|deny KIND/ID USER):")
            self.out(table(_HEADERS, _rows(mine["to_decide"])))
        else:
            self.out("no requests for you to decide")
        if mine["asked"]:
            self.out("your own open requests:")
            self.out(table(_HEADERS, _rows(mine["asked"])))


class _Decide(StoreCommand):
    decision = ""
    arguments = (REF, Positional("requester", "USER", help="who asked"))
    reads_only = False

    def run_command(self) -> None:
        from ..serialize import grant_json

        view = self.resolve(self.ref)
        decided = self.service.decide(
            self.username,
            view.resource.kind,
            view.resource.id,
            self.requester,
            {"decision": self.decision},
        )
        if self.json:
            answer: dict[str, Any] = {
                "decision": decided.decision,
                "requester": decided.request.requester,
                "permission": decided.request.permission.label,
            }
            if decided.share:
                answer["grant"] = grant_json(decided.share.grant)
            return self.dump(answer)
        what = f"{decided.request.requester}'s request for {decided.request.permission.label} on {view.resource.kind.value} {view.resource.name!r}"
        self.out(f"{'approved' if self.decision == 'approve' else 'denied'} {what}")


class ApproveCommand(_Decide):
    command = "approve"
    name = "jupyter-share-approve"
    description = "approve a request for more: the requester's grant becomes what they asked for"
    decision = "approve"


class DenyCommand(_Decide):
    command = "deny"
    name = "jupyter-share-deny"
    description = "deny a request for more; it closes"
    decision = "deny"


class WithdrawCommand(StoreCommand):
    command = "withdraw"
    name = "jupyter-share-withdraw"
    description = "take your own open request for more back"
    arguments = (REF,)
    reads_only = False

    def run_command(self) -> None:
        view = self.resolve(self.ref)
        self.service.withdraw(self.username, view.resource.kind, view.resource.id, self.username)
        if not self.json:  # the API answers 204: no body
            self.out(f"withdrew your request on {view.resource.kind.value} {view.resource.name!r}")
