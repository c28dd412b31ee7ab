"""The watchers of the store are part of it: `jupyter_share.store.changefeed`.

This name stays for the modules that still import it from here (others are being reshaped in
parallel); new code imports `jupyter_share.store.changefeed`.
"""

from .store.changefeed import (
    CHANNEL,
    Change,
    ChangeFeed,
    Listener,
    PostgresFeed,
    SQLiteFeed,
    feed_for,
)

__all__ = [
    "CHANNEL",
    "Change",
    "ChangeFeed",
    "Listener",
    "PostgresFeed",
    "SQLiteFeed",
    "feed_for",
]
