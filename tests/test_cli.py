"""`jupyter share`, run as a real command (a subprocess) on a temporary SQLite store with its own
Jupyter config, data and runtime dirs: alice and bob share through it, its --json output is the
REST API's, and every refusal exits with its own code."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

# Runs `jupyter share` as a process for every command (each starts Python and imports
# jupyter_server): tens of seconds a test. The rules it calls are tested in-process.
pytestmark = pytest.mark.slow

RESOURCE_KEYS = {
    "id",
    "kind",
    "name",
    "description",
    "owner",
    "created_at",
    "updated_at",
    "spec",
    "access",
    "shared",
    "share_count",
    "grantees",  # issue 15: who holds access, where the caller may list grants
}
SHARED_KEYS = RESOURCE_KEYS | {"shared_at", "expires_at"}
GRANT_KEYS = {"principal", "kind", "name", "permission", "granted_by", "created_at", "expires_at"}
AUDIT_KEYS = {"at", "actor", "action", "principal", "permission", "address"}
REFERENCE = "quay.io/lab/caret:2026.1"
BIN = Path(sys.executable).parent


class CLI:
    """Runs `jupyter share` in an isolated Jupyter environment."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.config_dir = tmp_path / "config"
        self.config_dir.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        self.env.update(
            JUPYTER_CONFIG_DIR=str(self.config_dir),
            JUPYTER_DATA_DIR=str(tmp_path / "data"),
            JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
            PATH=os.pathsep.join([str(BIN), self.env.get("PATH", "")]),
            PYTHONUNBUFFERED="1",
        )

    def configure(self, **share_app) -> None:
        """Write the ShareApp section of jupyter_server_config.json, as a server reads it."""
        (self.config_dir / "jupyter_server_config.json").write_text(
            json.dumps({"ShareApp": share_app})
        )

    def run(
        self, *args: str, user: str | None = "alice", expect: int = 0, command=None
    ) -> subprocess.CompletedProcess:
        argv = list(command or [sys.executable, "-m", "jupyter_share.cli"]) + list(args)
        if user:
            argv += ["--user", user]
        done = subprocess.run(
            argv, env=self.env, cwd=self.tmp, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == expect, (
            f"{args}: exit {done.returncode}, expected {expect}\n{done.stdout}\n{done.stderr}"
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def json(self, *args: str, **kw):
        return json.loads(self.run(*args, "--json", **kw).stdout)

    def together(self, method: str, calls: list[tuple[tuple, dict]]) -> list:
        """Independent commands, run side by side (each `jupyter share` spends most of its
        second importing jupyter_server)."""
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda call: getattr(self, method)(*call[0], **call[1]), calls))

    def refused(self, *args: str, expect: int, user: str = "alice") -> str:
        """Run a command that must be refused: its one-line error (no traceback)."""
        done = self.run(*args, user=user, expect=expect)
        assert done.stdout == ""
        assert "jupyter share: error: " in done.stderr
        return done.stderr


@pytest.fixture
def cli(tmp_path):
    return CLI(tmp_path)


def jupyter_share_command() -> list[str]:
    """`jupyter share` itself: jupyter finds the `jupyter-share` console script on PATH."""
    jupyter = shutil.which("jupyter", path=str(BIN)) or shutil.which("jupyter")
    assert jupyter and (
        shutil.which("jupyter-share", path=str(BIN)) or shutil.which("jupyter-share")
    ), "the jupyter-share console script is not installed: pip install -e ."
    return [jupyter, "share"]


