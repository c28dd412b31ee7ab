"""The rules of resources: seeing them (one, or a page of a list), making, changing and
deleting them, and using an image."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .. import contract
from ..contract import bodies
from ..model import (
    OWNER,
    Forbidden,
    Grant,
    InvalidInput,
    Kind,
    NotFound,
    Page,
    Permission,
    Resource,
    ResourceView,
    ShareError,
    is_resource_id,
    new_resource_id,
)
from .containers import ContainerRules

SCOPES = ("owned", "shared", "all")


#: How many grantees a list shows per resource (the badge's names; `share_count` counts all).
MAX_GRANTEES_LISTED = 20


def usable_image(resource: Resource) -> Resource:
    """The image, if it has packages to build an environment from (the rule of
    `ShareService.image_to_use`, also applied by a Hub user server to the image the share
    service let its owner read)."""
    if not (resource.spec.get("environment") or {}).get("packages"):
        raise InvalidInput(
            f"image {resource.name!r} has no captured packages: it runs where its "
            "container image reference runs",
            field="spec.environment",
        )
    return resource


class ResourceRules(ContainerRules):
    def _views(
        self,
        user: str,
        items: Sequence[Resource],
        now: datetime,
        held: dict[str, list[Grant]] | None = None,
        counts: dict[str, int] | None = None,
    ) -> list[ResourceView]:
        """Views of `items` for `user`; `held` (the caller's live grants by resource id) and
        `counts` (live grants by resource id), when the caller read them already."""
        ids = [r.id for r in items]
        if held is None:
            held = self.store.grants_for_principals(
                [r.id for r in items if r.owner != user], self.principals_of(user), now
            )
        manageable = [
            r.id
            for r in items
            if r.owner == user
            or max((g.permission for g in held.get(r.id, [])), default=0) >= Permission.MANAGE
        ]
        if counts is None:
            counts = self.store.share_counts(manageable, now) if ids else {}
        # The badge's names come with the list: nobody has to ask per resource.
        grantees = self.store.grantees(
            [rid for rid in manageable if counts.get(rid)], now, MAX_GRANTEES_LISTED
        )
        views = []
        for r in items:
            if r.owner == user:
                count = counts.get(r.id, 0)
                views.append(
                    ResourceView(
                        r,
                        OWNER,
                        shared=count > 0,
                        share_count=count,
                        grantees=grantees.get(r.id, []),
                    )
                )
                continue
            mine = held.get(r.id, [])
            best = max(g.permission for g in mine)
            top = [g for g in mine if g.permission == best]
            ends = [g.expires_at for g in top]
            expiry = None if None in ends else max(e for e in ends if e is not None)
            views.append(
                ResourceView(
                    r,
                    best.label,
                    shared=True,
                    share_count=counts.get(r.id, 0) if r.id in manageable else None,
                    shared_at=min(g.created_at for g in mine),
                    expires_at=expiry,
                    grantees=grantees.get(r.id, []) if r.id in manageable else None,
                )
            )
        return views

    def view(self, user: str, kind: Kind, resource_id: str) -> ResourceView:
        with self.store.reading():
            resource, _ = self._resolve(user, kind, resource_id, "view")
            return self._views(user, [resource], self.clock())[0]

    # -- lists ----------------------------------------------------------------------------

    def list(
        self,
        user: str,
        kind: Kind | None,
        scope: Any = "all",
        offset: Any = None,
        limit: Any = None,
    ) -> Page[ResourceView]:
        scope = scope or "all"
        if scope not in SCOPES:
            raise InvalidInput(f"unknown scope {scope!r}: use owned, shared or all", field="scope")
        offset, limit = bodies.page(offset, limit)
        if self.mirrored and kind in (None, Kind.SESSION):
            if scope in ("owned", "all"):
                self.sync_servers(user)
            if scope in ("shared", "all"):
                self.merge_hub_shares(user)
        now = self.clock()
        # The page, the caller's grants on it, the share counts and grantees, read together.
        with self.store.reading():
            items, total, held, counts = self.store.list_page(
                user,
                self.principals_of(user),
                kind,
                owned=scope in ("owned", "all"),
                shared=scope in ("shared", "all"),
                now=now,
                offset=offset,
                limit=limit,
            )
            return Page(self._views(user, items, now, held, counts), total)

    def shared_with_me(
        self, user: str, kind: Any = None, offset: Any = None, limit: Any = None
    ) -> Page[ResourceView]:
        if kind in (None, ""):
            parsed = None
        else:
            parsed = Kind.parse(kind)
        return self.list(user, parsed, "shared", offset, limit)

    def _is_visible_image_id(self, user: str, value: str) -> bool | None:
        if not is_resource_id(value):
            return None
        resource = self.store.get_resource(value)
        if resource is None:
            return None
        return resource.kind == Kind.IMAGE and self.access_of(user, resource) is not None

    def _body(self, user: str, model: type[contract.M], body: Any) -> contract.M:
        """A request body validated by its model (contract/bodies.py); a formation's image id
        must be one `user` sees."""
        return contract.parse(
            model, body, context={"is_image_id": lambda v: self._is_visible_image_id(user, v)}
        )

    @staticmethod
    def check_creatable(kind: Kind) -> None:
        """Images and formations are made by hand; containers are the running servers (405
        over HTTP: no POST makes one)."""
        if kind == Kind.SESSION:
            raise ShareError(
                "sessions are the running servers; they are not created by hand",
                field="kind",
                status=405,
                reason="Method Not Allowed",
            )

    def create(self, user: str, kind: Kind, body: Any) -> ResourceView:
        self.check_creatable(kind)
        new: bodies.ImageCreate | bodies.FormationCreate
        if kind == Kind.IMAGE:
            new = self._body(user, bodies.ImageCreate, body)
        else:
            new = self._body(user, bodies.FormationCreate, body)
        name, description = new.name, new.description
        spec = new.spec.model_dump(exclude_unset=True) if new.spec is not None else {}
        if isinstance(new, bodies.ImageCreate) and new.capture:
            if self.capture_environment is None:
                raise InvalidInput("this server cannot capture its environment", field="capture")
            spec["environment"] = self.capture_environment()
            # The captured environment counts toward the size limit.
            spec = contract.parse(bodies.ImageSpec, spec, "spec").model_dump(exclude_unset=True)
        now = self.clock()
        resource = Resource(
            id=new_resource_id(),
            kind=kind,
            name=name,
            owner=user,
            description=description,
            spec=spec,
            created_at=now,
            updated_at=now,
        )
        self.store.create_resource(resource, self._audit("create", user, resource))
        self._event("create", user, resource)
        return ResourceView(resource, OWNER, shared=False, share_count=0, grantees=[])

    def update(self, user: str, kind: Kind, resource_id: str, body: Any) -> ResourceView:
        resource, _ = self._resolve(user, kind, resource_id, "edit")
        # A container's name and spec come from its server (ShareApp.session_name finds it again
        # after a restart); people may describe it.
        models: dict[Kind, type[bodies.Body]] = {
            Kind.IMAGE: bodies.ImageUpdate,
            Kind.FORMATION: bodies.FormationUpdate,
            Kind.SESSION: bodies.SessionUpdate,
        }
        change = self._body(user, models[kind], body)
        given = change.model_dump(exclude_unset=True)
        if "name" in given:
            resource.name = given["name"]
        if "description" in given:
            resource.description = given["description"]
        if "spec" in given:
            resource.spec = given["spec"]
        resource.updated_at = self.clock()
        self.store.update_resource(resource, self._audit("update", user, resource))
        self._event("update", user, resource)
        return self.view(user, kind, resource.id)

    def delete(self, user: str, kind: Kind, resource_id: str) -> None:
        resource, _ = self._resolve(user, kind, resource_id, OWNER)
        self._with_hub_access(
            resource,
            lambda held: set(),
            lambda: self.store.delete_resource(resource.id, self._audit("delete", user, resource)),
            all_at_hub=True,
        )
        self._event("delete", user, resource)

    # -- images ---------------------------------------------------------------------------

    def environment_file(self, user: str, resource_id: str, fmt: Any) -> tuple[str, str, str]:
        """(filename, content type, text) of an image's environment as pip or conda reads it."""
        from ..capture import conda_environment_yaml, requirements_txt

        resource, _ = self._resolve(user, Kind.IMAGE, resource_id, "view")
        fmt = fmt or "requirements"
        if fmt not in ("requirements", "conda"):
            raise InvalidInput(f"unknown format {fmt!r}: use requirements or conda", field="format")
        environment = resource.spec.get("environment")
        if not environment:
            raise NotFound(f"image {resource.name!r} has no captured environment")
        if fmt == "requirements":
            return (
                "requirements.txt",
                "text/plain; charset=UTF-8",
                requirements_txt(environment, resource.name),
            )
        return (
            "environment.yml",
            "application/x-yaml; charset=UTF-8",
            conda_environment_yaml(environment, resource.name),
        )

    def image_to_use(self, user: str, resource_id: str) -> Resource:
        """The image the caller may build an environment from here: anyone who sees it may use
        it (view is enough, as for launching). Whose container builds it is the surface's
        question: guests never reach it (guests.ROUTES lists no environment handler)."""
        with self.store.reading():
            resource, _ = self._resolve(user, Kind.IMAGE, resource_id, "view")
        return usable_image(resource)

    # -- launching ------------------------------------------------------------------------

    def formation_to_launch(self, user: str, resource_id: str) -> tuple[Resource, Resource | None]:
        """(the formation, its image when it names one by id) that the caller may launch:
        whoever sees a formation may launch it (view is enough, as under JupyterHub, where
        `hub.spawner.apply_user_options` reads both with the user's token). An image id the
        caller does not see is refused: launching never reaches what was not shared."""
        with self.store.reading():
            formation, _ = self._resolve(user, Kind.FORMATION, resource_id, "view")
            image_ref = formation.spec.get("image")
            if not isinstance(image_ref, str) or not image_ref:
                raise InvalidInput(
                    f"formation {formation.name!r} names no image", field="spec.image"
                )
            if not is_resource_id(image_ref):
                return formation, None  # a reference such as registry/name:tag
            image = self.store.get_resource(image_ref)
            if image is None or image.kind != Kind.IMAGE:
                return formation, None  # 16 hex digits that are a reference after all
            if self.access_of(user, image) is None:
                raise Forbidden(
                    f"formation {formation.name!r} uses an image that is not shared with you; "
                    f"ask {formation.owner} to share it"
                )
            return formation, image

    def container_to_stop(self, user: str, resource_id: str) -> Resource:
        """A container the caller may stop: their own (the owner's right, like deleting it).
        Whose server can stop it (the one that launched it) is the surface's question."""
        with self.store.reading():
            resource, _ = self._resolve(user, Kind.SESSION, resource_id, OWNER)
        return resource
