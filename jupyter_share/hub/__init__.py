"""jupyter_share under JupyterHub (docs/architecture.md, "Under JupyterHub"): the share service, the call that
adds it to `jupyterhub_config.py`, and the spawner hooks that launch from shared images and
formations. Imported lazily: user servers load `hub.userserver` without JupyterHub's own
packages."""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "configure_jupyterhub": "config",
    "options_form": "spawner",
    "apply_user_options": "spawner",
    "profile_list": "spawner",
    "allowed_images": "spawner",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(name)
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