def test_alice_shares_with_bob(cli, tmp_path):
    """User stories 1 and 2 and revocation, on the store named by jupyter_server_config.json."""
    db = tmp_path / "store" / "share.db"
    cli.configure(db_url=f"sqlite:///{db}", users=["bob", "carol"])

    image = cli.json(
        "create-image", "caret", "--reference", REFERENCE, "--description", "the CARET image"
    )
    assert set(image) == RESOURCE_KEYS | {"environment"}  # images: the environment's summary
    assert image["kind"] == "image" and image["owner"] == "alice" and image["access"] == "owner"
    assert image["spec"] == {"reference": REFERENCE} and (
        image["shared"],
        image["share_count"],
    ) == (False, 0)
    assert db.is_file(), "the db_url of jupyter_server_config.json was not used"

    # The formation through the real `jupyter share` entry point; its image given by name is
    # stored by id (see the spec bob reads below).
    done, grant = cli.together(
        "run",
        [
            (
                (
                    "create-formation",
                    "lab",
                    "--image",
                    "caret",
                    "--cpu",
                    "2",
                    "--memory",
                    "4G",
                    "--env",
                    "A=1",
                    "--env",
                    "B=x=y",
                    "--start-url",
                    "/lab",
                ),
                {"command": jupyter_share_command()},
            ),
            (("share", f"images/{image['id']}", "bob", "--json"), {}),
        ],
    )
    match = re.fullmatch(r"created formation 'lab': ([0-9a-f]{16})\n", done.stdout)
    assert match, done.stdout
    formation_id = match.group(1)
    grant = json.loads(grant.stdout)
    assert set(grant) == GRANT_KEYS
    assert grant | {"created_at": None} == {
        "principal": "user:bob",
        "kind": "user",
        "name": "bob",
        "permission": "view",
        "granted_by": "alice",
        "created_at": None,
        "expires_at": None,
    }
    # A name works where an id does; singular kinds too.
    done = cli.run(
        "share",
        "formation/lab",
        "user:bob",
        "--permission",
        "edit",
        "--expires",
        "2999-01-31T12:00:00Z",
    )
    assert done.stdout == "shared formation 'lab' with user:bob · edit until 2999-01-31 12:00:00Z\n"

    # Alice sees the badges; bob, on the same store, sees both under "shared with me".
    table, shared, bobs_table = cli.together(
        "run",
        [(("list",), {}), (("shared", "--json"), {"user": "bob"}), (("shared",), {"user": "bob"})],
    )
    table = table.stdout.splitlines()
    assert table[0].split() == ["NAME", "KIND", "OWNER", "ACCESS", "SHARING", "ID"]
    rows = {line.split()[0]: line for line in table[1:]}
    assert set(rows) == {"caret", "lab"}
    assert (
        "shared (1)" in rows["caret"] and image["id"] in rows["caret"] and "owner" in rows["caret"]
    )
    assert "shared (1)" in rows["lab"] and formation_id in rows["lab"]

    shared = json.loads(shared.stdout)
    assert shared["total"] == 2
    by_name = {item["name"]: item for item in shared["items"]}
    for item in shared["items"]:
        assert set(item) == SHARED_KEYS | ({"environment"} if item["kind"] == "image" else set())
        assert item["owner"] == "alice" and item["shared"] is True and item["share_count"] is None
        assert item["shared_at"]
    assert by_name["caret"]["access"] == "view" and by_name["caret"]["expires_at"] is None
    assert by_name["lab"]["access"] == "edit" and by_name["lab"]["expires_at"].startswith(
        "2999-01-31T12:00:00"
    )
    assert by_name["lab"]["spec"] == {
        "image": image["id"],
        "cpu": 2,
        "memory": "4G",
        "env": {"A": "1", "B": "x=y"},
        "start_url": "/lab",
    }
    table = bobs_table.stdout
    assert re.search(rf"^caret +image +alice +view +{image['id']}$", table, re.M), table
    assert re.search(
        rf"^lab +formation +alice +edit +2999-01-31 12:00:00Z +{formation_id}$", table, re.M
    ), table

    assert (
        cli.run("revoke", f"formations/{formation_id}", "bob").stdout
        == "revoked user:bob on formation 'lab'\n"
    )

    # The history shows the rows; every refusal has its exit code. Bob no longer sees the formation.
    refusals = {
        "unknown user": (("share", f"images/{image['id']}", "bobb"), 2, "alice"),
        "usage": (("share", f"images/{image['id']}"), 2, "alice"),
        "bad permission": (("share", "images/caret", "bob", "--permission", "owner"), 2, "alice"),
        "bad user name": (("list",), 2, "not valid!"),
        "unknown id": (("show", "images/0123456789abcdef"), 3, "alice"),
        "revoked": (("show", f"formations/{formation_id}"), 3, "bob"),
        "not the owner": (("delete", f"images/{image['id']}"), 4, "bob"),
        "duplicate name": (("create-image", "caret", "--reference", REFERENCE), 5, "alice"),
    }
    history, *errors = cli.together(
        "run",
        [(("history", "formations/lab"), {})]
        + [(args, {"expect": code, "user": user}) for args, code, user in refusals.values()],
    )
    history = history.stdout.splitlines()
    assert history[0].split() == ["AT", "ACTOR", "ACTION", "PRINCIPAL", "PERMISSION"]
    assert [line.split()[2:] for line in history[1:]] == [
        ["alice", "create"],
        ["alice", "share", "user:bob", "edit"],
        ["alice", "revoke", "user:bob", "edit"],
    ]

    assert all(e.stdout == "" for e in errors)
    errors = dict(zip(refusals, (e.stderr for e in errors), strict=False))
    assert (
        errors["unknown user"] == "jupyter share: error: unknown user 'bobb', did you mean 'bob'?\n"
    )
    assert (
        "usage: jupyter share share" in errors["usage"]
        and "the following arguments are required: PRINCIPAL" in errors["usage"]
    )
    assert "invalid choice: 'owner'" in errors["bad permission"]
    assert (
        errors["bad user name"]
        == "jupyter share: error: ShareApp.username 'not valid!' is not a valid user name\n"
    )
    assert errors["unknown id"] == "jupyter share: error: no image '0123456789abcdef'\n"
    assert errors["revoked"] == f"jupyter share: error: no formation '{formation_id}'\n"
    assert (
        errors["not the owner"]
        == "jupyter share: error: you hold 'view' on this image; this needs its owner\n"
    )
    assert re.fullmatch(
        r"jupyter share: error: alice already has an image named 'caret'\n",
        errors["duplicate name"],
    )

    # The refusals changed nothing; the owner may delete, and the grant goes with the image.
    assert (
        cli.run("delete", f"images/{image['id']}").stdout
        == f"deleted image 'caret' ({image['id']})\n"
    )
    assert cli.json("shared", user="bob") == {"items": [], "total": 0}


