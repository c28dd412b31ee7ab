"""Every route of a Jupyter server's router, as (regex, handler class), and a concrete path for
each: `python -m tests.router_walk EXTENSIONS_JSON` builds a server with those extensions (not
started) and prints them as JSON. The guest attack tests walk them on a running server with the
same extensions."""

from __future__ import annotations

import itertools
import json
import re
import sys
from typing import Optional

#: Values tried for a route's groups, in order: the first that makes the route match is used.
SAMPLES = [
    "00000000-0000-0000-0000-000000000000",
    "python3",
    "no-such-file.txt",
    "sessions",
    "lab",
    "restart",
    "favicon.ico",
    "x",
    "/no-such-file.txt",
    "",
]


def _template(pattern: str) -> str:
    """The pattern with each top-level group as %s and simple regex syntax written out."""
    out, depth, i = [], 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            if depth == 0:
                out.append(pattern[i + 1] if pattern[i + 1] in "./-_?+*()[]$^" else "x")
            i += 2
            continue
        if c == "(":
            if depth == 0:
                out.append("%s")
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0 and i + 1 < len(pattern) and pattern[i + 1] in "?*+":
                i += 1
        elif depth == 0:
            out.append(c)
        i += 1
    text = "".join(out).lstrip("^").rstrip("$")
    return text.replace(".*", "x").replace("/?", "/").replace(".+", "x")


def sample_path(pattern: str) -> str | None:
    """A path that `pattern` matches, or None."""
    regex = re.compile(pattern if pattern.endswith("$") else pattern + "$")
    template = _template(pattern)
    holes = template.count("%s")
    if holes > 3:
        return None
    for values in itertools.product(SAMPLES, repeat=holes):
        path = template % values
        if regex.match(path):
            return path if path.startswith("/") else "/" + path
    return None


def routes(extensions: dict) -> list[dict]:
    import tempfile

    from jupyter_server.serverapp import ServerApp

    app = ServerApp()
    app.initialize(
        argv=[
            "--ServerApp.port=0",
            "--allow-root",
            "--no-browser",
            f"--ServerApp.root_dir={tempfile.mkdtemp()}",
            f"--ServerApp.jpserver_extensions={extensions!r}",
        ],
        new_httpserver=False,
    )
    found = []

    def walk(router) -> None:
        for rule in router.rules:
            if hasattr(rule.target, "rules"):
                walk(rule.target)
                continue
            regex = getattr(rule.matcher, "regex", None)
            target = rule.target if isinstance(rule.target, type) else type(rule.target)
            if regex is None:
                continue
            found.append(
                {
                    "pattern": regex.pattern,
                    "handler": f"{target.__module__}.{target.__qualname__}",
                    "path": sample_path(regex.pattern),
                }
            )

    walk(app.web_app.default_router)
    return found


if __name__ == "__main__":
    print(json.dumps(routes(json.loads(sys.argv[1]))))
