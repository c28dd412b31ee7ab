"""Spawner hooks: launch a server from one's own and shared images and formations
(docs/jupyterhub.md, "Launching from a shared formation").

They run inside the JupyterHub process, for any Spawner::

    from jupyter_share.hub import options_form, apply_user_options

    c.Spawner.options_form = options_form              # "Launch from" drop-down
    c.Spawner.apply_user_options = apply_user_options  # the choice -> image, CPU, memory, env

or with the spawners' own selection mechanisms::

    from jupyter_share.hub import profile_list, allowed_images

    c.KubeSpawner.profile_list = profile_list          # one profile per formation and image
    c.DockerSpawner.allowed_images = allowed_images    # {display name: image reference}

Each hook acts as the spawning user and never with more power: it asks the Hub for a
short-lived token of that user that carries only `access:services!service=NAME`, and calls the
share service's REST API v1 with it (found in the Hub's environment as
`JUPYTER_SHARE_SERVICE_URL` and `JUPYTER_SHARE_SERVICE_NAME`, which `configure_jupyterhub` sets).
The listing is what the user sees on their own console: their images and formations and those
shared with them. `apply_user_options` never trusts the submitted form: it fetches the chosen
resource again with the user's token, so a resource the user may not see is refused.

How a choice maps onto the spawner:

| formation / image spec | spawner |
| --- | --- |
| `reference` of the image (a formation's `image` as a reference, or the reference of the image whose id it names) | `image` (on spawners that have it: DockerSpawner, KubeSpawner) and `JUPYTER_SHARE_IMAGE` in `environment` |
| `cpu` (CPUs) | `cpu_limit` |
| `memory` (`512M`, `4G`, `1.5Gi`) | `mem_limit` in bytes; `K`/`M`/`G`/`T`/`P`, with or without `i`, are powers of 1024 as JupyterHub's `mem_limit` reads them |
| `gpu` | `extra_resource_limits["nvidia.com/gpu"]` on spawners that have it (KubeSpawner); otherwise not applied (logged) |
| `env` | merged into `environment`: only the names on the operator's allow-list (`FormationEnvironment.allowed`; by default `MY_*`, locale, time zone and thread counts: `DEFAULT_ALLOWED_ENV`), for every launch, the owner's too (an editor of the formation may have written them). Never the Hub's own variables (`JUPYTERHUB_*`, `JPY_*`) or ours (`JUPYTER_SHARE_*`). Each variable left out is logged, named in the launch form, and listed in `JUPYTER_SHARE_REFUSED_ENV` in the server |
| `start_url` | `default_url` (taken literally: braces are escaped from JupyterHub's `{username}` formatting) |
| the choice itself | `JUPYTER_SHARE_LAUNCHED_FROM=formation:ID` or `image:ID` in `environment` |

Storage mounts of a formation are deployment-specific and not applied. What a previous choice
set on the same spawner is undone before the next one is applied, so "Default environment"
really is the deployment's default again.
"""

from __future__ import annotations

import asyncio
import copy
import html
import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tornado import web
from traitlets.config import Configurable

from ..client import (
    BadRequest,
    Forbidden,
    NotFound,
    NotSignedIn,
    ServerError,
    ShareClient,
    ShareError,
    Unreachable,
)
from ..contract.values import quantity_bytes
from ..formation_env import DEFAULT_ALLOWED_ENV, REFUSED_ENV, FormationEnvironment
from ..model import NEW_RESOURCE_ID

__all__ = [
    "options_form",
    "options_from_form",
    "apply_user_options",
    "profile_list",
    "allowed_images",
    "LaunchRefused",
    "CHOICE",
    "FormationEnvironment",
    "DEFAULT_ALLOWED_ENV",
]

log = logging.getLogger(__name__)

#: Environment variables of the Hub's process that locate the share service.
SERVICE_URL_ENV = "JUPYTER_SHARE_SERVICE_URL"
SERVICE_NAME_ENV = "JUPYTER_SHARE_SERVICE_NAME"

#: The form field (and `user_options` key) of the choice: "", "formation:ID" or "image:ID".
CHOICE = "jupyter_share_choice"
#: Environment variables set on the launched server.
LAUNCHED_FROM_ENV = "JUPYTER_SHARE_LAUNCHED_FROM"
IMAGE_ENV = "JUPYTER_SHARE_IMAGE"

