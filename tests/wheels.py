"""Tiny real wheels for the environment tests and the benchmark, written with zipfile as the
wheel format says (PEP 427): a package with one module, METADATA, WHEEL and a RECORD with
hashes. No index and no build backend needed."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path


def _hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def make_wheel(
    folder: Path,
    name: str,
    version: str = "1.0",
    requires: tuple[str, ...] = (),
    body: str = "",
    tag: str = "py3-none-any",
) -> Path:
    """Write `name-version-TAG.whl` into `folder`: `import name` gives `name.VERSION` and runs
    `body`."""
    folder.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    metadata = "\n".join(
        ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        + [f"Requires-Dist: {r}" for r in requires]
    )
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n{body}\n",
        f"{dist_info}/METADATA": metadata + "\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: jupyter_share-tests\n"
        f"Root-Is-Purelib: true\nTag: {tag}\n",
    }
    record = [f"{path},{_hash(text.encode())},{len(text.encode())}" for path, text in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    path = folder / f"{module}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name_in_zip, text in files.items():
            archive.writestr(name_in_zip, text)
    return path


def kernel_wheelhouse(folder: Path) -> Path:
    """The wheels of ipykernel (the version running here) and its dependencies, for this
    Python, from the package index: the one thing the tests fetch, once per run, so that the
    image's own packages can come from a local folder only (docs/decisions.md)."""
    import ipykernel

    marker = folder / f".complete-{ipykernel.__version__}"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--only-binary=:all:",
            "-d",
            str(folder),
            f"ipykernel=={ipykernel.__version__}",
        ],
        check=True,
        timeout=600,
    )
    marker.touch()
    return folder


def offline_args(*wheelhouses: Path) -> list[str]:
    """A server's options to build environments from these folders only (no index)."""
    return ["--ShareApp.environment_no_index=True"] + [
        f"--ShareApp.environment_find_links={folder}" for folder in wheelhouses
    ]
