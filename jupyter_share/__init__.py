"""jupyter_share: share images, formations and running containers between Jupyter users."""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-share"}]


def _jupyter_server_extension_points():
    from .app import ShareApp

    return [{"module": "jupyter_share", "app": ShareApp}]
