"""The environment of this container, captured for an image, and written back out as files
that `pip install -r` and `conda env create -f` read."""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from collections.abc import Set as AbstractSet
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import yaml


def _source(dist: metadata.Distribution) -> str | None:
    """'local' for a distribution installed from a directory or in editable mode: it cannot be
    reinstalled from an index by name."""
    try:
        direct = dist.read_text("direct_url.json")
    except Exception:
        return None
    if not direct:
        return None
    try:
        info = json.loads(direct)
    except ValueError:
        return None
    url = info.get("url", "")
    if "dir_info" in info or url.startswith("file:"):
        return "local"
    return url or None


def _packages() -> list[dict]:
    seen: dict[str, dict] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() in seen:
            continue
        entry = {"name": name, "version": dist.version}
        source = _source(dist)
        if source:
            entry["source"] = source
        seen[name.lower()] = entry
    return sorted(seen.values(), key=lambda p: p["name"].lower())


def _conda() -> dict | None:
    prefix = os.environ.get("CONDA_PREFIX") or (
        sys.prefix if (Path(sys.prefix) / "conda-meta").is_dir() else None
    )
    if not prefix or not (Path(prefix) / "conda-meta").is_dir():
        return None
    packages = []
    channels: list[str] = []
    for record in sorted((Path(prefix) / "conda-meta").glob("*.json")):
        try:
            info = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        channel = str(info.get("channel", "")).rstrip("/").rsplit("/", 1)[-1]
        if channel and channel not in channels:
            channels.append(channel)
        packages.append(
            {
                "name": info.get("name", ""),
                "version": str(info.get("version", "")),
                "build": info.get("build", ""),
                "channel": channel,
            }
        )
    return {
        "name": os.environ.get("CONDA_DEFAULT_ENV") or Path(prefix).name,
        "prefix": prefix,
        "channels": channels,
        "packages": [p for p in packages if p["name"]],
    }


def _kernelspecs() -> list[dict]:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().get_all_specs()
    except Exception:
        return []
    return [
        {
            "name": name,
            "display_name": info.get("spec", {}).get("display_name", name),
            "language": info.get("spec", {}).get("language", ""),
        }
        for name, info in sorted(specs.items())
    ]


def capture_environment() -> dict:
    return {
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "packages": _packages(),
        "conda": _conda(),
        "kernelspecs": _kernelspecs(),
        "captured_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
    }


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "environment"


def _pip_lines(packages: list[dict], skip: AbstractSet[str] = frozenset()) -> list[str]:
    lines = []
    for p in packages:
        if p["name"].lower() in skip:
            continue
        pin = f"{p['name']}=={p['version']}"
        if p.get("source") == "local":
            # Installed from a local path: pip cannot fetch it by name, so it stays a note.
            lines.append(f"# {pin}  (installed from a local path)")
        else:
            lines.append(pin)
    return lines


def requirements_txt(environment: dict, image_name: str) -> str:
    header = [
        f"# Environment of the jupyter_share image {image_name!r}",
        f"# Python {environment.get('python', '?')} on {environment.get('platform', '?')}, captured {environment.get('captured_at', '?')}",
        "# Install with: pip install -r requirements.txt",
    ]
    return "\n".join(header + _pip_lines(environment.get("packages", []))) + "\n"


def conda_environment_yaml(environment: dict, image_name: str) -> str:
    conda = environment.get("conda") or {}
    conda_names = {p["name"].lower() for p in conda.get("packages", [])}
    dependencies: list = []
    if conda.get("packages"):
        dependencies += [f"{p['name']}={p['version']}" for p in conda["packages"]]
    elif environment.get("python"):
        dependencies += [f"python={environment['python']}", "pip"]
    pip = [
        line
        for line in _pip_lines(environment.get("packages", []), skip=conda_names)
        if not line.startswith("#")
    ]
    if pip:
        if not any(str(d).split("=")[0] == "pip" for d in dependencies):
            dependencies.append("pip")
        dependencies.append({"pip": pip})
    document = {
        "name": _slug(image_name),
        "channels": conda.get("channels") or ["conda-forge"],
        "dependencies": dependencies,
    }
    header = f"# Environment of the jupyter_share image {image_name!r}\n# Create with: conda env create -f environment.yml\n"
    return header + yaml.safe_dump(document, sort_keys=False)
