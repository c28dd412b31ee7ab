"""Which of a formation's environment variables a launch sets: one rule for every launch, the
Hub's spawner hooks (`hub.spawner`) and a standalone server's local launch (`launcher`).

A formation's variables are written by whoever may edit it, and they run in the server of
whoever launches it (its owner's too): only names on an allow-list are set, never a variable
that loads code (`PYTHONPATH`, `LD_PRELOAD`, ...), and never the Hub's or jupyter_share's own.
Each variable left out is reported, never silently dropped.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from traitlets import List, TraitError, Unicode, validate
from traitlets.config import Configurable

__all__ = ["DEFAULT_ALLOWED_ENV", "FormationEnvironment", "PROTECTED_ENV", "REFUSED_ENV"]

# Variables a formation never sets: the Hub's connection of the server (its token, API URL,
# OAuth client) and ours (where the server finds the share service, what it was launched from).
PROTECTED_ENV = ("JUPYTERHUB_", "JPY_", "JUPYTER_SHARE_")
#: The variables a formation may set by default: its own settings (`MY_*`), the locale and time
#: zone, and thread counts. Nothing that names a program, a library, a module, a file to read
#: at start-up, a host or a URL: a formation's variables are written by whoever may edit it,
#: and they run in the server of whoever launches it (the owner's too).
DEFAULT_ALLOWED_ENV = (
    "MY_*",
    "TZ",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_COLLATE",
    "LC_CTYPE",
    "LC_MESSAGES",
    "LC_MONETARY",
    "LC_NUMERIC",
    "LC_TIME",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMEXPR_MAX_THREADS",
    "NUMBA_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "TF_CPP_MIN_LOG_LEVEL",
)
#: Set in the launched server: the formation's variables that were left out, comma-separated.
REFUSED_ENV = "JUPYTER_SHARE_REFUSED_ENV"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_PATTERN = re.compile(r"^[A-Za-z_*][A-Za-z0-9_*]*$")


class FormationEnvironment(Configurable):
    """Which of a formation's environment variables a launch sets (`c.FormationEnvironment`,
    in jupyterhub_config.py for the Hub's launches, in the Jupyter server's config for local
    ones)."""

    allowed = List(
        Unicode(),
        default_value=list(DEFAULT_ALLOWED_ENV),
        config=True,
        help="Names of the environment variables a formation may set, exactly as written (case "
        "matters), or patterns where * stands for any characters (MY_*). Every other variable "
        "of a formation is left out of every launch, its owner's too, and reported. Extend it "
        "with c.FormationEnvironment.allowed.extend([...]). The Hub's and jupyter_share's own "
        "variables (JUPYTERHUB_*, JPY_*, JUPYTER_SHARE_*) are never set, whatever this says.",
    )

    @validate("allowed")
    def _valid_patterns(self, proposal: Any) -> list:
        bad = [p for p in proposal["value"] if not _ENV_PATTERN.match(p)]
        if bad:
            raise TraitError(
                f"FormationEnvironment.allowed: {', '.join(map(repr, bad))} is not a variable name or a pattern "
                "of letters, digits, _ and *"
            )
        return proposal["value"]

    def permits(self, name: str) -> bool:
        if not _ENV_NAME.match(name) or name.upper().startswith(PROTECTED_ENV):
            return False
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.allowed)

    def split(self, env: Any) -> tuple[dict[str, str], list[str]]:
        """(the variables a launch sets, the names it leaves out) of a formation's `env`."""
        kept, refused = {}, []
        for key, value in (env if isinstance(env, dict) else {}).items():
            if not isinstance(key, str) or not isinstance(value, str):
                continue  # the service accepts only strings: not a formation's
            if self.permits(key):
                kept[key] = value
            else:
                refused.append(key)
        return kept, sorted(refused)
