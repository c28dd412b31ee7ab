"""One build of an environment from a plan: a virtual environment (uv where it is on PATH,
else `python -m venv` + pip), the image's pinned packages, and a kernelspec.

A build runs in a thread of its own and reports its step (preparing, resolving, downloading,
installing N/M, registering) to `on_change`. Every line the tools print goes to its log. It can
be cancelled (its process group is killed). A build that does not finish removes all it made
and says why, naming the package where there is one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from .plan import BuildSettings, Plan, pip_with_python_option
from .registry import EnvironmentRegistry

STEPS = ("preparing", "resolving", "downloading", "installing", "registering", "done")

_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s,;)'\"]+)")
_NETWORK = re.compile(
    r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|"
    r"Could not fetch URL|Network is unreachable|Connection refused|ProxyError|dns error|"
    r"Failed to fetch|error sending request|failed to connect",
    re.I,
)
_DISK = re.compile(r"No space left on device|Errno 28|Disk quota exceeded", re.I)
_NOT_FOUND = re.compile(
    r"No matching distribution found for|Could not find a version that satisfies|"
    r"was not found in the package registry|no version of|not found in the provided package "
    r"locations|has no wheels with a matching|there is no version",
    re.I,
)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class BuildFailed(Exception):
    def __init__(self, message: str, reason: str = "error", package: str | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.package = package


class Cancelled(Exception):
    pass


def reachable(url: str, timeout: float = 5.0) -> bool:
    """Whether an index answers at all (any HTTP status counts: it is there)."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        return True
    try:
        urllib.request.urlopen(url, timeout=timeout).close()  # noqa: S310 - the configured index
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def diagnose(lines: list[str], plan: Plan, settings: BuildSettings, code: int) -> BuildFailed:
    """Why an install failed, from what the installer printed: the package and the reason."""
    text = "\n".join(lines)
    wanted = {
        re.sub(r"[-_.]+", "-", r.split("==")[0]).lower(): r
        for r in plan.requirements + plan.kernel_requirements
    }

    def package() -> str | None:
        for line in lines:
            if _NOT_FOUND.search(line):
                for name, version in _PIN.findall(line):
                    if re.sub(r"[-_.]+", "-", name).lower() in wanted:
                        return f"{name}=={version}"
                for name in re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", line):
                    key = re.sub(r"[-_.]+", "-", name).lower()
                    if key in wanted:
                        return wanted[key]
        return None

    if _DISK.search(text):
        return BuildFailed(
            f"not enough disk space in {settings.root} to install the packages", reason="disk"
        )
    found = package()
    unreachable = _NETWORK.search(text) or (
        found and settings.index_url and not settings.no_index and not reachable(settings.index_url)
    )
    if unreachable and (found or not settings.no_index):
        where = settings.index_url or "the package index"
        return BuildFailed(
            f"no package index reachable ({where})"
            + (f" to fetch {found}" if found else "")
            + ": check the network, or set ShareApp.environment_index_url / "
            "environment_find_links",
            reason="no_index",
            package=found,
        )
    if found:
        if settings.only_binary:
            where = ", ".join(
                ([settings.index_url] if settings.index_url and not settings.no_index else [])
                + list(settings.find_links)
            ) or ("the package index" if not settings.no_index else "no index or folder")
            return BuildFailed(
                f"no wheel of {found} for Python {plan.python_used} on this machine "
                f"(looked in {where})",
                reason="no_wheel",
                package=found,
            )
        return BuildFailed(
            f"{found} cannot be found or built here", reason="not_found", package=found
        )
    errors = [line.strip() for line in lines if "error" in line.lower()]
    last = errors[-1] if errors else (lines[-1].strip() if lines else "")
    return BuildFailed(f"the installer failed (exit code {code}): {last}", reason="error")


