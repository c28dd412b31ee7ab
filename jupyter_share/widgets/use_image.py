"""`UseImage`: "Use in this container" for the notebook widgets: builds an environment and a
kernel in this container from an image (`POST images/{id}/use`), with a progress bar, Cancel
and the build's log. `SharedWithMe` and `ImagePanel` show one per image."""

from __future__ import annotations

import threading

import ipywidgets as widgets

from ..client import ShareClient
from ._base import Panel, esc, reports_errors


class UseImage(Panel):
    """`use_button` starts the build; `progress` and `status` follow it (every half second, in
    a thread), `cancel_button` stops it, `log_button` shows its log in `log_view`. The environment
    as last read is in `environment`."""

    def __init__(self, image: dict, client: ShareClient | None = None, poll: float = 0.5):
        self.image = image
        self.environment: dict | None = None
        self.poll = poll
        self._done = threading.Event()
        self._done.set()
        self.use_button = widgets.Button(
            description="Use in this container",
            icon="play",
            tooltip="Build an environment and a kernel here from the image's packages",
            layout=widgets.Layout(width="auto"),
        )
        self.progress = widgets.FloatProgress(
            value=0, min=0, max=1, layout=widgets.Layout(width="12em", display="none")
        )
        self.cancel_button = widgets.Button(
            description="Cancel", layout=widgets.Layout(width="auto", display="none")
        )
        self.log_button = widgets.Button(
            description="Log", layout=widgets.Layout(width="auto", display="none")
        )
        self.log_view = widgets.HTML(layout=widgets.Layout(display="none"))
        super().__init__(client)
        self.use_button.on_click(lambda _b: self.start())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.log_button.on_click(lambda _b: self.show_log())
        self.children = [
            widgets.HBox(
                [self.use_button, self.progress, self.cancel_button, self.log_button],
                layout=widgets.Layout(align_items="center"),
            ),
            self.status,
            self.log_view,
        ]

    @reports_errors
    def start(self) -> None:
        plan = self.client.use_plan(self.image)
        if plan["refusal"]:
            self.say(plan["refusal"], error=True)
            return
        self.say(plan["python"]["note"])
        self._show(self.client.use_image(self.image))
        if self.environment and self.environment["state"] == "building":
            self._done.clear()
            threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        try:
            while self.environment and self.environment["state"] == "building":
                self._done.wait(self.poll)
                try:
                    self._show(self.client.environment_build(self.environment["id"]))
                except Exception as e:  # the server went away: say so and stop following
                    self.say(f"could not follow the build: {e}", error=True)
                    return
        finally:
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the build ends; whether it did within `timeout`."""
        return self._done.wait(timeout)

    def _show(self, env: dict) -> None:
        self.environment = env
        state = env["state"]
        building = state == "building"
        self.progress.layout.display = None if building else "none"
        self.cancel_button.layout.display = None if building else "none"
        self.log_button.layout.display = None
        self.use_button.disabled = building or state == "ready"
        if building:
            steps = ("preparing", "resolving", "downloading", "installing", "registering")
            index = steps.index(env["step"]) if env["step"] in steps else 0
            part = env["done"] / env["total"] if env["total"] else 0
            self.progress.value = min(1.0, (index + part) / len(steps))
            count = f" {env['done']}/{env['total']}" if env["total"] else ""
            self.say(f"{env['display_name']}: {env['step']}{count}")
        elif state == "ready":
            self.say(
                f"Kernel {env['display_name']!r} is ready: choose it in the launcher or "
                "Kernel → Change Kernel.",
                success=True,
            )
        elif state == "failed":
            self.say(f"{env['display_name']} could not be built: {env['message']}", error=True)
        else:
            self.say(f"{env['display_name']}: {env['message']}")

    @reports_errors
    def cancel(self) -> None:
        if self.environment:
            self._show(self.client.cancel_environment(self.environment["id"]))

    @reports_errors
    def show_log(self) -> None:
        if self.environment:
            text = self.client.environment_log(self.environment["id"])
            self.log_view.value = f"<pre style='max-height: 20em; overflow: auto'>{esc(text)}</pre>"
            self.log_view.layout.display = None

    def summary_text(self) -> str:
        env = self.environment
        state = env["state"] if env else "not used here"
        return f"UseImage: {self.image.get('name')!r}: {state}"
