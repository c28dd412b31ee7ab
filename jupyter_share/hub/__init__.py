"""jupyter_share under JupyterHub (docs/architecture.md, "Under JupyterHub"), by the process
each part runs in:

- `inhub`: inside the Hub, from `jupyterhub_config.py` (`configure_jupyterhub`, the spawner
  hooks); `hub.config` and `hub.spawner` are the same modules under their documented names;
- `service`: the share service, a process of its own managed by the Hub;
- `userserver`: a user's server in hub mode (`ShareApp.backend_class`);
- `demo`: `jupyter share hub-demo`, a real Hub with all three on one machine.

Imported lazily: user servers load `hub.userserver` without JupyterHub's own packages."""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "configure_jupyterhub": "inhub.config",
    "options_form": "inhub.spawner",
    "apply_user_options": "inhub.spawner",
    "profile_list": "inhub.spawner",
    "allowed_images": "inhub.spawner",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(name)
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