class Build:
    """One environment being made (see the module's description)."""

    def __init__(
        self,
        plan: Plan,
        settings: BuildSettings,
        registry: EnvironmentRegistry,
        built_by: str,
        on_change: Callable[[Build], None] = lambda build: None,
        lock=None,
    ):
        self.plan = plan
        self.settings = settings
        self.registry = registry
        self.built_by = built_by
        self.on_change = on_change
        #: The registry's build lock, held until the build ends (see `EnvironmentRegistry.lock`).
        self._held = lock
        self.id = plan.id
        self.path = registry.path(plan.id)
        self.log_path = registry.log_path(plan.id)
        self.state = "building"
        self.step = "preparing"
        self.done = 0
        self.total = 0
        self.message = "preparing"
        self.error: dict | None = None
        self.started_at = now_iso()
        self.finished_at: str | None = None
        self._process: subprocess.Popen | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._log: TextIO | None = None
        self._kernel_dir: Path | None = None
        self._thread = threading.Thread(target=self.run, name=f"build-{plan.id}", daemon=True)

    # -- state ------------------------------------------------------------------------------

    def json(self) -> dict:
        plan = self.plan
        return {
            "id": self.id,
            "image_id": plan.image_id,
            "image_name": plan.image_name,
            "owner": plan.owner,
            "kernel_name": plan.kernel_name,
            "display_name": plan.display_name,
            "state": self.state,
            "step": self.step,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "error": self.error,
            "python": {
                "captured": plan.python_captured,
                "used": plan.python_used,
                "matches": plan.python_matches,
            },
            "installer": plan.installer,
            "packages": len(plan.requirements),
            "path": str(self.path),
            "built_by": self.built_by,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    def _set(self, step: str | None = None, message: str | None = None, **counts) -> None:
        changed = False
        with self._lock:
            if step and step != self.step:
                self.step, changed = step, True
                self.done, self.total = 0, 0
            for key, value in counts.items():
                if getattr(self, key) != value:
                    setattr(self, key, value)
                    changed = True
            if message and message != self.message:
                self.message, changed = message, True
        if step:
            self._write(f"== {self.step}: {self.message}")
        if changed:
            self.on_change(self)

    def _write(self, line: str) -> None:
        if self._log is not None:
            self._log.write(line.rstrip("\n") + "\n")
            self._log.flush()

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def cancel(self, wait: float = 60.0) -> None:
        """Stop the build and wait until what it made is removed."""
        self._cancel.set()
        self._kill()
        self.wait(wait)

    def _kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def run(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        self._write(f"building {self.plan.display_name} for {self.built_by} at {self.started_at}")
        self._write(self.plan.python_note())
        if self.plan.conda_note:
            self._write(self.plan.conda_note)
        try:
            self._prepare()
            self._install()
            self._register()
            self.registry.save({**self.json(), "state": "ready", "step": "done"})
            self._finish("ready", "done", f"ready: kernel {self.plan.display_name}")
        except Cancelled:
            self._remove()
            self._finish("cancelled", self.step, "cancelled: what was made is removed")
        except BuildFailed as e:
            self._remove()
            self.error = {"reason": e.reason, "package": e.package, "message": e.message}
            self._finish("failed", self.step, e.message)
        except Exception as e:  # a bug or the OS: still remove what was half made
            self._remove()
            message = f"{type(e).__name__}: {e}"
            self.error = {"reason": "error", "package": None, "message": message}
            self._finish("failed", self.step, message)
        finally:
            self._log.close()
            self._log = None
            if self._held is not None:
                self._held.close()

    def _finish(self, state: str, step: str, message: str) -> None:
        self._write(f"== {state}: {message}")
        self.finished_at = now_iso()
        with self._lock:
            self.state, self.step, self.message = state, step, message
            if state == "ready":
                self.done = self.total
        self.on_change(self)

    def _remove(self) -> None:
        self._kill()
        shutil.rmtree(self.path, ignore_errors=True)
        if self._kernel_dir is not None:
            shutil.rmtree(self._kernel_dir, ignore_errors=True)

    def _run(self, argv: list[str], on_line: Callable[[str], None] = lambda line: None) -> tuple:
        self._check()
        self._write("$ " + " ".join(argv))
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "NO_COLOR": "1",
        }
        env.pop("VIRTUAL_ENV", None)  # uv would install into the server's own venv
        if self.plan.installer == "uv" and "UV_CACHE_DIR" not in env:
            env["UV_CACHE_DIR"] = self._uv_cache()
        lines: list[str] = []
        try:
            self._process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                start_new_session=True,  # a cancel kills the installer and what it started
                env=env,
            )
        except OSError as e:
            raise BuildFailed(f"cannot run {argv[0]}: {e}") from None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            lines.append(line.rstrip("\n"))
            self._write(line)
            on_line(line.strip())
        code = self._process.wait()
        self._check()
        return code, lines

    def _uv_cache(self) -> str:
        """uv's own cache where it can make it; else one beside the environments (uv stops
        where it cannot create its cache, e.g. an account whose home is not its own)."""
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        default = os.path.join(base, "uv")
        try:
            os.makedirs(default, exist_ok=True)
            if os.access(default, os.W_OK):
                return default
        except OSError:
            pass
        return str(self.settings.root / ".uv-cache")

    # -- the steps ---------------------------------------------------------------------------

    @property
    def _host_pip(self) -> bool:
        return self.plan.installer == "pip" and pip_with_python_option(self.settings.python)

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def _prepare(self) -> None:
        self._set("preparing", "checking disk space and making the environment")
        self.settings.root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.settings.root).free // (1024 * 1024)
        if free < self.settings.min_free_mb:
            raise BuildFailed(
                f"not enough disk space: {free} MB free in {self.settings.root}, at least "
                f"{self.settings.min_free_mb} MB needed (ShareApp.environment_min_free_mb)",
                reason="disk",
            )
        if self.plan.installer == "uv":
            argv = ["uv", "venv", "--quiet", "--python", self.settings.python, str(self.path)]
        elif self._host_pip:
            argv = [self.settings.python, "-m", "venv", "--without-pip", str(self.path)]
        else:
            argv = [self.settings.python, "-m", "venv", str(self.path)]
        code, lines = self._run(argv)
        if code != 0:
            raise diagnose(lines, self.plan, self.settings, code)
        (self.path / "jupyter-share-requirements.txt").write_text(
            "\n".join(self.plan.requirements + self.plan.kernel_requirements) + "\n"
        )

    def _install_argv(self) -> list[str]:
        s = self.settings
        requirements = str(self.path / "jupyter-share-requirements.txt")
        if self.plan.installer == "uv":
            argv = ["uv", "pip", "install", "--python", str(self.python)]
            if s.only_binary:
                argv += ["--only-binary", ":all:"]
        else:
            pip = (
                [self.settings.python, "-m", "pip", "--python", str(self.python)]
                if self._host_pip
                else [str(self.python), "-m", "pip"]
            )
            argv = pip + ["install", "--progress-bar", "off"]
            if s.only_binary:
                argv += ["--only-binary=:all:"]
        if s.no_index:
            argv += ["--no-index"]
        elif s.index_url:
            argv += ["--index-url", s.index_url]
        for link in s.find_links:
            argv += ["--find-links", str(link)]
        return argv + ["-r", requirements]

    def _site_packages(self) -> list[Path]:
        return list(self.path.glob("lib/python*/site-packages")) + list(
            self.path.glob("Lib/site-packages")
        )

    def _installed(self) -> int:
        return sum(len(list(p.glob("*.dist-info"))) for p in self._site_packages())

    def _install(self) -> None:
        wanted = len(self.plan.requirements) + len(self.plan.kernel_requirements)
        self._set("resolving", f"resolving {wanted} pinned packages", done=0, total=wanted)
        baseline = self._installed()
        seen: set[str] = set()
        resolved: list[int] = []  # uv's "Resolved N packages": the whole set it will install
        watching = threading.Event()

        def on_line(line: str) -> None:
            if line.startswith("Collecting ") or line.startswith("Processing "):
                if self.step == "resolving":
                    seen.add(line.split()[1])
                    self._set(message=f"resolving {len(seen)} of {wanted}+", done=len(seen))
            elif line.startswith(("Downloading ", "Using cached ", "File was already")) or (
                self.plan.installer == "uv" and line.startswith("Resolved ")
            ):
                if line.startswith("Resolved "):
                    resolved[:] = [int(n) for n in re.findall(r"\d+", line)[:1]]
                if self.step == "resolving":
                    self._set("downloading", "downloading wheels")
                if line.startswith(("Downloading ", "Using cached ")):
                    self._set(message=f"downloading {line.split()[1].rsplit('/', 1)[-1]}")
            elif line.startswith("Installing collected packages:") or (
                self.plan.installer == "uv" and line.startswith("Prepared ")
            ):
                if line.startswith("Installing"):
                    total = len(line.split(":", 1)[1].split(","))
                else:
                    # "Prepared M" counts only what uv's cache lacked; the install is all
                    # it resolved.
                    numbers = re.findall(r"\d+", line)
                    total = resolved[0] if resolved else int(numbers[0]) if numbers else wanted
                self._set("installing", f"installing 0/{total}", done=0, total=total)
                watching.set()
            elif self.plan.installer == "uv" and line.startswith("Installed "):
                # With a warm cache uv prepares nothing and says so only here.
                numbers = re.findall(r"\d+", line)
                if numbers and self.step != "installing":
                    total = int(numbers[0])
                    self._set("installing", f"installing 0/{total}", done=0, total=total)

        def watch() -> None:
            # pip and uv say nothing per package while installing: a package is installed
            # when its .dist-info folder appears.
            while not stop.is_set():
                if watching.is_set() and self.total:
                    done = min(self.total, max(0, self._installed() - baseline))
                    if done != self.done:
                        self._set(message=f"installing {done}/{self.total}", done=done)
                stop.wait(0.2)

        stop = threading.Event()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            code, lines = self._run(self._install_argv(), on_line)
        finally:
            stop.set()
            watcher.join()
        if code != 0:
            raise diagnose(lines, self.plan, self.settings, code)
        if self.step != "installing":  # nothing printed the total (e.g. all already there)
            self._set("installing", "installed", done=wanted, total=wanted)
        else:
            self._set(message=f"installed {self.total}/{self.total}", done=self.total)

    def _register(self) -> None:
        self._set("registering", f"registering the kernel {self.plan.display_name}")
        code, lines = self._run([str(self.python), "-c", "import ipykernel"])
        if code != 0:
            raise BuildFailed(
                "the new environment cannot import ipykernel, which its kernel needs: "
                + (lines[-1] if lines else ""),
                reason="no_kernel",
                package="ipykernel",
            )
        kernel_dir = self.settings.kernels_dir / self.plan.kernel_name
        self._kernel_dir = kernel_dir
        kernel_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [str(self.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": self.plan.display_name,
            "language": "python",
            "metadata": {
                "jupyter_share": {
                    "environment": self.id,
                    "image_id": self.plan.image_id,
                    "owner": self.plan.owner,
                }
            },
        }
        (kernel_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
        self._check()
