"""`SharedWithMe`: everything others shared with me, grouped by kind, with what to do with it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import ipywidgets as widgets

from ..client import ShareClient, ShareError, _kind
from ._base import (
    KIND_NOUNS,
    KIND_TITLES,
    LINK_STYLE,
    Panel,
    esc,
    expiry_text,
    muted,
    reports_errors,
    when,
)
from .use_image import UseImage

KIND_ORDER = ("image", "formation", "session")

ENVIRONMENT_FILES = {"requirements": "requirements.txt", "conda": "environment.yml"}
ENVIRONMENT_TOOLS = {"requirements": "pip", "conda": "conda"}

# Name, owner, permission, expiry, actions: fixed widths, so that every kind's grid lines up.
COLUMNS = "14em 6em 6em 16em auto"


class SharedItem:
    """One resource shared with me: its cells in the kind's grid, and its action buttons."""

    def __init__(self, resource: dict, panel: SharedWithMe):
        self.resource = resource
        kind = resource["kind"]
        self.buttons: dict[str, widgets.Button] = {}
        actions: list = []
        if kind == "session":
            url = (resource.get("spec") or {}).get("url")
            hint = f"Open {resource.get('owner')}'s container (the personal link they sent you signs you in)"
            self.open_link = widgets.HTML(
                f'<a href="{esc(url)}" target="_blank" rel="noopener" title="{esc(hint)}" style="{LINK_STYLE}">Open ↗</a>'
                if url
                else muted("no address")
            )
            actions.append(self.open_link)
        elif kind == "image":
            self._button(
                "spec",
                "Spec",
                "Show the image's reference and captured environment",
                panel.show_spec,
            )
            if resource.get("environment"):  # the list's summary of a captured environment
                self._button(
                    "use",
                    "Use here",
                    "Build an environment and a kernel in this container from its packages",
                    panel.use_image,
                    icon="play",
                )
                for fmt, filename in ENVIRONMENT_FILES.items():
                    tip = f"Show and download its environment as {filename} ({ENVIRONMENT_TOOLS[fmt]})"
                    self._button(
                        fmt,
                        ENVIRONMENT_TOOLS[fmt],
                        tip,
                        panel.show_environment,
                        fmt,
                        icon="download",
                    )
            actions.extend(self.buttons.values())
        else:
            self._button("template", "Template", "Show the launch template", panel.show_template)
            self._button(
                "launch",
                "Launch",
                "Start a new Jupyter server of yours from it (run by this server)",
                panel.launch,
                icon="play",
            )
            actions.extend(self.buttons.values())
        more = {"view": "edit", "edit": "manage"}.get(resource.get("access", ""))
        if more:
            ask = widgets.Button(
                description=f"Ask for {more}",
                tooltip=f"Ask {resource.get('owner')} for {more} permission",
                layout=widgets.Layout(width="auto"),
            )
            ask.on_click(lambda _button: panel.ask(self.resource, more))
            self.buttons["ask"] = ask
            actions.append(ask)
        self.cells = [
            # A Label cuts a long name with an ellipsis; the tooltip has all of it.
            widgets.Label(
                resource.get("name", ""),
                tooltip=resource.get("name"),
                style={"font_weight": "bold"},
            ),
            widgets.Label(resource.get("owner", "")),
            widgets.Label(resource.get("access", "")),
            widgets.Label(expiry_text(resource.get("expires_at"))),
            widgets.HBox(actions),
        ]

    def _button(
        self, key: str, label: str, tooltip: str, action: Any, *args: Any, icon: str = ""
    ) -> None:
        button = widgets.Button(
            description=label, tooltip=tooltip, icon=icon, layout=widgets.Layout(width="auto")
        )
        button.on_click(lambda _button: action(self.resource, *args))
        self.buttons[key] = button


