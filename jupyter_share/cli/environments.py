"""`jupyter share environment|use|environments|remove-environment`: an image's captured
packages as a file, and environments with kernels built here from them."""

from __future__ import annotations

import sys

from traitlets import Bool

from .base import BuildError
from .options import IMAGE_REF, Positional, choice, option
from .output import progress, table
from .store import StoreCommand


class EnvironmentCommand(StoreCommand):
    command = "environment"
    summary = "print an image's captured environment as requirements.txt or environment.yml"
    name = "jupyter-share-environment"
    description = (
        "Print an image's captured environment as a file pip or conda reads "
        "(--json changes nothing: the API answers the file itself)."
    )
    arguments = (IMAGE_REF,)

    format = choice(
        ("requirements", "conda"),
        "requirements",
        "requirements (default): requirements.txt; conda: environment.yml",
    )

    def run_command(self) -> None:
        view = self.resolve(self.ref)
        _filename, _type, text = self.service.environment_file(
            self.username, view.resource.id, self.format
        )
        sys.stdout.write(text)


class UseCommand(StoreCommand):
    command = "use"
    summary = "build an environment and a kernel here from an image's captured packages"
    name = "jupyter-share-use"
    description = (
        "Build an environment on this machine from an image you can see (yours, or shared "
        "with you): a venv (uv where it is on PATH, else venv + pip) pinned to the captured "
        "versions, and a kernel named after the image and its owner, e.g. 'CARET (alice)'. "
        "Progress goes to stderr; Ctrl-C cancels and removes what was made. An image version "
        "built already is not built again. Where packages come from: "
        "--ShareApp.environment_find_links=DIR, --ShareApp.environment_no_index=True, "
        "--ShareApp.environment_index_url=URL."
    )
    arguments = (IMAGE_REF,)
    reads_only = False

    plan = option(
        Bool(
            False,
            help="only show what would be built (Python captured and used, packages), build nothing",
        )
    )

    def run_command(self) -> None:
        view = self.resolve(self.ref)
        image = self.service.image_to_use(self.username, view.resource.id)
        seen: list = []
        environments = self.app.make_environments(lambda data: progress(data, seen))
        if self.plan:
            plan = environments.plan_json(image, self.username)
            if self.json:
                return self.dump(plan)
            self.out(
                f"{plan['display_name']}: {plan['packages']} pinned packages, {plan['installer']}"
            )
            self.out(plan["python"]["note"])
            for line in filter(None, (plan["conda"], plan["refusal"])):
                self.out(line)
            return None
        to_build = environments.plan(image)
        print(to_build.python_note(), file=sys.stderr)
        if to_build.conda_note:
            print(to_build.conda_note, file=sys.stderr)
        environment, started = environments.use(image, self.username)
        build = environments.build(environment["id"])
        if started and build is not None:
            try:
                while not build.wait(0.5):
                    pass
            except KeyboardInterrupt:
                print("cancelling: removing what was made…", file=sys.stderr)
                build.cancel()
                raise
            environment = build.json()
        if environment["state"] != "ready":
            raise BuildError(environment["message"])
        if self.json:
            return self.dump(environment)
        done = "built" if started else "already built"
        self.out(
            f"{done}: kernel {environment['display_name']!r} ({environment['kernel_name']}), "
            f"environment {environment['id']} at {environment['path']}"
        )
        return None


class EnvironmentsCommand(StoreCommand):
    command = "environments"
    name = "jupyter-share-environments"
    description = "list the environments made here from images (by you)"

    def run_command(self) -> None:
        items = self.app.make_environments().list(self.username)
        if self.json:
            return self.dump({"items": items, "total": len(items)})
        rows = [
            (e["id"], e["display_name"], e["state"], e["kernel_name"], e["path"]) for e in items
        ]
        self.out(table(["ID", "KERNEL", "STATE", "KERNEL NAME", "PATH"], rows) if rows else "none")
        return None


class RemoveEnvironmentCommand(StoreCommand):
    command = "remove-environment"
    name = "jupyter-share-remove-environment"
    description = "remove an environment made from an image, and its kernel"
    arguments = (Positional("env_id", "ENV_ID", help="an id from `jupyter share environments`"),)

    def run_command(self) -> None:
        environments = self.app.make_environments()
        found = environments.get(self.username, self.env_id)
        environments.remove(self.username, self.env_id)
        if not self.json:
            self.out(
                f"removed the environment {self.env_id} and its kernel {found['display_name']!r}"
            )
