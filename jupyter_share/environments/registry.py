"""Environments made on this machine, as files: one folder per environment under the root,
named by its id (image id + spec hash), with a record written once it is ready; build logs in
`.logs`. A folder without a record is half made (a crash mid-build) and is removed."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from pathlib import Path

RECORD = "jupyter-share-environment.json"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}-[0-9a-f]{12}$")


def valid_id(value: str) -> bool:
    return bool(_ID.match(value or ""))


class EnvironmentRegistry:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, env_id: str) -> Path:
        return self.root / env_id

    def log_path(self, env_id: str) -> Path:
        return self.root / ".logs" / f"{env_id}.log"

    def get(self, env_id: str) -> dict | None:
        if not valid_id(env_id):
            return None
        try:
            return json.loads((self.path(env_id) / RECORD).read_text())
        except (OSError, ValueError):
            return None

    def all(self) -> list[dict]:
        if not self.root.is_dir():
            return []
        found = [self.get(p.name) for p in sorted(self.root.iterdir()) if valid_id(p.name)]
        return [r for r in found if r]

    def save(self, record: dict) -> None:
        """Written last, atomically: an environment is ready when its record exists."""
        target = self.path(record["id"]) / RECORD
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, target)

    def remove(self, env_id: str) -> None:
        if valid_id(env_id):
            shutil.rmtree(self.path(env_id), ignore_errors=True)

    def lock(self, env_id: str):
        """Hold the build lock of an environment (an open file, locked; close it to release),
        or None when another process (a server, `jupyter share use`) is building it."""
        folder = self.root / ".locks"
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f"{env_id}.lock", "w")  # noqa: SIM115 - the caller closes it
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return None
        return handle

    def half_made(self) -> list[str]:
        """Ids of folders with no record that nobody is building (left by a crash)."""
        if not self.root.is_dir():
            return []
        found = []
        for p in self.root.iterdir():
            if valid_id(p.name) and not (p / RECORD).exists():
                held = self.lock(p.name)
                if held is not None:
                    held.close()
                    found.append(p.name)
        return found
