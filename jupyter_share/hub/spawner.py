"""`jupyter_share.hub.spawner`, as README.md and docs/jupyterhub.md name it: the very module
`jupyter_share.hub.inhub.spawner` (run in the Hub's process), under its older name."""

import sys

from .inhub import spawner as _module

sys.modules[__name__] = _module
