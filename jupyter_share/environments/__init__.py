"""Use what was shared: an environment and a kernel made here from an image's captured
packages (issue 16).

- `plan`: what would be built (pins, Python, installer, kernel name) and what stands in the way;
- `builder`: one build, with its steps, log, cancel and clean-up;
- `registry`: the environments made on this machine, as files;
- `EnvironmentManager` (here): the builds of one server or command, never two of one plan.

Who may use an image (anyone who sees it) is the service's rule (`ShareService.image_to_use`);
this package only builds.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable

from ..model import Conflict, InvalidInput, NotFound, Resource
from .builder import Build, BuildFailed
from .plan import BuildSettings, Plan, make_plan
from .registry import EnvironmentRegistry, valid_id

__all__ = [
    "Build",
    "BuildFailed",
    "BuildSettings",
    "EnvironmentManager",
    "EnvironmentRegistry",
    "Plan",
    "make_plan",
]


class EnvironmentManager:
    def __init__(
        self, settings: BuildSettings, on_change: Callable[[dict], None] = lambda data: None
    ):
        self.settings = settings
        self.registry = EnvironmentRegistry(settings.root)
        self.on_change = on_change
        self._builds: dict[str, Build] = {}
        self._lock = threading.Lock()
        for env_id in self.registry.half_made():  # left by a crash mid-build
            self.registry.remove(env_id)

    def plan(self, image: Resource) -> Plan:
        environment = image.spec.get("environment")
        if not environment:
            raise InvalidInput(
                f"image {image.name!r} has no captured environment: it runs where its "
                "container image reference runs",
                field="spec.environment",
            )
        return make_plan(image.id, image.name, image.owner, environment, self.settings)

    def plan_json(self, image: Resource, user: str) -> dict:
        plan = self.plan(image)
        answer = plan.json()
        existing = self._find(user, plan.id)
        answer["environment"] = existing
        return answer

    def use(self, image: Resource, user: str) -> tuple[dict, bool]:
        """(the environment, whether a build started now): never two builds of one plan, and
        none of a plan that is built."""
        plan = self.plan(image)
        refusal = plan.refusal()
        if refusal:
            raise InvalidInput(refusal, field="spec.environment.packages")
        with self._lock:
            record = self.registry.get(plan.id)
            if record is not None:
                return record, False
            build = self._builds.get(plan.id)
            if build is not None and build.state == "building":
                return build.json(), False
            lock = self.registry.lock(plan.id)
            if lock is None:
                raise Conflict(
                    f"{plan.display_name} is being built here by another process (a server or "
                    "`jupyter share use`): wait for it"
                )
            build = Build(plan, self.settings, self.registry, user, self._changed, lock)
            self._builds[plan.id] = build
        build.start()
        return build.json(), True

    def _changed(self, build: Build) -> None:
        try:
            self.on_change(build.json())
        except Exception:  # a listener must never stop a build
            pass

    def _find(self, user: str, env_id: str) -> dict | None:
        if not valid_id(env_id):
            return None
        build = self._builds.get(env_id)
        record = self.registry.get(env_id)
        found = record if record is not None else (build.json() if build else None)
        if found is None or found.get("built_by") != user:
            return None
        return found

    def get(self, user: str, env_id: str) -> dict:
        found = self._find(user, env_id)
        if found is None:
            raise NotFound(f"no environment {env_id!r}")
        return found

    def build(self, env_id: str) -> Build | None:
        return self._builds.get(env_id)

    def list(self, user: str) -> list[dict]:
        items = {r["id"]: r for r in self.registry.all() if r.get("built_by") == user}
        for env_id, build in list(self._builds.items()):
            if env_id not in items and build.built_by == user:
                items[env_id] = build.json()
        return sorted(items.values(), key=lambda e: e.get("started_at") or "", reverse=True)

    def log(self, user: str, env_id: str) -> str:
        self.get(user, env_id)
        try:
            return self.registry.log_path(env_id).read_text(errors="replace")
        except OSError:
            return ""

    def cancel(self, user: str, env_id: str) -> dict:
        self.get(user, env_id)
        build = self._builds.get(env_id)
        if build is None or build.state != "building":
            raise Conflict(f"environment {env_id!r} is not being built")
        build.cancel()
        return build.json()

    def remove(self, user: str, env_id: str) -> None:
        """The kernelspec and the environment together (a build in progress is cancelled)."""
        found = self.get(user, env_id)
        build = self._builds.get(env_id)
        if build is not None and build.state == "building":
            build.cancel()
        with self._lock:
            self._builds.pop(env_id, None)
            kernel = found.get("kernel_name")
            if kernel:
                shutil.rmtree(self.settings.kernels_dir / kernel, ignore_errors=True)
            self.registry.remove(env_id)
            try:
                self.registry.log_path(env_id).unlink()
            except OSError:
                pass
        self.on_change({**found, "state": "removed"})

    def shutdown(self) -> None:
        """Stop every build (the server stops): what they made is removed."""
        for build in list(self._builds.values()):
            if build.state == "building":
                build.cancel()
