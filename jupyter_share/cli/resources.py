"""`jupyter share list|shared|show|create-image|create-formation|delete`: the resources."""

from __future__ import annotations

from typing import Any

from traitlets import Bool, List, Unicode

from ..model import Kind, NotFound
from .base import UsageError
from .options import (
    REF,
    Positional,
    choice,
    env_pair,
    env_pair_text,
    kind_text,
    number,
    number_text,
    option,
    paging_options,
    whole_text,
)
from .output import environment_summary, paging_note, resource_table, sharing, when
from .store import StoreCommand

KIND_HELP = "images, formations or sessions (default: all kinds)"


class ListCommand(StoreCommand):
    command = "list"
    name = "jupyter-share-list"
    description = "list the images, formations and sessions you own or that are shared with you"

    kind = option(Unicode(None, allow_none=True, help=KIND_HELP), check=kind_text)
    scope = choice(
        ("owned", "shared", "all"),
        "all",
        "owned: yours; shared: shared with you; all (default): both",
    )
    limit, offset = paging_options()

    def run_command(self) -> None:
        from ..serialize import page_json, resource_list_json

        kind = Kind.parse(self.kind) if self.kind else None
        page = self.service.list(self.username, kind, self.scope, self.offset, self.limit)
        if self.json:
            return self.dump(page_json(page, resource_list_json))
        if not page.items:
            what = kind.plural if kind else "images, formations or sessions"
            return self.out(
                {"owned": f"you own no {what}", "shared": f"no {what} are shared with you"}.get(
                    self.scope, f"no {what}"
                )
            )
        self.out(resource_table(page.items))
        paging_note(len(page.items), self.offset, page.total)


class SharedCommand(StoreCommand):
    command = "shared"
    name = "jupyter-share-shared"
    description = "list what others shared with you (with you or a group of yours)"

    kind = option(Unicode(None, allow_none=True, help=KIND_HELP), check=kind_text)
    limit, offset = paging_options()

    def run_command(self) -> None:
        from ..serialize import page_json, resource_list_json

        plural = Kind.parse(self.kind).plural if self.kind else None
        page = self.service.shared_with_me(self.username, plural, self.offset, self.limit)
        if self.json:
            return self.dump(page_json(page, resource_list_json))
        if not page.items:
            return self.out(f"no {plural or 'images, formations or sessions'} are shared with you")
        self.out(resource_table(page.items))
        paging_note(len(page.items), self.offset, page.total)


class ShowCommand(StoreCommand):
    command = "show"
    name = "jupyter-share-show"
    description = "show one resource: its spec, your access and (if you manage it) its access list"
    arguments = (REF,)

    def run_command(self) -> None:
        import yaml

        from ..serialize import resource_json
        from ..service import holds

        view = self.resolve(self.ref)
        if self.json:
            return self.dump(resource_json(view))
        r = view.resource
        lines = [
            ("name", r.name),
            ("kind", r.kind.value),
            ("id", r.id),
            ("owner", r.owner),
            ("access", view.access),
        ]
        if r.kind == Kind.SESSION:
            from ..liveness import container_state

            lines.append(("state", container_state(r.spec)))
        if view.share_count is not None:
            lines.append(("sharing", sharing(view) or "not shared"))
        if view.access != "owner":
            lines.append(("shared", when(view.shared_at)))
            lines.append(("expires", when(view.expires_at) or "never"))
        lines += [("created", when(r.created_at)), ("updated", when(r.updated_at))]
        if r.description:
            lines.append(("description", r.description))
        width = max(len(k) for k, _ in lines) + 1
        for key, value in lines:
            self.out(f"{key + ':':<{width}} {value}")
        spec = dict(r.spec)
        if "environment" in spec:
            spec["environment"] = environment_summary(spec["environment"])
        if spec:
            self.out("spec:")
            self.out(
                "  "
                + yaml.safe_dump(
                    spec,
                    sort_keys=False,
                    default_flow_style=False,
                    width=1 << 16,
                    allow_unicode=True,
                )
                .rstrip()
                .replace("\n", "\n  ")
            )
        if holds(view.access, "manage"):  # the access list is theirs to read
            grants = self.service.grants(self.username, r.kind, r.id)
            if grants:
                self.out("access list:")
                for g in grants:
                    until = f", until {when(g.expires_at)}" if g.expires_at else ""
                    self.out(f"  {g.principal} · {g.permission.label}{until}")


