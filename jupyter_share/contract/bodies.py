"""What clients send: the request bodies of the REST API as pydantic models.

The service validates with them (`contract.parse`); the OpenAPI description takes their JSON
schemas (`contract.openapi`). Their constrained values are the types of `contract.values`,
whose validators word the refusals.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from .values import (  # noqa: F401 (tests and the service read the limits here)
    _QUANTITY,
    _REFERENCE,
    ABSENT,
    DEFAULT_LIMIT,
    MAX_CPU,
    MAX_DESCRIPTION,
    MAX_LIMIT,
    MAX_NAME,
    MAX_REQUEST_MESSAGE,
    MAX_SPEC_BYTES,
    NEEDS,
    Description,
    Name,
    OptionalText,
    Quantity,
    Reference,
    Text,
    _boolean,
    _decision,
    _env,
    _expires_at,
    _gpu,
    _list,
    _message,
    _mount_path,
    _needed,
    _permission_of,
    _positive_number,
    _start_url,
    _strings,
    absent,
    page,
    quantity_bytes,
    refuse,
)

# -- objects -----------------------------------------------------------------------------------


class Body(BaseModel):
    """A JSON object with these fields and no other."""

    model_config = ConfigDict(extra="forbid", strict=True)

    #: The refusal of a required field that is missing, by its path (else "X is required").
    missing: ClassVar[dict[str, str]] = {}


class Item(Body):
    """An item of a list in a spec."""

    #: The refusal of a required field that is missing (`contract.parse`).
    needs: ClassVar[str] = NEEDS


class Package(Item):
    """A Python distribution, as `pip freeze` names it."""

    name: Annotated[str, BeforeValidator(_needed)]
    version: Annotated[str, BeforeValidator(_needed)]
    source: OptionalText = None


class CondaPackage(Item):
    name: Annotated[str, BeforeValidator(_needed)]
    version: Annotated[str, BeforeValidator(_needed)]
    build: OptionalText = None
    channel: OptionalText = None


class Conda(Body):
    name: Text = ABSENT
    prefix: Text = ABSENT
    channels: Annotated[list[str], BeforeValidator(_strings)] = ABSENT
    packages: Annotated[list[CondaPackage], BeforeValidator(_list)] = ABSENT


class KernelSpec(Item):
    name: Annotated[str, BeforeValidator(_needed)]
    display_name: OptionalText = None
    language: OptionalText = None


class Environment(Body):
    """A captured environment, as `capture.capture_environment` makes it."""

    python: Text = ABSENT
    platform: Text = ABSENT
    packages: Annotated[list[Package], BeforeValidator(_list)] = ABSENT
    conda: Conda | None = None
    kernelspecs: Annotated[list[KernelSpec], BeforeValidator(_list)] = ABSENT
    captured_at: Text = ABSENT


def _spec_size(value: Any) -> Any:
    if isinstance(value, dict):
        try:
            size = len(json.dumps(value, allow_nan=False, separators=(",", ":")).encode())
        except ValueError:
            raise refuse("{field} must be plain JSON (no NaN or Infinity)") from None
        if size > MAX_SPEC_BYTES:
            raise refuse(f"{{field}} is larger than {MAX_SPEC_BYTES // 1024} KiB ({size} bytes)")
    return value


class ImageSpec(Body):
    """What an image is: a container image reference, a captured environment, or both."""

    reference: Reference = ABSENT
    environment: Environment = ABSENT

    @model_validator(mode="before")
    @classmethod
    def check_size(cls, value: Any) -> Any:
        return _spec_size(value)


class Storage(Item):
    name: OptionalText = None
    mount_path: Annotated[str, Field(pattern="^/"), BeforeValidator(_mount_path)]
    size: Quantity | None = None


class FormationSpec(Body):
    """How to run an image: the image (an id or a reference), resources and environment."""

    image: str = Field(description="The id of an image the caller sees, or a reference.")
    cpu: Annotated[
        int | float,  # a whole number stays one in the spec
        WithJsonSchema(
            {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_CPU, "description": "CPUs."}
        ),
        BeforeValidator(_positive_number(MAX_CPU)),
    ] = ABSENT
    memory: Quantity = ABSENT
    gpu: Annotated[int, Field(ge=0, le=64), BeforeValidator(_gpu)] = ABSENT
    storage: Annotated[list[Storage], BeforeValidator(_list)] = ABSENT
    env: Annotated[dict[str, str], BeforeValidator(_env)] = ABSENT
    start_url: Annotated[
        str,
        Field(
            pattern="^/([^/]|$)",
            max_length=2048,
            description="A path on the server, like `/lab`.",
        ),
        BeforeValidator(_start_url),
    ] = ABSENT

    @model_validator(mode="before")
    @classmethod
    def check_size(cls, value: Any) -> Any:
        return _spec_size(value)

    @model_validator(mode="before")
    @classmethod
    def check_image(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, dict) or "image" not in value:
            return value
        image = value["image"]
        # An existing resource id must be an image the caller sees; anything else a reference.
        is_image_id = (info.context or {}).get("is_image_id") or (lambda v: None)
        known = is_image_id(image) if isinstance(image, str) else False
        if (
            not isinstance(image, str)
            or known is False
            or (known is None and not _REFERENCE.match(image))
        ):
            raise refuse(
                "spec.image must be the id of an image you can see or a reference like "
                "registry/name:tag",
                at="image",
            )
        return value


class SessionSpec(BaseModel):
    """A container's spec, kept by its server (not sent by clients)."""

    model_config = ConfigDict(extra="allow")