class SharedWithMe(Panel):
    """What others shared with me (all kinds, or one `kind`), with `refresh_button`, the
    `items` as the API answered them, `status`, and `detail` where a spec, template or
    environment is shown."""

    def __init__(self, client: ShareClient | None = None, kind: str | None = None):
        self.kind = _kind(kind)[:-1] if kind else None
        self.items: list = []
        self.rows: list = []
        self.headings: dict = {}
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", layout=widgets.Layout(width="auto")
        )
        self.sections_box = widgets.VBox()
        self.detail = widgets.HTML(layout=widgets.Layout(display="none", margin="4px 0 0 0"))
        #: The image being used here, if any (`use_image`).
        self.using: UseImage | None = None
        #: The answer of the last launch of a formation (`launch`), if any.
        self.launched: dict | None = None
        self.use_box = widgets.VBox()
        super().__init__(client)
        self.refresh_button.on_click(self._on_refresh)
        title = (
            f"Shared with me: {KIND_TITLES[self.kind].lower()}" if self.kind else "Shared with me"
        )
        self.children = [
            widgets.HBox(
                [widgets.HTML(f"<b>{esc(title)}</b>"), self.refresh_button],
                layout=widgets.Layout(justify_content="space-between", align_items="center"),
            ),
            self.sections_box,
            self.status,
            self.use_box,
            self.detail,
        ]
        self.layout = widgets.Layout(
            border="1px solid var(--jp-border-color2, #e0e0e0)", padding="6px", max_width="64em"
        )
        self.refresh()

    # -- loading --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list from the server (errors go to `status`)."""
        self._load()

    @reports_errors
    def _load(self) -> bool:
        self.items = self.client.shared_with_me(self.kind)
        self.rows = [SharedItem(r, self) for r in self.items]
        self.headings = {}
        sections: list = []
        for kind in (self.kind,) if self.kind else KIND_ORDER:
            rows = [row for row in self.rows if row.resource["kind"] == kind]
            if not rows:
                continue
            heading = widgets.HTML(f"<b>{KIND_TITLES[kind]}</b> {muted(f'({len(rows)})')}")
            self.headings[kind] = heading
            cells = (
                [widgets.HTML(muted(h)) for h in ("name", "owner", "permission", "expiry", "")]
                if not sections
                else []
            )
            for row in rows:
                cells.extend(row.cells)
            grid = widgets.GridBox(
                cells,
                layout=widgets.Layout(
                    grid_template_columns=COLUMNS, align_items="center", grid_gap="0 8px"
                ),
            )
            sections += [heading, grid]
        if sections:
            self.sections_box.children = sections
        else:
            what = f"{KIND_NOUNS[self.kind]}s" if self.kind else "resources"
            self.sections_box.children = [
                widgets.HTML(muted(f"Nothing is shared with you yet (no {what})."))
            ]
        return True

    @reports_errors
    def _on_refresh(self, _button: Any = None) -> None:
        self.say("")
        self._hide_detail()
        if self._load():
            self.say(f"{len(self.items)} shared with you")

    # -- actions ---------------------------------------------------------------------------

    def _show_detail(self, html: str) -> None:
        # Widget HTML has the line height of one input row; tables and text need their own.
        self.detail.value = f'<div style="line-height: 1.5">{html}</div>'
        self.detail.layout.display = None

    def _hide_detail(self) -> None:
        self.detail.value = ""
        self.detail.layout.display = "none"

    @reports_errors
    def ask(self, resource: dict, permission: str = "edit", message: str = "") -> None:
        """Ask the owner of `resource` for `permission` (edit or manage), with a message."""
        self.client.ask(resource, permission, message)
        self.say(
            f"Asked {resource.get('owner')} for {permission} on {resource.get('name')}",
            success=True,
        )

    @reports_errors
    def show_spec(self, resource: dict) -> None:
        """Show an image's reference and a summary of its captured environment."""
        # A list leaves the captured environment out of the spec: read the image itself.
        spec = (self.client.get(resource) if resource.get("environment") else resource).get(
            "spec"
        ) or {}
        env = spec.get("environment") or {}
        facts = [("reference", spec.get("reference") or "none")]
        if env:
            facts += [
                ("python", env.get("python")),
                ("platform", env.get("platform")),
                ("packages", len(env.get("packages") or [])),
                ("conda", (env.get("conda") or {}).get("name") or "no"),
                (
                    "kernels",
                    ", ".join(k.get("name", "") for k in env.get("kernelspecs") or []) or "none",
                ),
                ("captured", when(env.get("captured_at"))),
            ]
        self._show_detail(self._facts_html(resource, facts) + self._raw_spec_html(spec))
        self.say("")

    @reports_errors
    def show_template(self, resource: dict) -> None:
        """Show a formation: its image, machine size, storage and settings."""
        spec = dict(resource.get("spec") or {})
        image = spec.get("image", "")
        try:
            # The image may be a resource id; show its name when the caller can see it.
            image_label = f"{self.client.get(f'images/{image}')['name']} ({image})"
        except ShareError:
            image_label = image
        facts = [("image", image_label)]
        for key in ("cpu", "memory", "gpu", "start_url"):
            if key in spec:
                facts.append((key, spec[key]))
        for mount in spec.get("storage") or []:
            facts.append(
                ("storage", f"{mount.get('mount_path')} {mount.get('size') or ''}".strip())
            )
        for name, value in (spec.get("env") or {}).items():
            facts.append(("env", f"{name}={value}"))
        self._show_detail(self._facts_html(resource, facts) + self._raw_spec_html(spec))
        self.say("")

    @reports_errors
    def launch(self, resource: dict) -> dict:
        """Launch a formation as a new server of mine (`ShareClient.launch`); the status says
        what was not applied, and where the new server is."""
        self.say(f"Launching {resource.get('name')}…")
        answer = self.launched = self.client.launch(resource)
        skipped = "; ".join(
            f"{item['field']}: {item['reason']}" for item in answer.get("not_applied") or []
        )
        if answer["state"] == "building":
            text = f"Building its environment first; {answer['name']} starts when it is ready"
        else:
            text = f"Launched {answer['name']}: {answer['url']}"
        self.say(text + (f". Not applied here: {skipped}" if skipped else ""), success=True)
        return answer

    def use_image(self, resource: dict) -> UseImage:
        """Build an environment and a kernel here from a shared image; its progress shows in
        `use_box` (see `UseImage`)."""
        self.using = UseImage(resource, client=self.client)
        self.use_box.children = [self.using]
        self.using.start()
        return self.using

    @reports_errors
    def show_environment(self, resource: dict, fmt: str = "requirements") -> None:
        """Fetch an image's environment file, show it, and offer it as a download."""
        filename = ENVIRONMENT_FILES[fmt]
        text = self.client.environment(resource, fmt)
        href = "data:text/plain;charset=utf-8," + quote(text)
        self._show_detail(
            f"<b>{esc(resource.get('name'))}</b>: <code>{filename}</code> "
            f'<a href="{href}" download="{esc(filename)}" style="{LINK_STYLE}">download</a>'
            f"<pre style='max-height: 20em; overflow: auto'>{esc(text)}</pre>"
        )
        self.say(f"{filename} of {resource.get('name')}: {len(text.splitlines())} lines")

    @staticmethod
    def _facts_html(resource: dict, facts: list) -> str:
        rows = "".join(
            f"<tr><th style='text-align: left'>{esc(k)}</th><td>{esc(v)}</td></tr>"
            for k, v in facts
        )
        of_whom = muted(
            f"{KIND_NOUNS.get(resource.get('kind', ''), 'resource')} of {esc(resource.get('owner'))}"
        )
        return f"<b>{esc(resource.get('name'))}</b> {of_whom}<table>{rows}</table>"

    @staticmethod
    def _raw_spec_html(spec: dict) -> str:
        text = esc(json.dumps(spec, indent=2))
        return f"<details><summary>spec as JSON</summary><pre style='max-height: 20em; overflow: auto'>{text}</pre></details>"

    # -- static output --------------------------------------------------------------------

    def summary_text(self) -> str:
        if self.last_error:
            return f"SharedWithMe: could not load: {self.last_error}"
        if not self.items:
            return "SharedWithMe: nothing shared"
        lines = [
            f"  {KIND_NOUNS[r['kind']]} {r['name']!r} from {r['owner']}: {r['access']}, {expiry_text(r.get('expires_at'))}"
            for r in self.items
        ]
        return "\n".join([f"SharedWithMe: {len(self.items)}"] + lines)

    def summary_html(self) -> str:
        if self.last_error:
            return f"<p><b>Shared with me</b>: could not load: {esc(self.last_error)}</p>"
        if not self.items:
            return "<p><b>Shared with me</b>: nothing</p>"
        rows = "".join(
            f"<tr><td>{esc(KIND_NOUNS[r['kind']])}</td><td>{esc(r['name'])}</td><td>{esc(r['owner'])}</td>"
            f"<td>{esc(r['access'])}</td><td>{esc(expiry_text(r.get('expires_at')))}</td></tr>"
            for r in self.items
        )
        return (
            "<p><b>Shared with me</b></p><table><thead><tr><th>kind</th><th>name</th><th>owner</th>"
            f"<th>permission</th><th>expiry</th></tr></thead><tbody>{rows}</tbody></table>"
        )