DEFAULT_LABEL = "Default environment"

#: Lifetime of the user's token, and how long one spawner reuses it.
TOKEN_SECONDS = 300
TOKEN_REUSE_SECONDS = 240
TOKEN_NOTE = "jupyter_share launch options"
#: Seconds to wait for the share service (the hooks hold up a user's spawn page).
HTTP_TIMEOUT = 10.0

_CHOICE_RE = re.compile(r"^(formation|image):([A-Za-z0-9][A-Za-z0-9._-]{0,127})$")
# The allow-list of a formation's variables is one rule for every launch: jupyter_share.formation_env.


def _allowed_env(spawner: Any) -> FormationEnvironment:
    """The allow-list as the Hub's configuration (the spawner's) sets it."""
    if isinstance(spawner, Configurable):
        return FormationEnvironment(parent=spawner)
    return FormationEnvironment()


_GPU_RESOURCE = "nvidia.com/gpu"


# -- errors ----------------------------------------------------------------------------------


class LaunchRefused(web.HTTPError, ValueError):
    """A launch option that cannot be used, with a message for the user.

    An HTTPError so that JupyterHub shows the message (and its status) instead of a generic
    "Invalid user options"; a ValueError as refusals of user input are."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(status, "%s", message)
        self.message = message
        # What JupyterHub's spawn page shows (jupyterhub.utils.format_exception).
        self.jupyterhub_message = message

    def __str__(self) -> str:
        return self.message


def _service() -> tuple[str, str]:
    """The share service's API base and name, from the Hub's environment."""
    url = os.environ.get(SERVICE_URL_ENV, "").strip()
    if not url:
        raise LaunchRefused(
            f"jupyter_share is not configured in this JupyterHub: {SERVICE_URL_ENV} is not set "
            "in the Hub's environment (configure_jupyterhub(c) in jupyterhub_config.py sets it)",
            status=500,
        )
    name = os.environ.get(SERVICE_NAME_ENV, "").strip()
    if not name:
        found = re.search(r"/services/([^/]+)/", url)
        if not found:
            raise LaunchRefused(
                f"jupyter_share is not configured in this JupyterHub: {SERVICE_NAME_ENV} is not set "
                "in the Hub's environment (configure_jupyterhub(c) in jupyterhub_config.py sets it)",
                status=500,
            )
        name = found.group(1)
    return url, name


def _refusal(error: ShareError, what: str) -> LaunchRefused:
    """A LaunchRefused for a ShareError of the service, saying what was being done."""
    if isinstance(error, Unreachable):
        return LaunchRefused(
            f"cannot reach the share service to {what}: {error.message}. Try again in a moment, "
            f"or launch the {DEFAULT_LABEL}.",
            status=503,
        )
    if isinstance(error, (NotSignedIn, Forbidden)):
        return LaunchRefused(
            f"the share service refused your access while trying to {what}: {error.message}",
            status=403,
        )
    if isinstance(error, ServerError) or (error.status or 0) >= 500:
        return LaunchRefused(f"the share service failed to {what}: {error.message}", status=502)
    return LaunchRefused(f"cannot {what}: {error.message}")


# -- the user's token ------------------------------------------------------------------------


def _user_token(spawner: Any, service_name: str) -> str:
    """A token of the spawning user with only the service's access scope, reused by this
    spawner for a few minutes. Never logged."""
    user = spawner.user
    key = (getattr(user, "name", None), service_name)
    cached = getattr(spawner, "_jupyter_share_token", None)
    now = time.monotonic()
    if cached and cached[0] == key and now - cached[2] < TOKEN_REUSE_SECONDS:
        return cached[1]
    try:
        token = user.new_api_token(
            scopes=[f"access:services!service={service_name}"],
            expires_in=TOKEN_SECONDS,
            note=TOKEN_NOTE,
        )
    except Exception as e:
        raise LaunchRefused(
            f"cannot give {getattr(user, 'name', 'this user')} access to the share service "
            f"{service_name!r}: {e} (configure_jupyterhub grants access:services!service={service_name} "
            "to every user)",
            status=403,
        ) from None
    if not isinstance(token, str) or not token:
        raise LaunchRefused("the Hub did not return a token for the share service", status=500)
    try:
        spawner._jupyter_share_token = (key, token, now)
    except AttributeError:  # an object that takes no attributes: a new token every time
        pass
    return token


def _client(url: str, token: str) -> ShareClient:
    return ShareClient(url=url, token=token, timeout=HTTP_TIMEOUT)


# -- what the user may launch ----------------------------------------------------------------


@dataclass
class Offer:
    """One launch option: a formation or an image the user sees."""

    kind: str  # "formation" or "image"
    id: str
    name: str
    owner: str
    own: bool
    description: str = ""
    #: The container image reference to launch; "" when there is none the user may use.
    reference: str = ""
    #: Why it cannot be launched ("" when it can).
    unavailable: str = ""
    spec: dict = field(default_factory=dict)
    #: The formation's variables a launch leaves out (not on the allow-list).
    refused_env: list = field(default_factory=list)

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def label(self) -> str:
        return self.name if self.own else f"{self.name}, from {self.owner}"


def _is_reference_only(value: str) -> bool:
    """A formation's `image` that can only be a reference (ids have no '/', ':' or '@')."""
    return any(c in value for c in "/:@")