NAME = Positional("resource_name", "NAME")
DESCRIPTION = dict(name="description", metavar="TEXT")


class _Create(StoreCommand):
    reads_only = False
    arguments = (NAME,)

    about = option(
        Unicode(None, allow_none=True, help="what it is, for others to read"), **DESCRIPTION
    )

    def created(self, kind: Kind, body: dict) -> None:
        from ..serialize import resource_json

        if self.about is not None:
            body["description"] = self.about
        view = self.service.create(self.username, kind, body)
        if self.json:
            return self.dump(resource_json(view))
        self.out(f"created {view.resource.kind.value} {view.resource.name!r}: {view.resource.id}")


class CreateImageCommand(_Create):
    command = "create-image"
    name = "jupyter-share-create-image"
    description = (
        "Create an image: a container image reference, this Python environment captured "
        "(packages, conda, kernelspecs), or both."
    )

    reference = option(
        Unicode(None, allow_none=True, help="a container image reference: registry/name:tag"),
        metavar="REF",
    )
    capture = option(Bool(False, help="capture the environment this command runs in"))

    def run_command(self) -> None:
        if not self.reference and not self.capture:
            raise UsageError("create-image needs --reference REF, --capture, or both")
        body: dict[str, Any] = {
            "name": self.resource_name,
            "spec": {"reference": self.reference} if self.reference else None,
        }
        if self.capture:
            body["capture"] = True
        self.created(Kind.IMAGE, body)


def mount(text: str) -> dict:
    path, sep, size = text.partition(":")
    found: dict = {"mount_path": path}
    if sep:
        found["size"] = size
    return found


class CreateFormationCommand(_Create):
    command = "create-formation"
    name = "jupyter-share-create-formation"
    description = "create a formation: a launch template (image, size, settings)"

    image = option(
        Unicode(
            None,
            allow_none=True,
            help="the id or name of an image you can see, or a reference like registry/name:tag",
        ),
        metavar="ID_OR_REF",
        required=True,
    )
    cpu = option(
        Unicode(None, allow_none=True, help="CPUs (may be fractional, e.g. 0.5)"),
        metavar="N",
        check=number_text,
    )
    memory = option(
        Unicode(None, allow_none=True, help="memory, like 512M, 4G or 1.5Gi"), metavar="SIZE"
    )
    gpu = option(
        Unicode(None, allow_none=True, help="GPUs, 0 to 64"), metavar="N", check=whole_text
    )
    env = option(
        List(Unicode(), help="an environment variable (repeat for more)"),
        metavar="KEY=VALUE",
        check=env_pair_text,
    )
    storage = option(
        List(Unicode(), help="a storage mount, like /data:10G (repeat for more)"),
        metavar="PATH[:SIZE]",
    )
    start_url = option(
        Unicode(None, allow_none=True, help="where the browser opens, like /lab"), metavar="PATH"
    )

    def image_for_formation(self, value: str) -> str:
        """--image: an image id, else the name of one image the caller sees (its id), else
        the value itself (a reference like registry/name:tag, checked by the service)."""
        try:
            return self.resolve((Kind.IMAGE, value)).resource.id
        except NotFound:
            return value

    def run_command(self) -> None:
        assert self.image is not None  # required: checked with the arguments
        spec: dict[str, Any] = {"image": self.image_for_formation(self.image)}
        if self.cpu is not None:
            spec["cpu"] = number(self.cpu)
        if self.memory is not None:
            spec["memory"] = self.memory
        if self.gpu is not None:
            spec["gpu"] = int(self.gpu)
        if self.env:
            spec["env"] = dict(env_pair(e) for e in self.env)
        if self.storage:
            spec["storage"] = [mount(s) for s in self.storage]
        if self.start_url is not None:
            spec["start_url"] = self.start_url
        self.created(Kind.FORMATION, {"name": self.resource_name, "spec": spec})


class DeleteCommand(StoreCommand):
    command = "delete"
    name = "jupyter-share-delete"
    description = "delete a resource you own; its grants go with it"
    arguments = (REF,)
    reads_only = False

    def run_command(self) -> None:
        view = self.resolve(self.ref)
        self.service.delete(self.username, view.resource.kind, view.resource.id)
        if not self.json:  # the API answers 204: no body
            self.out(
                f"deleted {view.resource.kind.value} {view.resource.name!r} ({view.resource.id})"
            )
