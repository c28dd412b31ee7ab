"""A launch choice mapped onto a spawner: the chosen formation or image fetched again with
the user's token, and its image, CPU, memory, GPU, environment and start URL set (run in the
Hub's process)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ...client import BadRequest, NotFound, ShareError
from ...contract.values import quantity_bytes
from ...formation_env import REFUSED_ENV, FormationEnvironment
from ...model import NEW_RESOURCE_ID
from .offers import (
    _CHOICE_RE,
    _GPU_RESOURCE,
    CHOICE,
    DEFAULT_LABEL,
    IMAGE_ENV,
    LAUNCHED_FROM_ENV,
    LaunchRefused,
    _client,
    _has_trait,
    _is_reference_only,
    _refusal,
)

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