def _offers_from(
    images: list[dict],
    formations: list[dict],
    username: str,
    needs_reference: bool = True,
    allowed: FormationEnvironment | None = None,
) -> list[Offer]:
    """`needs_reference`: the spawner runs container images (it has an `image` trait); a
    spawner that runs local processes can launch what has only a captured environment.
    `allowed`: the allow-list of a formation's variables."""
    by_id = {i.get("id"): i for i in images}
    allowed = allowed or FormationEnvironment()

    def own(resource: dict) -> bool:
        return resource.get("access") == "owner" or resource.get("owner") == username

    def base(kind: str, resource: dict) -> Offer:
        return Offer(
            kind=kind,
            id=str(resource.get("id", "")),
            name=str(resource.get("name", "")),
            owner=str(resource.get("owner", "")),
            own=own(resource),
            description=str(resource.get("description") or ""),
            spec=dict(resource.get("spec") or {}),
        )

    offers = []
    for resource in formations:
        offer = base("formation", resource)
        offer.refused_env = allowed.split(offer.spec.get("env"))[1]
        image = offer.spec.get("image")
        if not isinstance(image, str) or not image:
            offer.unavailable = "it names no image"
        elif image in by_id:
            offer.reference = (by_id[image].get("spec") or {}).get("reference") or ""
            if not offer.reference and needs_reference:
                offer.unavailable = "its image has no container image reference"
        elif NEW_RESOURCE_ID.match(image):  # an image id, of an image the user does not see
            offer.unavailable = "its image is not shared with you"
        else:
            offer.reference = image
        offers.append(offer)
    for resource in images:
        offer = base("image", resource)
        offer.reference = offer.spec.get("reference") or ""
        if offer.reference or not needs_reference:  # only a captured environment: no container
            offers.append(offer)
    # Own ones first, then shared ones; each newest first as the API lists them.
    return sorted(offers, key=lambda o: not o.own)


def _catalog(url: str, token: str) -> tuple[list[dict], list[dict]]:
    with _client(url, token) as client:
        return client.list("images", scope="all"), client.list("formations", scope="all")


def _list_offers(spawner: Any) -> list[Offer]:
    """Blocking: the user's own and shared formations and images (LaunchRefused if the
    service cannot say)."""
    url, name = _service()
    token = _user_token(spawner, name)
    try:
        images, formations = _catalog(url, token)
    except ShareError as e:
        raise _refusal(e, "list your images and formations") from None
    return _offers_from(
        images, formations, spawner.user.name, _has_trait(spawner, "image"), _allowed_env(spawner)
    )


async def _list_offers_async(spawner: Any) -> list[Offer]:
    url, name = _service()
    # The token comes from the Hub's database: on the Hub's own thread.
    token = _user_token(spawner, name)
    try:
        images, formations = await asyncio.to_thread(_catalog, url, token)
    except ShareError as e:
        raise _refusal(e, "list your images and formations") from None
    return _offers_from(
        images, formations, spawner.user.name, _has_trait(spawner, "image"), _allowed_env(spawner)
    )


