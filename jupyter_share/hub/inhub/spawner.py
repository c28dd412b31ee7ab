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
import re
from typing import Any

from ...formation_env import DEFAULT_ALLOWED_ENV, REFUSED_ENV, FormationEnvironment
from .form import _esc, _facts, options_form, options_from_form
from .launch import Launch, _apply, _launch_of, _parse_choice, _resolve, _restore, memory_bytes
from .offers import (
    _GPU_RESOURCE,
    CHOICE,
    DEFAULT_LABEL,
    HTTP_TIMEOUT,
    IMAGE_ENV,
    LAUNCHED_FROM_ENV,
    SERVICE_NAME_ENV,
    SERVICE_URL_ENV,
    TOKEN_NOTE,
    TOKEN_REUSE_SECONDS,
    TOKEN_SECONDS,
    LaunchRefused,
    Offer,
    _allowed_env,
    _has_trait,
    _list_offers,
    _offers_or_note,
    _service,
    _user_token,
)

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
    # Read by the tests and by operators' own hooks under these names.
    "HTTP_TIMEOUT",
    "IMAGE_ENV",
    "LAUNCHED_FROM_ENV",
    "REFUSED_ENV",
    "SERVICE_NAME_ENV",
    "SERVICE_URL_ENV",
    "TOKEN_NOTE",
    "TOKEN_REUSE_SECONDS",
    "TOKEN_SECONDS",
    "DEFAULT_LABEL",
    "Launch",
    "Offer",
    "memory_bytes",
    "_service",
    "_user_token",
]


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
