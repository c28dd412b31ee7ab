"""Environments made on this machine, as files: one folder per environment under the root,
named by its id (image id + spec hash), with a record written once it is ready; build logs in
`.logs`. A folder without a record is half made (a crash mid-build) and is removed."""

from __future__ import annotations

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

    def half_made(self, building: set) -> list[str]:
        """Ids of folders with no record that no build of this process is making."""
        if not self.root.is_dir():
            return []
        return [
            p.name
            for p in self.root.iterdir()
            if valid_id(p.name) and p.name not in building and not (p / RECORD).exists()
        ]