async def _offers_or_note(spawner: Any, what: str) -> tuple[list[Offer], str]:
    """The offers, or none and why: a share service that cannot answer leaves the default."""
    try:
        return await _list_offers_async(spawner), ""
    except LaunchRefused as e:
        spawner.log.warning(
            "jupyter_share: no launch %s for %s: %s", what, spawner.user.name, e.message
        )
        return [], f"Shared images and formations are not available right now: {e.message}"


# -- mapping a spec onto a spawner -------------------------------------------------------------


def memory_bytes(value: Any) -> int:
    """Bytes of a formation's memory ("512M", "4G", "1.5Gi", "1073741824"), as
    `Spawner.mem_limit` takes them: the format the service checks (`contract.values.quantity_bytes`)."""
    found = quantity_bytes(value)
    if found is None:
        raise LaunchRefused(
            f"the formation's memory {value!r} is not a size like 512M, 4G or 1.5Gi"
        )
    return found


@dataclass
class Launch:
    """What a choice launches, resolved with the user's token."""

    kind: str
    id: str
    name: str
    owner: str
    reference: str
    cpu: float | None = None
    mem_limit: int | None = None
    gpu: int = 0
    env: dict = field(default_factory=dict)
    #: The formation's variables left out: not on the allow-list.
    refused_env: list = field(default_factory=list)
    start_url: str = ""

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"

    def environment(self) -> dict[str, str]:
        """What the launch adds to the server's environment: the formation's variables on the
        allow-list, and what it was launched from (and which variables were left out)."""
        env = {**self.env, LAUNCHED_FROM_ENV: self.value, IMAGE_ENV: self.reference}
        if self.refused_env:
            env[REFUSED_ENV] = ",".join(self.refused_env)
        return env

    def report_refused(self, logger: Any, launcher: str) -> None:
        if self.refused_env:
            logger.warning(
                "jupyter_share: launching %s for %s without its variables %s: not on the allow-list of a "
                "formation's variables (c.FormationEnvironment.allowed)",
                self.value,
                launcher,
                ", ".join(self.refused_env),
            )


def _launch_of(
    kind: str,
    rid: str,
    resource: dict,
    reference: str,
    allowed: FormationEnvironment | None = None,
) -> Launch:
    spec = dict(resource.get("spec") or {})
    launch = Launch(
        kind=kind,
        id=rid,
        name=str(resource.get("name", "")),
        owner=str(resource.get("owner", "")),
        reference=reference,
    )
    if kind == "formation":
        cpu = spec.get("cpu")
        if isinstance(cpu, (int, float)) and not isinstance(cpu, bool) and cpu > 0:
            launch.cpu = float(cpu)
        if spec.get("memory") is not None:
            launch.mem_limit = memory_bytes(spec["memory"])
        gpu = spec.get("gpu")
        if isinstance(gpu, int) and not isinstance(gpu, bool) and gpu > 0:
            launch.gpu = gpu
        launch.env, launch.refused_env = (allowed or FormationEnvironment()).split(spec.get("env"))
        start_url = spec.get("start_url")
        if (
            isinstance(start_url, str)
            and start_url.startswith("/")
            and not start_url.startswith("//")
        ):
            launch.start_url = start_url
    return launch


def _resolve(
    url: str,
    token: str,
    kind: str,
    rid: str,
    needs_reference: bool = True,
    allowed: FormationEnvironment | None = None,
) -> Launch:
    """Blocking: fetch the chosen resource (and a formation's image) with the user's token."""
    with _client(url, token) as client:
        try:
            resource = client.get(f"{kind}s/{rid}")
        except NotFound:
            raise LaunchRefused(
                f"the {kind} {rid} does not exist or is not shared with you"
            ) from None
        except ShareError as e:
            raise _refusal(e, f"look up the {kind} {rid}") from None
        name = resource.get("name") or rid
        spec = resource.get("spec") or {}
        if kind == "image":
            reference = spec.get("reference") or ""
            if not reference and needs_reference:
                raise LaunchRefused(
                    f"the image {name!r} has no container image reference (only a captured "
                    "environment), so there is nothing to launch"
                )
            return _launch_of(kind, rid, resource, reference, allowed)

        image = spec.get("image")
        if not isinstance(image, str) or not image:
            raise LaunchRefused(f"the formation {name!r} names no image")
        reference = image
        if not _is_reference_only(image):
            try:
                image_resource = client.get(f"images/{image}")
            except NotFound:
                if NEW_RESOURCE_ID.match(image):
                    owner = resource.get("owner")
                    raise LaunchRefused(
                        f"the formation {name!r} uses the image {image}, which is not shared with you"
                        + (f"; ask {owner} to share it" if owner else "")
                    ) from None
                # Not an image the user sees: a bare reference such as "ubuntu".
            except BadRequest:
                pass  # not an id the API takes: a reference
            except ShareError as e:
                raise _refusal(e, f"look up the image of the formation {name!r}") from None
            else:
                reference = (image_resource.get("spec") or {}).get("reference") or ""
                if not reference and needs_reference:
                    raise LaunchRefused(
                        f"the formation {name!r} uses the image {image_resource.get('name') or image!r}, "
                        "which has no container image reference (only a captured environment)"
                    )
        return _launch_of(kind, rid, resource, reference, allowed)