async def test_json_is_what_the_rest_api_answers(cli, api, db_url):
    """The CLI and a real server (pytest-jupyter, alice) on one store answer the same JSON."""

    def rest(r):
        assert r.code in (200, 201), r.body
        return json.loads(r.body)

    image = cli.json("create-image", "caret", "--reference", REFERENCE, "--db-url", db_url)
    assert rest(await api("GET", f"images/{image['id']}")) == image
    rest(await api("PUT", f"images/{image['id']}/grants/bob", {"permission": "edit"}))
    paths = [
        f"images/{image['id']}",
        "images",
        f"images/{image['id']}/grants",
        f"images/{image['id']}/history",
    ]
    answers = [rest(await api("GET", path)) for path in paths]
    commands = [
        ("show", paths[0]),
        ("list", "--kind", "images"),
        ("grants", paths[0]),
        ("history", paths[0]),
    ]
    printed = cli.together("json", [((*c, "--db-url", db_url), {}) for c in commands])
    for command, cli_json, api_json in zip(commands, printed, answers, strict=False):
        assert cli_json == api_json, command
    assert answers[0]["shared"] is True and answers[0]["share_count"] == 1
    assert [e["action"] for e in answers[3]["items"]] == ["create", "share"] and set(
        answers[3]["items"][1]
    ) == AUDIT_KEYS