# -- request bodies ----------------------------------------------------------------------------


class ImageCreate(Body):
    """An image needs `spec` (with `reference` or `environment`) or `"capture": true`."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["spec"]},
                {"required": ["capture"], "properties": {"capture": {"enum": [True]}}},
            ]
        }
    )

    name: Name
    description: Description = ""
    spec: ImageSpec | None = None
    capture: Annotated[bool, BeforeValidator(_boolean)] = Field(
        False, description="Capture this server's Python environment into the spec."
    )

    @model_validator(mode="after")
    def check_something(self) -> ImageCreate:
        spec = self.spec
        if not self.capture and not (spec and (spec.reference or spec.environment)):
            raise refuse(
                'an image needs spec.reference (registry/name:tag) or "capture": true', at="spec"
            )
        return self


class FormationCreate(Body):
    name: Name
    description: Description = ""
    spec: FormationSpec

    missing: ClassVar[dict[str, str]] = {
        "spec": "the spec must be a JSON object",
        "spec.image": "a formation needs spec.image: an image id or a reference",
    }


class ImageUpdate(Body):
    name: Name = ABSENT
    description: Description = ABSENT
    spec: ImageSpec = ABSENT

    @model_validator(mode="after")
    def check_something(self) -> ImageUpdate:
        if "spec" in self.model_fields_set and not (
            self.spec and (self.spec.reference or self.spec.environment)
        ):
            raise refuse(
                'an image needs spec.reference (registry/name:tag) or "capture": true', at="spec"
            )
        return self


class FormationUpdate(Body):
    name: Name = ABSENT
    description: Description = ABSENT
    spec: FormationSpec = ABSENT

    missing: ClassVar[dict[str, str]] = FormationCreate.missing


class SessionUpdate(Body):
    """A container's name and spec come from its server; people may describe it."""

    description: Description = ABSENT


#: A PATCH's body, after the resource's kind.
ResourceUpdate = Annotated[
    ImageUpdate | FormationUpdate | SessionUpdate,
    Field(
        description="The fields to change. `spec` replaces the whole spec (images and "
        "formations only; a container's comes from its server)."
    ),
]


class GrantRequest(Body):
    permission: Annotated[Literal["view", "edit", "manage"], BeforeValidator(_permission_of)] = (
        Field(description="What the grantee may do.")
    )
    expires_at: Annotated[
        datetime | None,
        # Any ISO 8601 text Python reads (a date alone too): no `format` that would refuse it.
        WithJsonSchema(
            {
                "type": "string",
                "nullable": True,
                "description": "When the grant runs out: ISO 8601 (e.g. 2030-01-31T12:00:00Z; "
                "without a zone it is UTC); must be in the future. Null or absent: never.",
            }
        ),
        BeforeValidator(_expires_at),
    ] = None

    missing: ClassVar[dict[str, str]] = {
        "permission": "permission is required: view, edit or manage"
    }


class AccessRequestCreate(Body):
    # view too: asking for what one holds is the service's refusal (409), not the body's.
    permission: Annotated[Literal["view", "edit", "manage"], BeforeValidator(_permission_of)] = (
        Field(description="What is asked for: more than one holds.")
    )
    message: Annotated[
        str,
        Field(
            max_length=MAX_REQUEST_MESSAGE,
            json_schema_extra={"nullable": True},
            description="Why, for the owner to read.",
        ),
        BeforeValidator(_message),
    ] = ""

    missing: ClassVar[dict[str, str]] = {"permission": "permission is required: edit or manage"}


class DecisionRequest(Body):
    decision: Annotated[Literal["approve", "deny"], BeforeValidator(_decision)]

    missing: ClassVar[dict[str, str]] = {"decision": "decision is required: approve or deny"}


class UseImageRequest(Body):
    """Optional; when sent, an empty JSON object."""


class LaunchRequest(Body):
    """Optional: `{}` or the new server's name."""

    name: Name = absent("The new server's name (default: the formation's).")


class StopRequest(Body):
    """Optional; when sent, an empty JSON object."""