def _has_trait(spawner: Any, name: str) -> bool:
    has = getattr(spawner, "has_trait", None)
    return bool(has(name)) if callable(has) else hasattr(spawner, name)


def _set(spawner: Any, name: str, value: Any) -> None:
    """Set a spawner attribute, remembering its value from before the first change."""
    saved = getattr(spawner, "_jupyter_share_saved", None)
    if saved is None:
        saved = {}
        spawner._jupyter_share_saved = saved
    if name not in saved:
        saved[name] = copy.deepcopy(getattr(spawner, name))
    setattr(spawner, name, value)


def _restore(spawner: Any) -> None:
    """Undo what a previous choice set on this spawner (it lives as long as the Hub)."""
    saved = getattr(spawner, "_jupyter_share_saved", None) or {}
    for name, value in saved.items():
        setattr(spawner, name, copy.deepcopy(value))


def _apply(spawner: Any, launch: Launch) -> None:
    if _has_trait(spawner, "image"):
        _set(spawner, "image", launch.reference)
    if launch.cpu is not None:
        _set(spawner, "cpu_limit", launch.cpu)
    if launch.mem_limit is not None:
        _set(spawner, "mem_limit", launch.mem_limit)
    if launch.gpu:
        if _has_trait(spawner, "extra_resource_limits"):
            limits = dict(spawner.extra_resource_limits or {})
            limits[_GPU_RESOURCE] = str(launch.gpu)
            _set(spawner, "extra_resource_limits", limits)
        else:
            spawner.log.warning(
                "jupyter_share: %s asks for %d GPU(s); %s has no GPU setting, not applied",
                launch.value,
                launch.gpu,
                type(spawner).__name__,
            )
    if launch.start_url:
        # default_url goes through str.format with the spawner's namespace: take it literally.
        _set(spawner, "default_url", launch.start_url.replace("{", "{{").replace("}", "}}"))
    environment = dict(getattr(spawner, "environment", None) or {})
    environment.update(launch.environment())
    _set(spawner, "environment", environment)
    launch.report_refused(spawner.log, spawner.user.name)
    spawner.log.info(
        "jupyter_share: launching %s from %s %r of %s (%s)",
        getattr(spawner, "_log_name", spawner.user.name),
        launch.kind,
        launch.name,
        launch.owner,
        launch.reference,
    )


def _parse_choice(user_options: Any) -> tuple[str, str] | None:
    """(kind, id) of the choice in user_options, None for the default environment."""
    if user_options is None:
        return None
    if not isinstance(user_options, dict):
        raise LaunchRefused("user options must be an object")
    value = user_options.get(CHOICE)
    if isinstance(value, (list, tuple)):  # form data: a list of the values of the field
        if len(value) > 1:
            raise LaunchRefused(f"choose one image or formation ({CHOICE} has {len(value)} values)")
        value = value[0] if value else None
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise LaunchRefused(f"{CHOICE} must be a string like 'formation:ID' or 'image:ID'")
    match = _CHOICE_RE.match(value.strip())
    if not match:
        shown = value if len(value) <= 80 else value[:80] + "…"
        raise LaunchRefused(
            f"{CHOICE} must be 'formation:ID' or 'image:ID' (or empty for the {DEFAULT_LABEL}), not {shown!r}"
        )
    return match.group(1), match.group(2)


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


