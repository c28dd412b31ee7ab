"""The shape of the rules and the store, checked on their source (issue 13): rooms small
enough to read, the core importing no surface, and the store choosing no audit action (the
service decides what is recorded; the store writes what it is told)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from jupyter_share.model import HISTORY_ACTIONS

PACKAGE = Path(__file__).resolve().parent.parent / "jupyter_share"
#: The rules and the store, split by responsibility; each module a room one reads at once.
PACKAGES = ("service", "store")
MAX_LINES = 520
#: What the core may not import: the surfaces and the Hub's side, which ask it.
SURFACES = ("hub", "handlers", "app", "cli", "cli_guests", "client", "widgets")


def _modules(package: str) -> list[Path]:
    found = sorted((PACKAGE / package).glob("*.py"))
    assert found, package
    return found


def _imported(path: Path) -> set[str]:
    """The jupyter_share modules `path` imports, as dotted names below `jupyter_share`."""
    tree = ast.parse(path.read_text(), str(path))
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(parts[: len(parts) - node.level])
                module = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("jupyter_share"):
                module = (node.module or "").removeprefix("jupyter_share").lstrip(".")
            else:
                continue
            names.add(module)
            names.update(f"{module}.{a.name}".lstrip(".") for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                a.name.removeprefix("jupyter_share.")
                for a in node.names
                if a.name.startswith("jupyter_share.")
            )
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_each_module_of_the_rules_and_the_store_is_a_room_one_reads_at_once(package):
    sizes = {p.name: len(p.read_text().splitlines()) for p in _modules(package)}
    assert all(n < MAX_LINES for n in sizes.values()), sizes


@pytest.mark.parametrize("package", PACKAGES)
def test_the_core_imports_no_surface_and_nothing_of_the_hub(package):
    for path in _modules(package):
        bad = {
            name
            for name in _imported(path)
            if name.split(".")[0] in SURFACES and not name.startswith("hub_")
        }
        assert not bad, f"{path.name} imports {sorted(bad)}"


def _named_actions(source: str) -> list[tuple[int, str]]:
    """(line, action) of each history action named in `source` outside docstrings."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in HISTORY_ACTIONS
        and id(node) not in docstrings
    ]


def test_the_store_chooses_no_audit_action():
    """The store writes the audit entries the service gives it (which a new grant gets, which a
    changed one, which an expired one, which rows a purge keeps): no action is named in its
    code. Its docstrings may still speak of them."""
    for path in _modules("store"):
        assert _named_actions(path.read_text()) == [], path.name


def test_the_checks_see_what_they_look_for():
    """The scans above can fail: an import of a surface, and an action named, are found."""
    handlers = _imported(PACKAGE / "hub" / "userserver" / "handlers.py")
    assert {"handlers", "handlers.ShareAPIBase"} <= handlers
    assert "service.recorded_action" in _imported(PACKAGE / "hub" / "userserver" / "backend.py")
    source = '"""A docstring: share."""\n\ndef f(entry):\n    return entry.action == "expire"\n'
    assert _named_actions(source) == [(4, "expire")]


#: Who may read the mode: the app, which chooses its ports by it once, and the CLI, which
#: says so when a local store would share nothing (and shows it in `whoami`).
MODE_READERS = {"app.py", "cli/store.py", "cli/people.py"}
#: Where permissions are compared: the rules, the model that orders them, and the store's
#: query for the deciders the rules name (`requests_to_decide`).
PERMISSION_COMPARERS = {"model.py", "store/access_requests.py"}


def _decisions(path: Path) -> list[tuple[int, str]]:
    """(line, what) of each place in `path` that reads the mode or orders permissions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr == "resolved_mode":
            found.append((node.lineno, "mode"))
        if isinstance(node, ast.Compare) and any(
            isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for op in node.ops
        ):
            names = {
                n.attr if isinstance(n, ast.Attribute) else getattr(n, "id", "")
                for side in [node.left, *node.comparators]
                for n in ast.walk(side)
            }
            if names & {"Permission", "permission", "EDIT", "VIEW", "MANAGE"}:
                found.append((node.lineno, "permission"))
    return found


def test_no_rule_is_decided_outside_the_rules():
    """Surfaces, ports and hooks ask the service (`jupyter_share/service/`): none of them
    orders permissions or branches on the mode (the app chooses its backend by it once)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name.startswith("service/"):
            continue
        for line, what in _decisions(path):
            allowed = MODE_READERS if what == "mode" else PERMISSION_COMPARERS
            assert name in allowed, f"{name}:{line} decides by the {what}"


def test_the_rule_scan_finds_what_it_looks_for(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f(app, guest):\n"
        "    if app.resolved_mode == 'hub':\n"
        "        return guest.permission >= Permission.EDIT\n"
    )
    assert _decisions(probe) == [(2, "mode"), (3, "permission")]


#: The store's code that both databases run (docs/architecture.md, "Ports and their
#: implementations"): what differs is in `sqlite.py` and `postgres.py`, chosen by the URL in
#: `urls.py`. (`migrations.py` is one numbered history for both: a step only PostgreSQL needs,
#: the NOTIFY trigger, and its lock against concurrent upgrades, say so inside it.
#: `changefeed.py` holds the two watchers, each store choosing its own.)
SHARED_STORE = (
    "port.py",
    "schema.py",
    "connection.py",
    "changes.py",
    "queries.py",
    "access_requests.py",
    "statements.py",
)
DATABASE_WORDS = ("sqlite", "postgres", "psycopg", "pg_")


def _database_branches(source: str) -> list[tuple[int, str]]:
    """(line, what) of each name in `source` that speaks of one database, and of each
    comparison with a string that names one: the shape of an `if sqlite` branch."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.arg):
            names = [node.arg]
        elif isinstance(node, ast.Compare):
            names = [
                c.value
                for c in (node.left, *node.comparators)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            ]
        found += [(node.lineno, n) for n in names if any(w in n.lower() for w in DATABASE_WORDS)]
    return found


def test_the_stores_shared_code_has_no_branch_for_one_database():
    for name in SHARED_STORE:
        assert _database_branches((PACKAGE / "store" / name).read_text()) == [], name
    source = (
        "def f(store, url):\n"
        "    if store.is_sqlite:\n"
        "        pass\n"
        '    return url.get_backend_name() == "postgresql"\n'
    )
    assert _database_branches(source) == [(2, "is_sqlite"), (4, "postgresql")]
    # What differs is where it belongs.
    assert _database_branches((PACKAGE / "store" / "sqlite.py").read_text())
    assert _database_branches((PACKAGE / "store" / "postgres.py").read_text())
