"""What a user may launch: their own and shared images and formations, asked of the share
service with a short-lived token of that user (run in the Hub's process)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tornado import web
from traitlets.config import Configurable

from ...client import (
    Forbidden,
    NotSignedIn,
    ServerError,
    ShareClient,
    ShareError,
    Unreachable,
)
from ...formation_env import FormationEnvironment
from ...model import NEW_RESOURCE_ID

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


def _has_trait(spawner: Any, name: str) -> bool:
    has = getattr(spawner, "has_trait", None)
    return bool(has(name)) if callable(has) else hasattr(spawner, name)
