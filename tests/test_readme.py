"""The README's shell blocks run as written, as root and as a normal user.

The blocks are read from README.md itself (so the README cannot drift from what is tested):
every fenced block whose language is `sh` (or none) is a shell block, and an HTML comment
just above a block says how it is tested:

- no mark: run. The unmarked blocks run in order as one bash script (they share `$DB`, `$ID`
  and the servers started in the background), and must succeed;
- `<!-- readme-test: serves PATH -->`: the block's last line starts a server that runs until
  stopped; it runs alone, until `PATH` answers on its port, then it is stopped as Ctrl-C does;
- `<!-- readme-test: skip: REASON -->`: not run, for the reason given.

Substitutions, the only differences from typing the blocks (each keeps the test from changing
or colliding with the machine it runs on):
- `pip install ...` and `npm install -g configurable-http-proxy` are checked, not run: what
  they install must be there (the checkout's installed package, JupyterHub for `.[hub]`, the
  proxy on PATH); reinstalling would replace the checkout under test;
- the README's ports (8801, 8802) become free ports, and a served command gets `--port` with
  a free port (and `--no-browser` for JupyterLab);
- HOME, TMPDIR and the Jupyter config, data and runtime dirs are a fresh directory.

As root, the normal-user half runs as a throwaway account made with `useradd` (and removed),
through `runuser`; as a normal user, the root half is skipped. The normal-user half may be
skipped outside CI where that account cannot run this Python (e.g. a venv under /root).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import httpx
import pytest

from .servers import free_port

# Starts the README's servers, as root and as a normal account.
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent
SHELL_LANGUAGES = {"", "sh", "bash", "shell"}
BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<mark>[^\n]*?) -->\n)?^```(?P<lang>[A-Za-z]*)\n(?P<body>.*?)^```$",
    re.M | re.S,
)
README_PORTS = ("8801", "8802")
IN_CI = bool(os.environ.get("CI"))


@dataclass
class Block:
    line: int
    mark: str
    body: str


def shell_blocks(text: str) -> list[Block]:
    blocks = []
    for m in BLOCK.finditer(text):
        if m.group("lang") in SHELL_LANGUAGES:
            blocks.append(
                Block(
                    text.count("\n", 0, m.start("body")) + 1,
                    (m.group("mark") or "").strip(),
                    m.group("body"),
                )
            )
    return blocks


def check_installs(line: str) -> str:
    """An install line becomes a check that what it installs is there."""

    def pip(m: re.Match) -> str:
        modules = "jupyter_share" + (", jupyterhub" if "[hub]" in m.group(0) else "")
        return f'python3 -c "import {modules}"'

    line = re.sub(r"pip install (\S+)", pip, line)
    return re.sub(
        r"npm install -g configurable-http-proxy",
        "command -v configurable-http-proxy > /dev/null",
        line,
    )


def substitute(body: str, ports: dict[str, str]) -> str:
    lines = []
    for line in body.splitlines():
        line = check_installs(line)
        for old, new in ports.items():
            line = re.sub(rf"\b{old}\b", new, line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def served(body: str, port: int) -> str:
    """A `serves` block: its last line runs in the foreground (exec) on `port`."""
    lines = substitute(body, {}).rstrip("\n").splitlines()
    command, _, _comment = lines[-1].partition(" #")
    extra = f" --port {port}" + (" --no-browser" if re.search(r"\bjupyter lab\b", command) else "")
    # `a && b`: the checks before the server stay; the server replaces the shell.
    *checks, server = command.split(" && ")
    lines[-1] = " && ".join(checks + ["exec " + server.strip() + extra])
    return "\n".join(lines) + "\n"


# -- who runs the blocks --------------------------------------------------------------------


class Runner:
    """Runs scripts as root (the test's own user) or as a throwaway normal account."""

    def __init__(self, home: Path, account: str | None = None):
        self.home = home
        self.account = account
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        self.env.update(
            HOME=str(home),
            TMPDIR=str(home / "tmp"),
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            PYTHONUNBUFFERED="1",
        )
        if account:
            self.env.update(USER=account, LOGNAME=account)
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        if account:
            shutil.chown(home / "tmp", account)

    def command(self, script: Path) -> list[str]:
        bash = ["bash", str(script)]
        return ["runuser", "-u", self.account, "--"] + bash if self.account else bash

    def start(self, script: str, name: str) -> tuple[subprocess.Popen, Path]:
        path = self.home / f"{name}.sh"
        path.write_text(script)
        log = self.home / f"{name}.log"
        if self.account:
            shutil.chown(path, self.account)
        process = subprocess.Popen(
            self.command(path),
            env=self.env,
            cwd=self.home,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return process, log


def stop_group(process: subprocess.Popen, timeout: float = 60) -> None:
    """Stop a script and what it started, as Ctrl-C does, then for good."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
            # the group may outlive its leader (servers started with &)
            os.killpg(process.pid, 0)
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            break
        time.sleep(0.5)


def throwaway_account() -> str:
    name = f"jsreadme{os.urandom(3).hex()}"
    subprocess.run(
        ["useradd", "--no-create-home", "--shell", "/bin/bash", name],
        check=True,
        capture_output=True,
    )
    return name


@pytest.fixture(params=["root", "normal user"])
def runner(request, tmp_path_factory):
    home = tmp_path_factory.mktemp("readme-home")
    home.chmod(0o755)
    if request.param == "root":
        if os.geteuid() != 0:
            pytest.skip("the root half runs as root (CI runs as root)")
        yield Runner(home)
        return
    if os.geteuid() != 0:
        yield Runner(home)  # this user is the normal user
        return
    if not (shutil.which("runuser") and shutil.which("useradd")):
        if IN_CI:
            pytest.fail("as root, the normal-user half needs runuser and useradd")
        pytest.skip("as root without runuser and useradd, no normal user to run as")
    account = throwaway_account()
    # The account's home, where it can reach it: pytest's own temporary folders are root's
    # alone (mode 700) all the way up.
    home = Path(tempfile.mkdtemp(prefix="jupyter-share-readme-"))
    home.chmod(0o755)
    try:
        subprocess.run(["chown", "-R", account, str(home)], check=True)
        can_run = subprocess.run(
            ["runuser", "-u", account, "--", sys.executable, "-c", "import jupyter_share"],
            capture_output=True,
            text=True,
            cwd=home,
        )
        if can_run.returncode != 0:
            reason = f"the account {account} cannot run {sys.executable}: {can_run.stderr.strip()[-200:]}"
            if IN_CI:
                pytest.fail(reason)
            pytest.skip(reason)
        yield Runner(home, account)
    finally:
        subprocess.run(
            ["userdel", account], capture_output=True
        )  # its processes were stopped by group
        shutil.rmtree(home, ignore_errors=True)


# -- the tests --------------------------------------------------------------------------------


def test_the_readme_has_its_blocks_marked():
    """Extraction finds the blocks, and every mark is one the runner knows."""
    blocks = shell_blocks(README.read_text())
    marks = [b.mark for b in blocks]
    assert len(blocks) >= 5, marks
    for block in blocks:
        assert block.mark == "" or block.mark.startswith(("serves /", "skip: ")), (
            block.line,
            block.mark,
        )
    assert sum(m.startswith("serves ") for m in marks) >= 2 and sum(m == "" for m in marks) >= 3
    skipped = [b for b in blocks if b.mark.startswith("skip")]
    assert [b.body.strip() for b in skipped] == [
        'pip install -e ".[test]" && python -m pytest && (cd labextension && jlpm install && jlpm test)'
    ]


def test_the_readme_runs_as_written(runner):
    blocks = shell_blocks(README.read_text())
    ports = {old: str(free_port()) for old in README_PORTS}
    script = "set -euo pipefail\n" + "".join(
        f"# README.md line {b.line}\n" + substitute(b.body, ports) for b in blocks if b.mark == ""
    )
    process, log = runner.start(script, "neighbours")
    try:
        process.wait(240)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the README's blocks did not finish in 240 s:\n{log.read_text()}")
    finally:
        stop_group(process)
    out = log.read_text()
    assert process.returncode == 0, out
    assert "Traceback" not in out, out
    # What each step shows (the README's comments say the same).
    assert '"principal": "user:bob"' in out and '"name": "CARET"' in out, (
        out
    )  # share + shared-with-me
    assert "changed image 'CARET' with user:bob · edit" in out, out
    assert re.search(r"^CARET +image +alice +edit ", out, re.M), out  # bob's `jupyter share shared`
    links = re.findall(r'"link": "(http://[^"]+/jupyter-share/link/[^"]+)"', out)
    assert len(links) == 2, out  # bob's, and dave's: invited by name on the first run
    assert re.search(r"^alice@\S+ +session +alice +owner +shared \(2\) +running ", out, re.M), out
    # "Use a shared image": bob's kernel from alice's image, listed.
    assert "built: kernel 'tiny (alice)'" in out, out
    assert re.search(r"tiny \(alice\) +ready ", out), out


@pytest.mark.parametrize("which", ["jupyter lab", "hub-demo"])
def test_the_readme_servers_start(runner, which):
    blocks = [b for b in shell_blocks(README.read_text()) if b.mark.startswith("serves ")]
    block = next(b for b in blocks if which in b.body)
    if which == "hub-demo" and not shutil.which("configurable-http-proxy"):
        if IN_CI:
            pytest.fail("CI installs configurable-http-proxy")
        pytest.skip(
            "configurable-http-proxy is not installed (npm install -g configurable-http-proxy)"
        )
    path = block.mark.split(" ", 1)[1]
    port = free_port()
    process, log = runner.start(
        "set -euo pipefail\n" + served(block.body, port), which.replace(" ", "-")
    )
    try:
        deadline = time.monotonic() + 120
        answered = None
        while time.monotonic() < deadline and answered is None:
            assert process.poll() is None, f"README.md line {block.line} exited:\n{log.read_text()}"
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code
            except httpx.TransportError:
                time.sleep(0.5)
            # The Hub answers before its services have started; Ctrl-C then is a different test.
            if (
                which == "hub-demo"
                and answered is not None
                and "JupyterHub is now running" not in log.read_text()
            ):
                answered = None
                time.sleep(0.5)
        assert answered is not None and answered < 500, f"{path} did not answer:\n{log.read_text()}"
    finally:
        stop_group(process)
    out = log.read_text()
    assert "Traceback" not in out, out
    if which == "jupyter lab":
        assert "jupyter_share | extension was successfully loaded." in out, out
    else:
        assert "jupyter_share hub demo" in out and "JupyterHub stopped." in out, out
