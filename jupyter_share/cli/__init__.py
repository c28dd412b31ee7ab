"""`jupyter share`: the command line over the share service (docs/architecture.md, "Layers").

A traitlets application, as `jupyter server` and `jupyter labextension` are:
`JupyterShareApp` (`main.py`) dispatches to one small `JupyterApp` per command, grouped by
what they act on (`resources`, `sharing`, `requests`, `environments`, `people`, `hub_demo`).
Config files and `--Class.trait=value` options reach them, and `ShareApp`, through traitlets
(`base.py` says which files, in which order).

A surface like the REST handlers: each command calls one `ShareService` method as
`ShareApp.username` and shapes the answer, either as a table for people or, with `--json`, as
exactly the JSON the REST API answers (`jupyter_share.serialize`). It opens the store itself,
as a standalone server does; the rules are the service's.

Exit codes: 0 success, 1 unexpected error, 2 bad input or usage (HTTP 400), 3 not found (404),
4 forbidden (403), 5 conflict (409).
"""

from __future__ import annotations

from collections.abc import Sequence


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line; return its exit code."""
    from .main import run as run_command_line

    return run_command_line(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from .main import main as main_

    main_(argv)
