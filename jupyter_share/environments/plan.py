"""What using an image here would build: its pinned requirements, the Python that runs them,
the installer, the kernel's name, and what stands in the way. No I/O beyond asking the chosen
Python for its version (once per process and interpreter)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_KERNEL_NAME = re.compile(r"[^a-z0-9._-]+")


@dataclass
class BuildSettings:
    """How environments are built on this machine (`ShareApp.environment_*` traits)."""

    #: Where environments (and their logs) are kept.
    root: Path
    #: Where kernelspecs are registered (a `kernels` folder on the Jupyter data path).
    kernels_dir: Path
    #: The Python the environments are made with.
    python: str
    #: "auto" (uv where on PATH, else pip), "uv" or "pip".
    installer: str = "auto"
    index_url: str = ""
    find_links: list = field(default_factory=list)
    no_index: bool = False
    #: Wheels only: nothing from the image runs at install time, and "no wheel for this
    #: Python" is a clear answer where a source build would fail half-way.
    only_binary: bool = True
    #: What the kernel needs beside the image's packages (when the image does not pin it).
    kernel_requirements: list = field(default_factory=lambda: ["ipykernel"])
    #: Refuse to start with less free space than this where environments are kept.
    min_free_mb: int = 200

    def resolved_installer(self) -> str:
        if self.installer == "auto":
            return "uv" if shutil.which("uv") else "pip"
        return self.installer


@lru_cache(maxsize=8)
def pip_with_python_option(python: str) -> bool:
    """Whether `python -m pip` can install into another environment (`pip --python`, pip
    22.3 and later): then a venv is made without its own pip, saving ensurepip's seconds, and
    gets the pip the image pinned, like any other package."""
    try:
        out = subprocess.run(
            [python, "-m", "pip", "--version"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return False
    found = re.match(r"pip (\d+)\.(\d+)", out.stdout)
    return out.returncode == 0 and found is not None and (int(found[1]), int(found[2])) >= (22, 3)


@lru_cache(maxsize=8)
def python_version(python: str) -> str:
    """The full version of an interpreter, e.g. 3.12.4."""
    out = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.strip()


def _minor(version: str | None) -> str:
    return ".".join((version or "").split(".")[:2])


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def kernel_name(owner: str, image_name: str, spec_hash: str) -> str:
    """A kernelspec name (lowercase letters, digits, `._-`) that says whose image it is."""
    slug = _KERNEL_NAME.sub("-", f"{owner}-{image_name}".lower()).strip("-.")[:60]
    return f"share-{slug or 'image'}-{spec_hash[:8]}"


@dataclass
class Plan:
    image_id: str
    image_name: str
    owner: str
    #: `name==version` for every captured package that is installed.
    requirements: list
    #: Added for the kernel (the image does not pin them).
    kernel_requirements: list
    #: Captured from a local path or in editable mode: no index has them.
    local_only: list
    python_captured: str | None
    python_used: str
    installer: str
    #: The image was captured from conda; what happens here with it.
    conda_note: str | None
    spec_hash: str
    #: The conda front-end on PATH (conda, mamba, micromamba) where the image is from conda.
    conda_tool: str | None = None
    #: The image's conda packages that no pip requirement covers (not installed here).
    conda_only: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.image_id}-{self.spec_hash[:12]}"

    @property
    def python_matches(self) -> bool:
        return self.python_captured is None or _minor(self.python_captured) == _minor(
            self.python_used
        )

    @property
    def kernel_name(self) -> str:
        return kernel_name(self.owner, self.image_name, self.spec_hash)

    @property
    def display_name(self) -> str:
        return f"{self.image_name} ({self.owner})"

    def python_note(self) -> str:
        captured = self.python_captured or "an unknown version"
        if self.python_matches:
            return f"captured with Python {captured}; built with Python {self.python_used}"
        return (
            f"captured with Python {captured}, but this machine builds with Python "
            f"{self.python_used}: some pinned versions may have no wheel for it"
        )

    def refusal(self) -> str | None:
        """Why this plan cannot be built at all, naming the packages, or None."""
        if self.local_only:
            names = ", ".join(self.local_only)
            return (
                f"the image has packages installed from a local path or in editable mode, "
                f"which no index has: {names}"
            )
        if not self.requirements and not self.kernel_requirements:
            return "the image has no captured packages"
        return None

    def json(self) -> dict:
        return {
            "id": self.id,
            "image_id": self.image_id,
            "image_name": self.image_name,
            "owner": self.owner,
            "kernel_name": self.kernel_name,
            "display_name": self.display_name,
            "packages": len(self.requirements),
            "requirements": list(self.requirements),
            "kernel_requirements": list(self.kernel_requirements),
            "local_only": list(self.local_only),
            "python": {
                "captured": self.python_captured,
                "used": self.python_used,
                "matches": self.python_matches,
                "note": self.python_note(),
            },
            "installer": self.installer,
            "conda": self.conda_note,
            "conda_tool": self.conda_tool,
            "conda_only": list(self.conda_only),
            "refusal": self.refusal(),
        }


def make_plan(
    image_id: str, image_name: str, owner: str, environment: dict, settings: BuildSettings
) -> Plan:
    requirements, local_only = [], []
    pinned = set()
    for package in environment.get("packages") or []:
        name, version = package.get("name", ""), package.get("version", "")
        if not name:
            continue
        pinned.add(_canonical(name))
        if package.get("source") == "local":
            local_only.append(f"{name}=={version}")
        else:
            requirements.append(f"{name}=={version}")
    kernel = [
        r
        for r in settings.kernel_requirements
        if _canonical(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) not in pinned
    ]
    used = python_version(settings.python)
    conda = environment.get("conda") or None
    tool, conda_only, conda_note = None, [], None
    if conda:
        tool = conda_tool()
        listed = conda.get("packages") if isinstance(conda, dict) else None
        conda_only = sorted(
            {
                f"{p['name']}={p.get('version', '')}"
                for p in listed or []
                if isinstance(p, dict) and p.get("name") and _canonical(p["name"]) not in pinned
            }
        )
        conda_note = conda_fallback_note(tool, conda_only)
    digest = hashlib.sha256(
        json.dumps(
            {
                "requirements": sorted(requirements),
                "kernel": sorted(kernel),
                "python": _minor(used),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return Plan(
        image_id=image_id,
        image_name=image_name,
        owner=owner,
        requirements=requirements,
        kernel_requirements=kernel,
        local_only=local_only,
        python_captured=environment.get("python"),
        python_used=used,
        installer=settings.resolved_installer(),
        conda_note=conda_note,
        spec_hash=digest,
        conda_tool=tool,
        conda_only=conda_only,
    )


#: Conda front-ends, in the order they are looked for on PATH.
CONDA_TOOLS = ("mamba", "micromamba", "conda")


def conda_tool() -> str | None:
    """The first conda front-end on PATH, or None."""
    return next((name for name in CONDA_TOOLS if shutil.which(name)), None)


def conda_fallback_note(tool: str | None, conda_only: list) -> str:
    """What happens here with an image captured from conda, said plainly: environments are
    virtual environments made with pip or uv (building conda environments is not implemented,
    docs/decisions.md), so the image's conda-only packages are not installed."""
    where = (
        f"{tool} is on this machine, but jupyter_share does not build conda environments yet"
        if tool
        else "no conda, mamba or micromamba is on this machine's PATH"
    )
    if conda_only:
        shown = ", ".join(conda_only[:8]) + (
            f" and {len(conda_only) - 8} more" if len(conda_only) > 8 else ""
        )
        missing = f"its {len(conda_only)} conda-only packages are not installed ({shown})"
    else:
        missing = "it has no conda-only packages"
    return (
        f"captured from a conda environment; {where}: its pip-installable packages are "
        f"installed into a virtual environment instead, and {missing}"
    )
