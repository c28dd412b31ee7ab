"""`WhoIsIn`: who is in this container now, each guest with Revoke (and, above view, lower to
view), from a notebook cell. `SharePanel` on a container shows the same rows under its access
list."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..client import ShareClient
from ._base import Panel, esc, muted, reports_errors, when


def open_text(guest: dict) -> str:
    """What a guest has open, for a person: "2 kernels (a.ipynb), 1 terminal"."""
    parts = []
    kernels, terminals = guest.get("kernels") or [], guest.get("terminals") or []
    documents = guest.get("documents") or []
    if kernels:
        parts.append(f"{len(kernels)} kernel{'s' if len(kernels) != 1 else ''}")
    if terminals:
        parts.append(f"{len(terminals)} terminal{'s' if len(terminals) != 1 else ''}")
    if documents:
        parts.append(", ".join(documents))
    return "; ".join(parts) or "nothing open"


def guest_text(guest: dict) -> str:
    state = "in now" if guest.get("in_now") else "idle"
    return (
        f"{guest['username']} ({guest['permission']}), {state}: since "
        f"{when(guest.get('signed_in_at'))}, last active {when(guest.get('last_active_at'))}"
        f" from {guest.get('address') or '?'}; {open_text(guest)}"
    )


class GuestRow(widgets.HBox):
    """One guest in the container: who, their permission, since when, last activity, what
    they have open, with Revoke and (above view) View only."""

    def __init__(self, guest: dict, on_revoke: Any, on_lower: Any | None = None):
        self.guest = guest
        name = guest["username"]
        self.revoke_button = widgets.Button(
            description="Revoke",
            icon="times",
            tooltip=f"Take {name}'s access away: their kernels, terminals and documents close",
            layout=widgets.Layout(width="auto"),
        )
        self.revoke_button.on_click(lambda _button: on_revoke(guest))
        self.lower_button: widgets.Button | None = None
        if on_lower is not None and guest.get("permission") != "view":
            self.lower_button = widgets.Button(
                description="View only",
                icon="eye",
                tooltip=f"Lower {name} to view: what they started is stopped",
                layout=widgets.Layout(width="auto"),
            )
            self.lower_button.on_click(lambda _button: on_lower(guest))
        state = "in now" if guest.get("in_now") else "idle"
        super().__init__(
            [
                widgets.HTML(
                    f"<b>{esc(name)}</b> {esc(guest['permission'])} · {esc(state)}<br>"
                    + muted(
                        f"since {esc(when(guest.get('signed_in_at')))}, last active "
                        f"{esc(when(guest.get('last_active_at')))} from "
                        f"{esc(guest.get('address') or '?')} · {esc(open_text(guest))}"
                    ),
                    layout=widgets.Layout(width="34em"),
                ),
                self.revoke_button,
            ]
            + ([self.lower_button] if self.lower_button else []),
            layout=widgets.Layout(align_items="center"),
        )


class WhoIsIn(Panel):
    """Who is in a container now (by default the one this notebook runs in): its owner's and
    managers' view of the guests its server holds, each with Revoke and View only. `refresh()`
    (or the button) reads it again."""

    def __init__(
        self, resource: str | dict = "sessions/current", client: ShareClient | None = None
    ):
        self.resource_ref = resource
        self.guests: list[dict] = []
        self.title = widgets.HTML("<b>Who is in this container now</b>")
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Look again", layout=widgets.Layout(width="auto")
        )
        self.guests_box = widgets.VBox(layout=widgets.Layout(margin="0 0 0 8px"))
        super().__init__(client)
        self.refresh_button.on_click(lambda _button: self._on_refresh())
        self.children = [
            widgets.HBox(
                [self.title, self.refresh_button],
                layout=widgets.Layout(justify_content="space-between", align_items="center"),
            ),
            self.guests_box,
            self.status,
        ]
        self.layout = widgets.Layout(
            border="1px solid var(--jp-border-color2, #e0e0e0)", padding="6px", max_width="52em"
        )
        self.refresh()

    def refresh(self) -> None:
        self._load()

    @reports_errors
    def _on_refresh(self) -> None:
        self.say("")
        self._load()

    @reports_errors
    def _load(self) -> bool:
        try:
            self.guests = self.client.guests(self.resource_ref)
        except Exception:
            self.guests = []
            self.guests_box.children = []
            raise
        self.guests_box.children = guest_rows(self.guests, self._on_revoke, self._on_lower)
        return True

    @reports_errors
    def _on_revoke(self, guest: dict) -> None:
        self.client.revoke(self.resource_ref, f"user:{guest['username']}")
        if self._load():
            self.say(f"Revoked {guest['username']} ({guest['permission']})", success=True)

    @reports_errors
    def _on_lower(self, guest: dict) -> None:
        lower_to_view(self.client, self.resource_ref, guest)
        if self._load():
            self.say(f"{guest['username']} now has view", success=True)

    def summary_text(self) -> str:
        lines = [f"  {guest_text(g)}" for g in self.guests] or ["  nobody"]
        return "\n".join(["WhoIsIn: who is in this container now"] + lines)

    def summary_html(self) -> str:
        items = "".join(f"<li>{esc(guest_text(g))}</li>" for g in self.guests)
        return f"<p><b>Who is in this container now</b></p><ul>{items or '<li>nobody</li>'}</ul>"


def guest_rows(guests: list[dict], on_revoke: Any, on_lower: Any) -> list:
    if not guests:
        return [widgets.HTML(muted("Nobody is in this container now."))]
    return [GuestRow(g, on_revoke, on_lower) for g in guests]


def lower_to_view(client: ShareClient, resource: Any, guest: dict) -> None:
    """Lower a guest's own grant to view, keeping its expiry."""
    principal = f"user:{guest['username']}"
    grant = next((g for g in client.grants(resource) if g["principal"] == principal), None)
    client.share(resource, principal, "view", (grant or {}).get("expires_at"))
