"""`jupyter_share.hub.config`, as README.md and docs/jupyterhub.md name it: the very module
`jupyter_share.hub.inhub.config` (run in the Hub's process), under its older name."""

import sys

from .inhub import config as _module

sys.modules[__name__] = _module