async def apply_user_options(spawner: Any, user_options: Any) -> None:
    """`Spawner.apply_user_options`: map the choice ("formation:ID" / "image:ID", from the form
    or the REST API) onto the spawner, after fetching it again with the user's token.
    Raises LaunchRefused (an HTTPError and a ValueError) with a message for the user."""
    _restore(spawner)
    choice = _parse_choice(user_options)
    if choice is None:
        return
    kind, rid = choice
    url, name = _service()
    token = _user_token(spawner, name)
    launch = await asyncio.to_thread(
        _resolve, url, token, kind, rid, _has_trait(spawner, "image"), _allowed_env(spawner)
    )
    _apply(spawner, launch)


def _kube_override(offer: Offer, allowed: FormationEnvironment) -> dict:
    launch = _launch_of(
        offer.kind,
        offer.id,
        {"name": offer.name, "owner": offer.owner, "spec": offer.spec},
        offer.reference,
        allowed,
    )
    override: dict = {"image": launch.reference, "environment": launch.environment()}
    if launch.cpu is not None:
        override["cpu_limit"] = launch.cpu
    if launch.mem_limit is not None:
        override["mem_limit"] = launch.mem_limit
    if launch.gpu:
        override["extra_resource_limits"] = {_GPU_RESOURCE: str(launch.gpu)}
    if launch.start_url:
        override["default_url"] = launch.start_url.replace("{", "{{").replace("}", "}}")
    return override


async def profile_list(spawner: Any) -> list[dict]:
    """`KubeSpawner.profile_list`: the default profile, then one per formation and image the
    user may launch. KubeSpawner calls it again when the server starts, so the chosen profile
    is looked up with the user's token then too. Display names and descriptions are
    HTML-escaped (KubeSpawner's form template does not escape them)."""
    offers, note = await _offers_or_note(spawner, "profiles")
    profiles = [
        {
            "display_name": _esc(DEFAULT_LABEL),
            "slug": "default",
            "default": True,
            "description": _esc(note or "The deployment's default image and size."),
            # A dict override is merged: None removes what a previous choice set.
            "kubespawner_override": {
                "environment": {LAUNCHED_FROM_ENV: None, IMAGE_ENV: None, REFUSED_ENV: None}
            },
        }
    ]
    allowed = _allowed_env(spawner)
    for offer in offers:
        if offer.unavailable or not offer.reference:
            continue
        kind = "Formation" if offer.kind == "formation" else "Image"
        description = " · ".join(p for p in (offer.description.strip(), _facts(offer)) if p)
        if offer.refused_env:  # KubeSpawner applies the profile itself: say it here
            spawner.log.warning(
                "jupyter_share: the profile of %s for %s leaves out its variables %s: not on the allow-list "
                "of a formation's variables (c.FormationEnvironment.allowed)",
                offer.value,
                spawner.user.name,
                ", ".join(offer.refused_env),
            )
        profiles.append(
            {
                "display_name": _esc(f"{kind}: {offer.label}"),
                "slug": f"{offer.kind}-{offer.id}",
                "description": _esc(description),
                "kubespawner_override": _kube_override(offer, allowed),
            }
        )
    return profiles


_UNSAFE_KEY = re.compile(r"[<>&\"'{}`\x00-\x1f\x7f]")


def allowed_images(spawner: Any) -> dict[str, str]:
    """`DockerSpawner.allowed_images` (callable form; DockerSpawner calls it synchronously):
    {display name: image reference}, the spawner's default image first, then the user's own and
    shared formations and images. Only the image of a formation applies this way; use
    `options_form` + `apply_user_options` for its CPU, memory and environment too.

    DockerSpawner puts the keys into its form unescaped and matches the submitted key, so
    characters that HTML would change are replaced in them."""
    images: dict[str, str] = {}
    default = getattr(spawner, "image", None)
    if isinstance(default, str) and default:
        images[DEFAULT_LABEL] = default
    try:
        offers = _list_offers(spawner)
    except LaunchRefused as e:
        spawner.log.warning(
            "jupyter_share: only the default image for %s: %s", spawner.user.name, e.message
        )
        return images
    for offer in offers:
        if offer.unavailable or not offer.reference:
            continue
        kind = "Formation" if offer.kind == "formation" else "Image"
        key = _UNSAFE_KEY.sub("_", f"{kind} {offer.label}")
        if key in images:
            key = f"{key} [{offer.id}]"
        images[key] = offer.reference
    return images
