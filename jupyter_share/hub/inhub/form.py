"""The "Launch from" options form of `options_form` (HTML), and reading it back (run in the
Hub's process)."""

from __future__ import annotations

import html
from typing import Any

from .offers import CHOICE, DEFAULT_LABEL, Offer, _offers_or_note

# -- the hooks ------------------------------------------------------------------------------


def options_from_form(form_data: dict) -> dict:
    """`Spawner.options_from_form` for the form of `options_form`: the choice as one string.
    Optional: `apply_user_options` also takes the form's list of one value."""
    options = {}
    for key, values in (form_data or {}).items():
        if isinstance(values, list) and len(values) == 1:
            options[key] = values[0]
        else:
            options[key] = values
    return options


def _esc(text: Any) -> str:
    """HTML-escaped text, with braces as character references too, so that no template
    engine the form might pass through reads a name as a template."""
    return html.escape(str(text), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _facts(offer: Offer) -> str:
    """A one-line summary of what an option launches."""
    parts = [offer.reference] if offer.reference else []
    if offer.kind == "formation":
        spec = offer.spec
        if spec.get("cpu") is not None:
            parts.append(
                f"{spec['cpu']:g} CPU"
                if isinstance(spec["cpu"], (int, float))
                else f"{spec['cpu']} CPU"
            )
        if spec.get("memory"):
            parts.append(f"{spec['memory']} memory")
        if spec.get("gpu"):
            parts.append(f"{spec['gpu']} GPU")
        if spec.get("start_url"):
            parts.append(f"opens {spec['start_url']}")
    if offer.refused_env:
        parts.append(_refused_note(offer))
    if offer.unavailable:
        parts.append(f"cannot be launched: {offer.unavailable}")
    return " · ".join(str(p) for p in parts)


def _refused_note(offer: Offer) -> str:
    return f"does not set {', '.join(offer.refused_env)}: not on this Hub's allow-list of a formation's variables"


def _previous_choice(spawner: Any) -> str:
    try:
        previous = getattr(spawner, "user_options", None) or {}
        value = previous.get(CHOICE)
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else ""
        return value if isinstance(value, str) else ""
    except Exception:
        return ""


async def options_form(spawner: Any) -> str:
    """`Spawner.options_form`: a "Launch from" drop-down of the user's own and shared
    formations and images (those with a container image reference), and the default
    environment. Shown with a note, and the default alone, when the service cannot answer."""
    offers, note = await _offers_or_note(spawner, "options")
    selected = _previous_choice(spawner)

    def option(offer: Offer) -> str:
        attrs = f'value="{_esc(offer.value)}"'
        label = offer.label
        if offer.unavailable:
            attrs += " disabled"
            label += f" (cannot be launched: {offer.unavailable})"
        elif offer.value == selected:
            attrs += " selected"
        title = _facts(offer)
        if title:
            attrs += f' title="{_esc(title)}"'
        return f"    <option {attrs}>{_esc(label)}</option>"

    lines = [
        '<div class="form-group jupyter-share-launch">',
        '  <label for="jupyter-share-choice">Launch from</label>',
        f'  <select class="form-control" id="jupyter-share-choice" name="{CHOICE}">',
        f'    <option value=""{" selected" if not selected else ""}>{_esc(DEFAULT_LABEL)}</option>',
    ]
    for kind, group in (("formation", "Formations"), ("image", "Images")):
        members = [o for o in offers if o.kind == kind]
        if members:
            lines.append(f'  <optgroup label="{group}">')
            lines.extend(option(o) for o in members)
            lines.append("  </optgroup>")
    lines.append("  </select>")
    for offer in offers:
        if offer.refused_env and not offer.unavailable:
            lines.append(
                f'  <p class="help-block text-warning">{_esc(offer.label)} {_esc(_refused_note(offer))}.</p>'
            )
    if note:
        lines.append(f'  <p class="help-block text-warning">{_esc(note)}</p>')
    elif not offers:
        lines.append(
            '  <p class="help-block">Nothing to choose yet: images and formations that you create, '
            "or that others share with you, appear here.</p>"
        )
    lines.append("</div>")
    return "\n".join(lines) + "\n"
