"""What runs in a user's server under JupyterHub (`ShareApp` in hub mode):

- `backend`: `HubBackend`, the mode's wiring: identity (the owner, and Hub users let in by a
  Hub share, held to their permission) and what the proxy asks;
- `handlers`: the share API carried to the share service, and the owner's event stream;
- `client`: the calls to the share service, as this server's owner.
"""

from __future__ import annotations

from .backend import HubBackend
from .client import (
    ContainerAccess,
    ServiceUnreachable,
    ShareServiceClient,
    service_client_from_env,
)
from .handlers import HubEnvironmentsBase, HubFeedHandler, HubProxyHandler, hub_handlers

__all__ = [
    "ContainerAccess",
    "HubBackend",
    "HubEnvironmentsBase",
    "HubFeedHandler",
    "HubProxyHandler",
    "ServiceUnreachable",
    "ShareServiceClient",
    "hub_handlers",
    "service_client_from_env",
]
