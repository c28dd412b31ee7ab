"""The guest guard's routes are one of the rules' modules: `jupyter_share.service.guests`.

This name stays for the modules that still import it from here (others are being reshaped in
parallel); new code imports `jupyter_share.service.guests`.
"""

from .service.guests import (
    ANONYMOUS_FOR_GUESTS,
    READ_METHODS,
    ROUTES,
    Check,
    Guest,
    Route,
    building_refused,
    guest_permission,
    guest_workspace,
    handler_name,
    refusal,
    refused_on_socket,
)

__all__ = [
    "ANONYMOUS_FOR_GUESTS",
    "READ_METHODS",
    "ROUTES",
    "Check",
    "Guest",
    "Route",
    "building_refused",
    "guest_permission",
    "guest_workspace",
    "handler_name",
    "refusal",
    "refused_on_socket",
]
