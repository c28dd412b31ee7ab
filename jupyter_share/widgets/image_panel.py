"""`ImagePanel`: make an image of the container this notebook runs in, then share it."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..client import ShareClient
from ._base import Panel, esc, muted, reports_errors
from .share_panel import SharePanel
from .use_image import UseImage


class ImagePanel(Panel):
    """Create an image from this container: `name_input`, `description_input`,
    `capture_input` (record this container's environment), an optional `reference_input`
    (a container image reference), and `create_button`. The new image is in `image`, and its
    `share_panel` appears below."""

    def __init__(self, client: ShareClient | None = None):
        self.image: dict | None = None
        self.share_panel: SharePanel | None = None
        self.use: UseImage | None = None
        self.name_input = widgets.Text(
            placeholder="name, e.g. CARET", description="Name", layout=widgets.Layout(width="22em")
        )
        self.description_input = widgets.Textarea(
            placeholder="what it is for (optional)",
            description="Description",
            rows=2,
            layout=widgets.Layout(width="36em"),
        )
        self.reference_input = widgets.Text(
            placeholder="registry/name:tag (optional)",
            description="Reference",
            tooltip="The container image this one is, if it has one",
            layout=widgets.Layout(width="36em"),
        )
        self.capture_input = widgets.Checkbox(
            value=True,
            description="capture this container's environment",
            tooltip="Record this container's Python, packages and kernels in the image",
            layout=widgets.Layout(width="auto"),
        )
        self.create_button = widgets.Button(
            description="Create image", icon="camera", button_style="primary"
        )
        self.share_box = widgets.VBox()
        super().__init__(client)
        self.create_button.on_click(self._on_create)
        self.children = [
            widgets.HTML("<b>Create an image from this container</b>"),
            self.name_input,
            self.description_input,
            self.reference_input,
            self.capture_input,
            widgets.HBox(
                [self.create_button],
                layout=widgets.Layout(margin="0 0 0 var(--jp-widgets-inline-label-width, 90px)"),
            ),
            self.status,
            self.share_box,
        ]
        self.layout = widgets.Layout(
            border="1px solid var(--jp-border-color2, #e0e0e0)", padding="6px", max_width="52em"
        )

    @reports_errors
    def _on_create(self, _button: Any = None) -> None:
        name = self.name_input.value.strip()
        if not name:
            self.say("Give the image a name first.", error=True)
            return
        reference = self.reference_input.value.strip()
        self.say(
            "Creating the image…"
            + (" (capturing the environment takes a moment)" if self.capture_input.value else "")
        )
        image = self.client.create_image(
            name,
            spec={"reference": reference} if reference else None,
            description=self.description_input.value,
            capture=self.capture_input.value,
        )
        self.image = image
        environment = (image.get("spec") or {}).get("environment")
        captured = (
            f", with this container's environment ({len(environment.get('packages') or [])} packages)"
            if environment
            else ""
        )
        self.say(f"Created image {image['name']}{captured}. Share it below.", success=True)
        self.share_panel = SharePanel(image, client=self.client)
        # Its environment as a kernel here too (e.g. after changing the container's packages).
        self.use = UseImage(image, client=self.client) if environment else None
        self.share_box.children = [self.share_panel] + ([self.use] if self.use else [])

    def summary_text(self) -> str:
        if self.image is None:
            return "ImagePanel: create an image from this container"
        return f"ImagePanel: created image {self.image['name']!r} ({self.image['id']})"

    def summary_html(self) -> str:
        if self.image is None:
            return (
                "<p><b>Create an image from this container</b> "
                + muted("(name, description, capture)")
                + "</p>"
            )
        shared = self.share_panel.summary_html() if self.share_panel else ""
        return f"<p><b>Image</b> <code>{esc(self.image['name'])}</code> created ({esc(self.image['id'])})</p>{shared}"
