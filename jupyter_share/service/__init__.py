"""The rules of sharing (docs/architecture.md, "The rules"): the only place that decides who may
do what, and what is recorded.

Surfaces (REST handlers, CLI, the Hub's share service, the user server, the spawner hooks) call
one method per request with the acting user name and what the client sent; the service
validates, checks rights, writes through the store (change and audit row together, the audit
action chosen here) and emits one event per change. Refusals are `ShareError`s.

`ShareService` is one class, written by concern:

- `base.py`: the ports, who the caller is, what they hold, the audit row and event of a change;
- `resources.py`: seeing, listing, making, changing and deleting resources; using an image;
- `grants.py`: sharing, personal links, revoking and leaving, re-keying, expiry;
- `requests.py`: asking for more, approving, denying, withdrawing;
- `containers.py`: running servers' containers, and the Hub's servers and shares;
- `history.py`: who reads which history rows, the change feed, sign-ins, retention;
- `guests.py`: what a guest may call in the owner's container (the guest guard's routes).
"""

from __future__ import annotations

from ..containers import Containers
from .base import DirectoryMatches, EventSink, Me, expiry_entries, holds
from .grants import ShareResult
from .history import (
    HISTORY_FORMATS,
    MAX_ADDRESS,
    MAX_HISTORY_EXPORT,
    MAX_HISTORY_FILTERS,
    HistoryRules,
    recorded_action,
)
from .requests import DECISIONS, MAX_REQUEST_MESSAGE, MAX_REQUESTS_LISTED, Decision, RequestRules
from .resources import MAX_GRANTEES_LISTED, SCOPES, usable_image


class ShareService(RequestRules, HistoryRules):
    """The rules, as one object: each surface holds one, made with the store, the directory
    and (under JupyterHub) the containers port."""


__all__ = [
    "DECISIONS",
    "HISTORY_FORMATS",
    "MAX_ADDRESS",
    "MAX_GRANTEES_LISTED",
    "MAX_HISTORY_EXPORT",
    "MAX_HISTORY_FILTERS",
    "MAX_REQUESTS_LISTED",
    "MAX_REQUEST_MESSAGE",
    "SCOPES",
    "Containers",
    "Decision",
    "DirectoryMatches",
    "EventSink",
    "Me",
    "ShareResult",
    "ShareService",
    "expiry_entries",
    "holds",
    "recorded_action",
    "usable_image",
]
