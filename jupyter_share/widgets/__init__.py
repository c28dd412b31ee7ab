"""Notebook panels (ipywidgets 8) over `jupyter_share.client.ShareClient`:

- `SharePanel(resource="sessions/current")`: share this container (or an image or formation);
- `SharedWithMe(kind=None)`: everything others shared with me;
- `ImagePanel()`: make an image of this container, then share it;
- `UseImage(image)`: build an environment and a kernel here from an image (both panels above
  offer it for each image with captured packages);
- `WhoIsIn()`: who is in this container now, each guest with Revoke and View only (a
  `SharePanel` of a container shows them too).

Each finds its server with `ShareClient()` unless given a `client`, and reports every outcome
in its `status` line: a click never raises.
"""

from .image_panel import ImagePanel
from .share_panel import GrantRow, SharePanel
from .shared_with_me import SharedItem, SharedWithMe
from .use_image import UseImage
from .who_is_in import GuestRow, WhoIsIn

__all__ = [
    "SharePanel",
    "SharedWithMe",
    "ImagePanel",
    "UseImage",
    "WhoIsIn",
    "GrantRow",
    "GuestRow",
    "SharedItem",
]
