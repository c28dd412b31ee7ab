"""What the notebook panels have in common: a status line that every error lands in, plain
text and HTML fallbacks for a saved notebook's static output, and small formatting helpers."""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import ipywidgets as widgets

from ..client import ShareClient, ShareError

log = logging.getLogger("jupyter_share.widgets")

# JupyterLab's theme colours, with plain fallbacks for other front ends.
ERROR_COLOR = "var(--jp-error-color1, #d32f2f)"
SUCCESS_COLOR = "var(--jp-success-color1, #388e3c)"
MUTED_COLOR = "var(--jp-ui-font-color2, #616161)"
# Widget HTML is not styled like rendered Markdown: links need their colour set.
LINK_STYLE = "color: var(--jp-content-link-color, #1976d2)"

KIND_TITLES = {"image": "Images", "formation": "Formations", "session": "Containers"}
KIND_NOUNS = {"image": "image", "formation": "formation", "session": "container"}


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def when(value: str | None) -> str:
    """An API timestamp ("2026-01-31T12:00:00.000Z") for a person: "2026-01-31 12:00 UTC"."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.strftime("%Y-%m-%d %H:%M UTC")


def expiry_text(expires_at: str | None) -> str:
    return f"expires {when(expires_at)}" if expires_at else "no expiry"


def principal_text(grant: dict) -> str:
    """How a grant's principal reads: "bob", or "group class-2026"."""
    return (
        f"group {grant['name']}"
        if grant.get("kind") == "group"
        else grant.get("name", grant.get("principal", "?"))
    )


def muted(text: str) -> str:
    return f'<span style="color: {MUTED_COLOR}">{text}</span>'


def reports_errors(handler: Callable) -> Callable:
    """Wrap a click or change handler of a panel so that it never raises: a refusal shows the
    server's message in the panel's status, anything else a short line (and the log)."""

    @functools.wraps(handler)
    def wrapper(self: Panel, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except ShareError as e:
            self.say(e.message, error=True)
        except Exception as e:  # a click must not raise into the front end's log
            log.exception("jupyter_share: %s failed", handler.__name__)
            self.say(f"unexpected error ({type(e).__name__}): {e}", error=True)
        return None

    return wrapper


class Panel(widgets.VBox):
    """A VBox with a `status` line and a useful static fallback in its display data."""

    def __init__(self, client: ShareClient | None = None, **kwargs: Any):
        self.client = client if client is not None else ShareClient()
        self.status = widgets.HTML(value="", layout=widgets.Layout(margin="2px 0 2px 4px"))
        #: The last error shown in `status`, until the next message replaces it.
        self.last_error: str | None = None
        super().__init__(**kwargs)

    def say(self, text: str, error: bool = False, success: bool = False) -> None:
        """Show a message (plain text, escaped here) in the status line."""
        self.last_error = text if error else None
        color = ERROR_COLOR if error else SUCCESS_COLOR if success else MUTED_COLOR
        self.status.value = f'<span style="color: {color}">{esc(text)}</span>' if text else ""

    @property
    def status_text(self) -> str:
        """The status line as plain text."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.status.value))

    # -- display -------------------------------------------------------------------------------

    def summary_text(self) -> str:
        """One or a few lines for text/plain (a saved notebook without a widget manager)."""
        return type(self).__name__

    def summary_html(self) -> str:
        """The panel as static HTML, for a saved notebook's output without widget state."""
        return f"<p>{esc(self.summary_text())}</p>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        data = super()._repr_mimebundle_(**kwargs)
        if data is None:
            return None
        note = muted("<small>(as when the cell ran; run it again to use the panel)</small>")
        data["text/plain"] = self.summary_text()
        data["text/html"] = f'<div class="jupyter-share-static">{self.summary_html()}{note}</div>'
        return data