def test_environment_files(cli, tmp_path):
    cli.configure(db_url=f"sqlite:///{tmp_path / 'share.db'}")
    image = cli.json("create-image", "my env", "--capture")
    assert image["spec"]["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))

    conda, requirements = cli.together(
        "run",
        [
            (("environment", f"images/{image['id']}", "--format", "conda"), {}),
            (("environment", "my env"), {}),  # by name; requirements.txt by default
        ],
    )
    document = yaml.safe_load(conda.stdout)
    assert document["name"] == "my-env" and document["channels"]
    pip = next(d["pip"] for d in document["dependencies"] if isinstance(d, dict))
    assert any(line.lower().startswith("pyyaml==") for line in pip)

    requirements = requirements.stdout.splitlines()
    assert requirements[0].startswith("# Environment of the jupyter_share image 'my env'")
    assert any(line.lower().startswith("pyyaml==") for line in requirements)

    assert "invalid choice: 'pip'" in cli.refused(
        "environment", "my env", "--format", "pip", expect=2
    )


def test_configuration_precedence(cli, tmp_path):
    """Config file < --ShareApp.trait=value < --db-url / --user, as for a server."""
    from_file = tmp_path / "from-file.db"
    other = f"sqlite:///{tmp_path / 'other.db'}"
    cli.configure(db_url=f"sqlite:///{from_file}", username="carol")
    whoami, dave, erin, image = cli.together(
        "run",
        [
            (("whoami",), {"user": None}),
            (("whoami", "--json", "--ShareApp.username=dave"), {"user": None}),
            (("whoami", "--json", "--ShareApp.username", "dave", "--user", "erin"), {"user": None}),
            (
                (
                    "create-image",
                    "elsewhere",
                    "--reference",
                    REFERENCE,
                    "--db-url",
                    other,
                    "--json",
                ),
                {},
            ),
        ],
    )
    assert whoami.stdout.splitlines()[0].split() == [
        "user:",
        "carol",
    ]  # ShareApp.username of the file
    assert f"store:        sqlite:///{from_file}\n" in whoami.stdout
    assert str(cli.config_dir / "jupyter_server_config.json") in whoami.stdout
    assert json.loads(dave.stdout)["username"] == "dave"
    assert json.loads(erin.stdout)["username"] == "erin"

    image = json.loads(image.stdout)
    ref = f"images/{image['id']}"
    in_file, in_other, unknown = cli.together(
        "run",
        [
            (("list", "--json"), {}),
            (("list", "--json", f"--ShareApp.db_url={other}"), {}),
            (("share", ref, "frank", "--db-url", other), {"expect": 2}),
        ],
    )
    assert json.loads(in_file.stdout)["total"] == 0  # the store of the file does not have it
    assert [i["id"] for i in json.loads(in_other.stdout)["items"]] == [image["id"]]
    assert unknown.stderr.startswith("jupyter share: error: unknown user 'frank': ")
    assert unknown.stderr.rstrip().endswith("or set c.ShareApp.users (--ShareApp.users=frank)")
    # A user is known through --ShareApp.users (or the config file, or by having used the store),
    # in each form a Jupyter user types it (jupyter lab takes the same).
    for users in (
        ["--ShareApp.users=['frank']"],
        ['--ShareApp.users=["frank", "gina"]'],
        ["--ShareApp.users=gina", "--ShareApp.users=frank"],
        ["--ShareApp.users", "frank"],
    ):
        grant = cli.json("share", ref, "frank", "--db-url", other, *users)
        assert grant["principal"] == "user:frank", users
    assert cli.run("share", ref, "frank", "--db-url", other, "--ShareApp.users=frank").stdout == (
        "unchanged: image 'elsewhere' was shared with user:frank · view already\n"
    )


def test_help(cli):
    top = cli.run("--help", user=None).stdout
    for command in (
        "list",
        "shared",
        "show",
        "create-image",
        "create-formation",
        "share",
        "revoke",
        "grants",
        "history",
        "delete",
        "environment",
    ):
        assert f"\n    {command} " in top or f"\n    {command}\n" in top, command
    assert "exit codes:" in top and "--ShareApp." in top
    share = cli.run("share", "--help", user=None).stdout
    assert (
        share.startswith("usage: jupyter share share")
        and "--permission {view,edit,manage}" in share
    )
    assert "--expires ISO8601" in share and "--json" in share
    assert cli.run(user=None, expect=2).stderr.startswith("usage: jupyter share")


def test_under_jupyterhub_it_points_to_the_service(cli):
    # A local store under JupyterHub would share nothing: the Hub's share service keeps it all.
    cli.env.update(
        JUPYTERHUB_API_TOKEN="x" * 32,
        JUPYTERHUB_SERVICE_PREFIX="/user/alice/",
        JUPYTERHUB_USER="alice",
    )
    message = cli.refused("list", expect=2, user=None)
    assert "share service" in message and "ShareClient()" in message
    assert not (cli.tmp / "data" / "jupyter_share").exists()
    # On purpose, a local store still works.
    assert cli.json("list", "--ShareApp.mode=standalone", user="alice")["total"] == 0


def test_honest_answers(cli, tmp_path):
    """Re-sharing the same grant says "unchanged"; a store path whose directory does not exist
    is an error for a read command (and nothing is created); empty --user and --db-url are
    errors, not the defaults; a bad name in ShareApp.users stops the command with its reason."""
    db = f"sqlite:///{tmp_path / 'share.db'}"
    cli.configure(db_url=db, users=["bob"])
    image = cli.json("create-image", "caret", "--reference", REFERENCE)
    ref = f"images/{image['id']}"
    assert cli.run("share", ref, "bob").stdout == "shared image 'caret' with user:bob · view\n"
    assert (
        cli.run("share", ref, "bob").stdout
        == "unchanged: image 'caret' was shared with user:bob · view already\n"
    )
    assert (
        cli.run("share", ref, "bob", "--permission", "edit").stdout
        == "changed image 'caret' with user:bob · edit\n"
    )
    assert cli.run(
        "share", ref, "bob", "--permission", "edit", "--expires", "2999-01-01"
    ).stdout.startswith("changed ")
    assert cli.run(
        "share", ref, "bob", "--permission", "edit", "--expires", "2999-01-01"
    ).stdout.startswith("unchanged: ")

    missing = tmp_path / "no-such-dir" / "share.db"
    for command in (("list",), ("shared",), ("whoami",), ("show", ref), ("history", ref)):
        message = cli.refused(*command, "--db-url", f"sqlite:///{missing}", expect=2)
        assert message == (
            f"jupyter share: error: no store at {missing}: the directory {missing.parent} does not exist "
            "(check --db-url or ShareApp.db_url; a command that creates something makes the store)\n"
        ), command
    assert not missing.parent.exists()
    # A command that creates something makes the store, as a server starting on it does.
    cli.run("create-image", "new", "--reference", REFERENCE, "--db-url", f"sqlite:///{missing}")
    assert missing.is_file()

    assert (
        cli.refused("list", "--user", "", user=None, expect=2)
        == "jupyter share: error: --user is empty: give a user name\n"
    )
    assert (
        cli.refused("list", "--db-url", " ", expect=2)
        == "jupyter share: error: --db-url is empty: give a store URL\n"
    )
    for bad in ("--ShareApp.users=bob,carol", "--ShareApp.users=[bob"):
        message = cli.refused("list", bad, expect=2)
        assert (
            "is not a user name" in message
            and "--ShareApp.users=bob --ShareApp.users=carol" in message
        ), message
    cli.configure(db_url=db, users=["bob", "carol's"])  # from the config file too
    assert 'ShareApp.users: "carol\'s" is not a user name' in cli.refused("list", expect=2)


def test_containers_of_stopped_servers_are_shown_stopped(cli, tmp_path):
    """`list` and `show` say whether a container's server runs: a session whose address
    refuses connections is stopped, one whose address accepts them is running, one on another
    machine is unknown (nothing is claimed)."""
    import socket

    from jupyter_share.directory import StandaloneDirectory
    from jupyter_share.service import ShareService
    from jupyter_share.store import SQLStore

    db = f"sqlite:///{tmp_path / 'share.db'}"
    cli.configure(db_url=db, users=["bob"])
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    host = socket.gethostname()
    store = SQLStore(url=db)
    try:
        service = ShareService(store, StandaloneDirectory(store, users=["bob"]))
        sessions = {
            "live": {"url": f"http://127.0.0.1:{listening.getsockname()[1]}/", "hostname": host},
            "gone": {"url": f"http://127.0.0.1:{closed.getsockname()[1]}/", "hostname": host},
            "far": {"url": "http://10.0.0.1:8888/", "hostname": host + "-elsewhere"},
        }
        ids = {}
        for name, spec in sessions.items():
            session = service.ensure_container("alice", f"alice@{host}:~/{name}", spec)
            ids[name] = session.id
            service.share("alice", session.kind, session.id, "bob", {"permission": "view"})
    finally:
        store.close()
    try:
        for user in ("alice", "bob"):
            lines = cli.run("list", "--kind", "sessions", user=user).stdout.splitlines()
            assert lines[0].split() == [
                "NAME",
                "KIND",
                "OWNER",
                "ACCESS",
                "SHARING",
                "STATE",
                "ID",
            ], lines
            states = {line.split()[0].rsplit("/", 1)[-1]: line.split()[-2] for line in lines[1:]}
            assert states == {"live": "running", "gone": "stopped", "far": "unknown"}, (user, lines)
        shown = cli.run("show", f"sessions/{ids['gone']}").stdout
        assert "\nstate:   stopped\n" in shown, shown
    finally:
        listening.close()
        closed.close()


# -- jupyter share use (issue 16) ---------------------------------------------------------------


def _image_with_packages(db: Path, owner: str, name: str, packages: list) -> str:
    """An image whose captured environment is `packages` (the CLI captures only its own)."""
    from jupyter_share.directory import StandaloneDirectory
    from jupyter_share.model import Kind
    from jupyter_share.service import ShareService
    from jupyter_share.store import SQLStore

    store = SQLStore(url=f"sqlite:///{db}")
    try:
        service = ShareService(store, StandaloneDirectory(store=store, users=["bob"], groups={}))
        environment = {
            "python": "3.12.0",
            "packages": [
                {"name": n, "version": v, **({"source": "local"} if local else {})}
                for n, v, local in packages
            ],
        }
        body = {"name": name, "spec": {"environment": environment}}
        return service.create(owner, Kind.IMAGE, body).resource.id
    finally:
        store.close()


def _offline(cli: CLI, *find_links: Path) -> None:
    cli.env = {k: v for k, v in cli.env.items() if not k.startswith("PIP_")}
    cli.env["PIP_CONFIG_FILE"] = os.devnull
    cli.configure(
        db_url=f"sqlite:///{cli.tmp / 'share.db'}",
        users=["bob"],
        environment_no_index=True,
        environment_find_links=[str(f) for f in find_links],
        environment_installer="pip",
    )


def test_use_refusals_exit_as_documented(cli, tmp_path):
    from .wheels import make_wheel

    wheels = make_wheel(tmp_path / "wheels", "caretpkg", "1.2").parent
    _offline(cli, wheels)
    db = tmp_path / "share.db"
    cli.run("whoami")  # makes the store
    missing = _image_with_packages(db, "alice", "gap", [("nowhere", "2.0", False)])
    local = _image_with_packages(db, "alice", "dev", [("mylab", "0.1", True)])
    hidden = _image_with_packages(db, "alice", "hers", [("caretpkg", "1.2", False)])

    failed = cli.run("use", f"images/{missing}", expect=1)
    assert "nowhere==2.0" in failed.stderr and "[resolving" in failed.stderr
    assert "captured with Python 3.12.0" in failed.stderr
    assert "mylab==0.1" in cli.refused("use", f"images/{local}", expect=2)
    assert "no image" in cli.refused("use", f"images/{hidden}", user="bob", expect=3)
    plan = cli.json("use", f"images/{hidden}", "--plan")
    assert plan["requirements"] == ["caretpkg==1.2"] and plan["environment"] is None
    assert cli.json("environments") == {"items": [], "total": 0}
    assert "no environment" in cli.refused("remove-environment", f"{hidden}-0123456789ab", expect=3)


@pytest.mark.slow
def test_use_builds_a_kernel_lists_and_removes_it(cli, tmp_path, kernel_wheels):
    from .wheels import make_wheel

    wheels = make_wheel(tmp_path / "wheels", "caretpkg", "1.2").parent
    _offline(cli, wheels, kernel_wheels)
    cli.run("whoami")
    rid = _image_with_packages(
        tmp_path / "share.db", "alice", "CARET", [("caretpkg", "1.2", False)]
    )
    cli.run("share", f"images/{rid}", "bob")

    done = cli.run("use", f"images/{rid}", user="bob", command=jupyter_share_command())
    assert "built: kernel 'CARET (alice)'" in done.stdout
    for step in ("[preparing]", "[resolving", "[installing", "[registering]"):
        assert step in done.stderr, done.stderr
    listed = cli.json("environments", user="bob")
    assert listed["total"] == 1 and listed["items"][0]["state"] == "ready"
    env = listed["items"][0]
    kernel = json.loads(
        (tmp_path / "data" / "kernels" / env["kernel_name"] / "kernel.json").read_text()
    )
    probe = subprocess.run(
        [kernel["argv"][0], "-c", "import caretpkg, ipykernel; print(caretpkg.VERSION)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "1.2", probe.stderr
    assert "already built" in cli.run("use", f"images/{rid}", user="bob").stdout
    assert cli.json("environments")["total"] == 0  # alice made none

    cli.run("remove-environment", env["id"], user="bob")
    assert cli.json("environments", user="bob")["total"] == 0
    assert not Path(env["path"]).exists()
    assert not (tmp_path / "data" / "kernels" / env["kernel_name"]).exists()


def test_history_filters_and_formats(cli, tmp_path):
    """`jupyter share history` takes the API's filters (--person, --action) and writes CSV or
    JSON; a bad filter is a usage error, not a traceback."""
    cli.configure(db_url=f"sqlite:///{tmp_path / 'share.db'}", users=["bob", "carol"])
    image = cli.json("create-image", "caret", "--reference", REFERENCE)
    ref = f"images/{image['id']}"
    cli.run("share", ref, "bob", "--permission", "view")
    cli.run("share", ref, "carol", "--permission", "edit")
    cli.run("revoke", ref, "carol")
    rows = list(csv.reader(io.StringIO(cli.run("history", ref, "--format", "csv").stdout)))
    assert rows[0] == ["at", "actor", "action", "principal", "permission", "address"]
    assert [r[2] for r in rows[1:]] == ["create", "share", "share", "revoke"]
    carol = cli.run("history", ref, "--person", "carol", "--format", "json").stdout
    assert [(e["action"], e["principal"]) for e in json.loads(carol)["items"]] == [
        ("share", "user:carol"),
        ("revoke", "user:carol"),
    ]
    shares = cli.json("history", ref, "--action", "share", "--person", "bob", "--person", "carol")
    assert [e["principal"] for e in shares["items"]] == ["user:bob", "user:carol"]
    table = cli.run("history", ref, "--action", "revoke,share").stdout.splitlines()
    assert table[0].split() == ["AT", "ACTOR", "ACTION", "PRINCIPAL", "PERMISSION"]
    assert len(table) == 4
    # bob reads the rows about him only.
    assert [e["principal"] for e in cli.json("history", ref, user="bob")["items"]] == ["user:bob"]
    assert "unknown action 'explode'" in cli.refused(
        "history", ref, "--action", "explode", expect=2
    )
    assert "invalid choice" in cli.run("history", ref, "--format", "xml", expect=2).stderr


def test_commands_are_traitlets_applications(cli, tmp_path):
    """Each command is a Jupyter application: its options are traits that the CLI's own
    jupyter_share_config.py and `--Class.trait=value` set, with the precedence traitlets
    gives (file < command line); a bad value in a config file is a usage error."""
    db = f"sqlite:///{tmp_path / 'share.db'}"
    cli.configure(db_url=db, users=["bob"])
    image = cli.json("create-image", "caret", "--reference", REFERENCE)
    mine = cli.json("create-image", "bobs", "--reference", REFERENCE, user="bob")
    cli.run("share", f"images/{mine['id']}", "alice", user="bob")

    (cli.config_dir / "jupyter_share_config.py").write_text(
        'c.ListCommand.scope = "owned"\nc.ShareGrantCommand.permission = "edit"\n'
    )
    owned, everything, by_trait, whoami = cli.together(
        "json",
        [
            (("list",), {}),
            (("list", "--scope", "all"), {}),
            (("list", "--ListCommand.scope=shared"), {}),
            (("whoami",), {}),
        ],
    )
    assert [i["name"] for i in owned["items"]] == ["caret"]
    assert {i["name"] for i in everything["items"]} == {"caret", "bobs"}
    assert [i["name"] for i in by_trait["items"]] == ["bobs"]
    assert cli.json("share", f"images/{image['id']}", "bob")["permission"] == "edit"
    shown = cli.run("whoami").stdout
    assert str(cli.config_dir / "jupyter_share_config.py") in shown
    assert str(cli.config_dir / "jupyter_server_config.json") in shown

    (cli.config_dir / "jupyter_share_config.py").write_text('c.ListCommand.scope = "mine"\n')
    assert "'mine'" in cli.refused("list", expect=2)
    help_all = cli.run("list", "--help-all", user=None).stdout
    assert "--ListCommand.scope" in help_all and "--ShareApp.users" in help_all
