"""`SharePanel`: share a container, image or formation from a notebook cell."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import ipywidgets as widgets

from ..client import ShareClient, ShareError
from ._base import (
    KIND_NOUNS,
    LINK_STYLE,
    Panel,
    esc,
    expiry_text,
    muted,
    principal_text,
    reports_errors,
)
from .who_is_in import guest_rows, lower_to_view

PERMISSIONS = [("can view", "view"), ("can edit", "edit"), ("can manage", "manage")]

#: How many names the picker offers at once.
MAX_OPTIONS = 40


class GrantRow(widgets.HBox):
    """One line of the access list: who, what they may do, when it expires, and Revoke."""

    def __init__(self, grant: dict, on_revoke: Any, on_new_link: Any | None = None):
        self.grant = grant
        self.revoke_button = widgets.Button(
            description="Revoke",
            icon="times",
            tooltip=f"Take {principal_text(grant)}'s access away",
            layout=widgets.Layout(width="auto"),
        )
        self.revoke_button.on_click(lambda _button: on_revoke(grant))
        # A personal link is shown once; a lost one is replaced, not recovered.
        self.link_button: widgets.Button | None = None
        if on_new_link is not None:
            self.link_button = widgets.Button(
                description="New link",
                icon="link",
                tooltip=f"Make a new personal link for {principal_text(grant)} (the old one stops working)",
                layout=widgets.Layout(width="auto"),
            )
            self.link_button.on_click(lambda _button: on_new_link(grant))
        super().__init__(
            [
                widgets.Label(principal_text(grant), layout=widgets.Layout(width="14em")),
                widgets.Label(grant["permission"], layout=widgets.Layout(width="5em")),
                widgets.Label(
                    expiry_text(grant.get("expires_at")), layout=widgets.Layout(width="16em")
                ),
                self.revoke_button,
            ]
            + ([self.link_button] if self.link_button else []),
            layout=widgets.Layout(align_items="center"),
        )


class RequestRow(widgets.HBox):
    """An open request for more: who, what they hold and ask for, why, and Approve / Deny."""

    def __init__(self, request: dict, on_decide: Any):
        self.request = request
        self.approve_button = widgets.Button(
            description="Approve",
            icon="check",
            button_style="success",
            tooltip=f"Give {request['requester']} {request['permission']}",
            layout=widgets.Layout(width="auto"),
        )
        self.deny_button = widgets.Button(
            description="Deny",
            icon="times",
            tooltip="Close the request; nothing changes",
            layout=widgets.Layout(width="auto"),
        )
        self.approve_button.on_click(lambda _button: on_decide(request, "approve"))
        self.deny_button.on_click(lambda _button: on_decide(request, "deny"))
        why = f": “{request['message']}”" if request.get("message") else ""
        super().__init__(
            [
                widgets.HTML(
                    f"<b>{esc(request['requester'])}</b> ({esc(request.get('holds') or 'no access')}) asks for "
                    f"<b>{esc(request['permission'])}</b>{esc(why)}",
                    layout=widgets.Layout(width="30em"),
                ),
                self.approve_button,
                self.deny_button,
            ],
            layout=widgets.Layout(align_items="center"),
        )


class SharePanel(Panel):
    """Share a resource (by default the container this notebook runs in) with users and groups.

    Type a name in `principal_input` (it completes from the directory), pick
    `permission_input`, optionally `expiry_input`, and press `share_button`. `grants_box` lists
    who has access, each with a Revoke button; `status` says what happened."""

    def __init__(
        self, resource: str | dict = "sessions/current", client: ShareClient | None = None
    ):
        self.resource_ref = resource
        self.resource: dict | None = None
        self.grants: list = []
        self._me: str | None = None
        self._mode: str | None = None
        self._completions: dict = {}

        self.title = widgets.HTML()
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Reload from the server", layout=widgets.Layout(width="auto")
        )
        self.principal_input = widgets.Combobox(
            placeholder="user, or group:name",
            ensure_option=False,
            tooltip="Who to share with: a user name, or group:NAME",
            layout=widgets.Layout(width="16em"),
        )
        self.permission_input = widgets.Dropdown(
            options=PERMISSIONS, value="view", layout=widgets.Layout(width="9em")
        )
        self.expiry_input = widgets.DatePicker(
            description="until",
            tooltip="Optional: access ends when this day ends (in this kernel's time zone)",
            min=date.today(),
            style={"description_width": "initial"},
            layout=widgets.Layout(width="13em"),
        )
        self.share_button = widgets.Button(
            description="Share", icon="share-alt", button_style="primary"
        )
        self.personal_link = widgets.HTML(layout=widgets.Layout(display="none"))
        self.grants_box = widgets.VBox(layout=widgets.Layout(margin="0 0 0 8px"))
        #: Open requests for more, each with Approve and Deny (shown when there are some).
        self.requests: list = []
        self.requests_box = widgets.VBox(layout=widgets.Layout(margin="0 0 0 8px"))
        #: Who is in the container now (containers only), each with Revoke and View only.
        self.guests: list = []
        self.guests_box = widgets.VBox(layout=widgets.Layout(margin="0 0 0 8px"))

        super().__init__(client)
        self.refresh_button.on_click(self._on_refresh)
        self.share_button.on_click(self._on_share)
        self.principal_input.observe(self._on_typing, names="value")
        self.children = [
            widgets.HBox(
                [self.title, self.refresh_button],
                layout=widgets.Layout(justify_content="space-between", align_items="center"),
            ),
            widgets.HBox(
                [self.principal_input, self.permission_input, self.expiry_input, self.share_button],
                layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
            ),
            self.status,
            self.personal_link,
            widgets.HTML("<b>Who has access</b>"),
            self.grants_box,
            self.guests_box,
            self.requests_box,
        ]
        self.layout = widgets.Layout(
            border="1px solid var(--jp-border-color2, #e0e0e0)", padding="6px", max_width="52em"
        )
        self.refresh()

    # -- loading --------------------------------------------------------------------------------

    @property
    def ref_text(self) -> str:
        """The resource as it was asked for: "images/ID", "sessions/current"."""
        ref = self.resource_ref
        return f"{ref.get('kind')}s/{ref.get('id')}" if isinstance(ref, dict) else str(ref)

    @property
    def noun(self) -> str:
        kind = self.resource["kind"] if self.resource else self.ref_text.split("/")[0].rstrip("s")
        return KIND_NOUNS.get(kind, "resource")

    def refresh(self) -> None:
        """Reload the resource and its access list from the server (errors go to `status`)."""
        self._completions.clear()
        self._load()

    @reports_errors
    def _load(self) -> bool:
        try:
            if self._me is None:
                me = self.client.me()
                self._me, self._mode = me["username"], me.get("mode")
            self.resource = self.client.get(self.resource_ref)
        except ShareError:
            self.title.value = f"<b>Share</b> <code>{esc(self.ref_text)}</code>"
            self._set_enabled(False)
            self.grants_box.children = []
            raise
        self._show_title()
        access = self.resource.get("access")
        if access not in ("owner", "manage"):
            self._set_enabled(False)
            self.grants = []
            self.grants_box.children = [
                widgets.HTML(
                    muted(
                        f"You hold '{esc(access)}' here; sharing and the access list need 'manage'."
                    )
                )
            ]
            return True
        self._set_enabled(True)
        self.grants = self.client.grants(self.resource)
        self._show_grants()
        self._show_guests()
        self.requests = self.client.requests(self.resource)
        self.requests_box.children = (
            [widgets.HTML("<b>Asking for more</b>")]
            + [RequestRow(r, self._on_decide) for r in self.requests]
            if self.requests
            else []
        )
        if not self.principal_input.options:
            self._complete(self.principal_input.value)
        return True

    def _show_title(self) -> None:
        r = self.resource
        assert r is not None  # shown once it is loaded
        owner = "yours" if r.get("access") == "owner" else f"owned by {esc(r.get('owner'))}"
        self.title.value = (
            f"<b>Share {self.noun}</b> <code>{esc(r.get('name'))}</code> {muted(owner)}"
        )

    def _show_grants(self) -> None:
        if not self.grants:
            self.grants_box.children = [
                widgets.HTML(muted(f"Only you: this {self.noun} is not shared."))
            ]
            return
        assert self.resource is not None  # shown once it is loaded
        links = self.resource.get("kind") == "session" and self._mode == "standalone"
        self.grants_box.children = [
            GrantRow(
                g, self._on_revoke, self._on_new_link if links and g.get("kind") == "user" else None
            )
            for g in self.grants
        ]

    def _show_guests(self) -> None:
        assert self.resource is not None  # shown once it is loaded
        if self.resource.get("kind") != "session":
            self.guests, self.guests_box.children = [], []
            return
        try:
            self.guests = self.client.guests(self.resource)
        except ShareError as e:  # another server's container: its own server knows
            self.guests = []
            self.guests_box.children = [
                widgets.HTML("<b>Who is in now</b>"),
                widgets.HTML(muted(esc(e.message))),
            ]
            return
        self.guests_box.children = [widgets.HTML("<b>Who is in now</b>")] + guest_rows(
            self.guests, self._on_revoke_guest, self._on_lower_guest
        )

    @reports_errors
    def _on_revoke_guest(self, guest: dict) -> None:
        assert self.resource is not None  # its guests are shown once it is loaded
        self.client.revoke(self.resource, f"user:{guest['username']}")
        self._show_link({})
        if self._load():
            self.say(f"Revoked {guest['username']} ({guest['permission']})", success=True)

    @reports_errors
    def _on_lower_guest(self, guest: dict) -> None:
        lower_to_view(self.client, self.resource, guest)
        if self._load():
            self.say(f"{guest['username']} now has view", success=True)

    def _set_enabled(self, enabled: bool) -> None:
        for control in (
            self.principal_input,
            self.permission_input,
            self.expiry_input,
            self.share_button,
        ):
            control.disabled = not enabled

    # -- completion --------------------------------------------------------------------------

    @reports_errors
    def _on_typing(self, change: dict) -> None:
        self._complete(change["new"])

    def _complete(self, text: str) -> None:
        """Fill the picker with directory names that start with what was typed."""
        text = (text or "").strip()
        prefix, sep, rest = text.partition(":")
        scope, query = (prefix, rest) if sep and prefix in ("user", "group") else ("any", text)
        key = (scope, query)
        if key not in self._completions:
            found = self.client.directory(query)
            not_offered = {self._me, self.resource.get("owner") if self.resource else None}
            users = [u for u in found.get("users", []) if u not in not_offered]
            groups = [f"group:{g}" for g in found.get("groups", [])]
            names = (users if scope != "group" else []) + (groups if scope != "user" else [])
            self._completions[key] = names[:MAX_OPTIONS]
        options = self._completions[key]
        if tuple(options) != tuple(self.principal_input.options):
            self.principal_input.options = options

    # -- actions ---------------------------------------------------------------------------

    def _expires_at(self) -> str | None:
        day = self.expiry_input.value
        if day is None:
            return None
        # "until D" means through day D: the grant ends at the next local midnight.
        return datetime.combine(day + timedelta(days=1), time()).astimezone().isoformat()

    @reports_errors
    def _on_share(self, _button: Any = None) -> None:
        principal = (self.principal_input.value or "").strip()
        if not principal:
            self.say("Type the name of a user (or group:NAME) to share with.", error=True)
            return
        if self.resource is None:
            self.refresh()
            if self.resource is None:
                return
        before = {g["principal"]: g["permission"] for g in self.grants}
        grant = self.client.share(
            self.resource, principal, self.permission_input.value, self._expires_at()
        )
        who = principal_text(grant)
        until = f", {expiry_text(grant['expires_at'])}" if grant.get("expires_at") else ""
        previous = before.get(grant["principal"])
        if previous is None:
            message = f"Shared with {who} ({grant['permission']}){until}"
        elif previous == grant["permission"]:
            message = f"{who} already had {grant['permission']}{until}"
        else:
            message = f"{who} now has {grant['permission']} (was {previous}){until}"
        self._show_link(grant)
        # Back to the least power for the next share.
        self.principal_input.value = ""
        self.permission_input.value = "view"
        self.expiry_input.value = None
        self._completions.clear()
        if self._load():
            self.say(message, success=True)

    def _show_link(self, grant: dict) -> None:
        link = grant.get("link")
        if not link:
            self.personal_link.value = ""
            self.personal_link.layout.display = "none"
            return
        # A secret that signs the neighbour in: shown here only, never in the static fallback.
        # Widget HTML has the line height of one input row; a wrapped link needs text spacing.
        self.personal_link.value = (
            f'<div style="line-height: 1.5">Send {esc(principal_text(grant))} this personal link to open the '
            f"{self.noun} (it is theirs alone, and it is shown only now):<br>"
            f'<a href="{esc(link)}" target="_blank" rel="noopener" style="{LINK_STYLE}">'
            f'<code style="word-break: break-all">{esc(link)}</code></a></div>'
        )
        self.personal_link.layout.display = None

    @reports_errors
    def _on_revoke(self, grant: dict) -> None:
        # The rows whose buttons call these exist only once the resource is loaded.
        assert self.resource is not None
        self.client.revoke(self.resource, grant["principal"])
        self._show_link({})
        if self._load():
            self.say(f"Revoked {principal_text(grant)} ({grant['permission']})", success=True)

    @reports_errors
    def _on_decide(self, request: dict, decision: str) -> None:
        assert self.resource is not None
        answer = (self.client.approve if decision == "approve" else self.client.deny)(
            self.resource, request["requester"]
        )
        if answer.get("link"):
            self._show_link(
                {
                    "principal": f"user:{request['requester']}",
                    "name": request["requester"],
                    "kind": "user",
                    "permission": request["permission"],
                    "link": answer["link"],
                }
            )
        if self._load():
            verb = "Approved" if decision == "approve" else "Denied"
            self.say(
                f"{verb} {request['requester']}'s request for {request['permission']}", success=True
            )

    @reports_errors
    def _on_new_link(self, grant: dict) -> None:
        assert self.resource is not None
        link = self.client.new_link(self.resource, grant["principal"])
        self._show_link({**grant, "link": link})
        self.say(
            f"New personal link for {principal_text(grant)}; the old one no longer works",
            success=True,
        )

    @reports_errors
    def _on_refresh(self, _button: Any = None) -> None:
        self.say("")
        self._show_link({})
        self.refresh()

    # -- static output --------------------------------------------------------------------

    def summary_text(self) -> str:
        if self.resource is None:
            return f"SharePanel: {self.ref_text} (not loaded){': ' + self.last_error if self.last_error else ''}"
        r = self.resource
        head = f"SharePanel: {self.noun} {r.get('name')!r} of {r.get('owner')}"
        lines = [
            f"  {principal_text(g)}: {g['permission']}, {expiry_text(g.get('expires_at'))}"
            for g in self.grants
        ]
        if not lines and r.get("access") in ("owner", "manage"):
            lines = ["  not shared"]
        return "\n".join([head] + lines)

    def summary_html(self) -> str:
        if self.resource is None:
            return f"<p><b>Share</b> <code>{esc(self.ref_text)}</code>: {esc(self.last_error or 'not loaded')}</p>"
        r = self.resource
        rows = "".join(
            f"<tr><td>{esc(principal_text(g))}</td><td>{esc(g['permission'])}</td><td>{esc(expiry_text(g.get('expires_at')))}</td></tr>"
            for g in self.grants
        )
        if r.get("access") not in ("owner", "manage"):
            access = f"<p>You hold '{esc(r.get('access'))}' on it.</p>"
        elif rows:
            access = f"<table><thead><tr><th>who</th><th>permission</th><th>expiry</th></tr></thead><tbody>{rows}</tbody></table>"
        else:
            access = "<p>Not shared.</p>"
        return f"<p><b>Share {self.noun}</b> <code>{esc(r.get('name'))}</code> of {esc(r.get('owner'))}</p>{access}"
