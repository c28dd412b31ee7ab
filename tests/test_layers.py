"""The core imports nothing of `jupyter_share.hub` (docs/architecture.md, "Layers"): every
module outside `jupyter_share/hub/` is read as Python source, and any import of the Hub's
package, at the top of a module or inside a function, fails this test. The Hub's classes the
core defaults to are named as strings, which traitlets imports when they are used."""

from __future__ import annotations

import ast
from pathlib import Path

import jupyter_share

PACKAGE = Path(jupyter_share.__file__).parent
HUB = PACKAGE / "hub"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from jupyter_share import hub` (or `from . import hub` in the package root)
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def core_modules() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if HUB not in p.parents and "labextension" not in p.relative_to(PACKAGE).parts
    )


def hub_imports(path: Path) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for line, module in imported_modules(path)
        if module == "jupyter_share.hub" or module.startswith("jupyter_share.hub.")
    ]


def test_the_core_imports_nothing_of_the_hub():
    modules = core_modules()
    assert PACKAGE / "app.py" in modules and PACKAGE / "service" / "base.py" in modules
    offending = [line for path in modules for line in hub_imports(path)]
    assert offending == []


def test_the_scan_sees_every_form_of_import(monkeypatch):
    """The check itself: top-level, lazy, relative and `from … import hub` imports are all
    caught; a string naming a Hub class is not an import."""
    fake = PACKAGE / "_layers_probe.py"
    source = (
        "import jupyter_share.hub.service\n"
        "from .hub.userserver import HubBackend\n"
        "from . import hub\n"
        "def lazy():\n"
        "    from jupyter_share.hub import demo\n"
        "NAMED = 'jupyter_share.hub.userserver.HubBackend'\n"
    )
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    found = hub_imports(fake)
    assert sorted(int(line.split(":")[1].split()[0]) for line in found) == [1, 2, 2, 3, 5, 5]
