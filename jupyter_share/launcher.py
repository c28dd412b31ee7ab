"""Launch a formation on this machine (standalone): a new Jupyter server of the same user, run
as a subprocess of the server that launched it (issue 16; docs/decisions.md, "Launching a
formation on one machine").

The new server:
- runs this server's Python (it carries jupyter_share), with the formation's image's
  environment as its default kernel and first on its PATH, built here by `environments` when
  the image has captured packages (never twice: a built environment is reused);
- gets the formation's environment variables that `FormationEnvironment` allows, the same rule
  as the Hub's launches; the others are reported, never silently dropped;
- opens the formation's start URL; has its own port, token and folder; uses the same store, so
  it registers itself as the user's own container (`ShareApp.register_container`), shareable
  like any other;
- is stopped from the server that launched it (`stop`), and with it.

What a local process cannot honour (CPU, memory, GPU, storage, a container image reference)
is returned as `not_applied`, with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .formation_env import REFUSED_ENV, FormationEnvironment
from .model import Conflict, InvalidInput, Kind, Resource, ShareError
from .service import ShareService

log = logging.getLogger(__name__)

LAUNCHED_FROM_ENV = "JUPYTER_SHARE_LAUNCHED_FROM"
#: Seconds a launched server may take to answer.
START_TIMEOUT = 120.0
#: Seconds a launched server may take to stop cleanly before it is killed.
STOP_TIMEOUT = 15.0
# Variables of this server's process that the launched one must not inherit: its credentials
# and the Hub's connection (a standalone server has none, but a stray one must not leak).
_NOT_INHERITED = ("JUPYTER_TOKEN", "JUPYTERHUB_", "JPY_", "JUPYTER_SHARE_")


class LaunchFailed(ShareError):
    """The launched server did not start (its log says why)."""

    status = 502
    reason = "Bad Gateway"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def not_applied(formation: Resource, image: Resource | None, root: Path) -> list[dict]:
    """The formation's fields a local process cannot honour, each with why."""
    spec = formation.spec
    found = []
    if spec.get("cpu") is not None:
        found.append(
            {
                "field": "cpu",
                "value": spec["cpu"],
                "reason": "a local server shares this machine's CPUs: no limit is set",
            }
        )
    if spec.get("memory"):
        found.append(
            {
                "field": "memory",
                "value": spec["memory"],
                "reason": "a local server shares this machine's memory: no limit is set",
            }
        )
    if spec.get("gpu"):
        found.append(
            {
                "field": "gpu",
                "value": spec["gpu"],
                "reason": "GPUs are not assigned to a local server (it sees what this machine has)",
            }
        )
    if spec.get("storage"):
        found.append(
            {
                "field": "storage",
                "value": spec["storage"],
                "reason": f"storage is not mounted for a local server; its folder is {root}",
            }
        )
    captured = image is not None and (image.spec.get("environment") or {}).get("packages")
    reference = (
        (image.spec.get("reference") if image is not None else spec.get("image")) or ""
        if not captured
        else ""
    )
    if reference:
        found.append(
            {
                "field": "image",
                "value": reference,
                "reason": "a local server cannot run a container image: it runs this server's "
                "Python and packages",
            }
        )
    return found


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:40] or "formation"


@dataclass
class Launched:
    """A server this one started."""

    session_id: str
    name: str
    process: subprocess.Popen
    port: int
    token: str
    root: Path
    log_path: Path
    formation_id: str


class Launcher:
    """The servers one standalone server launched, by container id."""

    def __init__(
        self,
        service: ShareService,
        username: str,
        share_config: dict,
        launch_dir: Path,
        allowed: FormationEnvironment,
        environments: Any,
        kernels_dir: Path,
        hostname: str | None = None,
        extra_args: Callable[[], list[str]] = list,
    ):
        self.service = service
        self.username = username
        #: The ShareApp config the launched server gets (the same store, users, groups...).
        self.share_config = share_config
        self.launch_dir = Path(launch_dir)
        self.allowed = allowed
        self.environments = environments
        self.kernels_dir = Path(kernels_dir)
        self.hostname = hostname or socket.gethostname()
        self.extra_args = extra_args
        self._launched: dict[str, Launched] = {}
        self._lock = threading.Lock()

    # -- launching ------------------------------------------------------------------------

    def launch(
        self, user: str, formation: Resource, image: Resource | None, name: Any = None
    ) -> tuple[dict, int]:
        """(the answer, 201 when the server runs, 202 when its environment is being built
        first: it starts when the build ends, and appears under Containers then)."""
        if user != self.username:  # the surface lets only the owner here; a second lock
            raise InvalidInput("a server launches formations for its own user only")
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        if name is None:
            name = f"{formation.name} · {stamp}"
            if len(name) > 128:
                name = name[-128:]
        if self.service.store.find_resource(user, Kind.SESSION, name) is not None:
            raise Conflict(f"you have a container named {name!r} already", field="name")
        folder = self.launch_dir / f"{_slug(formation.name)}-{secrets.token_hex(4)}"
        env, refused = self.allowed.split(formation.spec.get("env"))
        answer: dict[str, Any] = {
            "state": "starting",
            "name": name,
            "formation": {"id": formation.id, "name": formation.name, "owner": formation.owner},
            "root_dir": str(folder),
            "start_url": formation.spec.get("start_url") or "",
            "env": sorted(env),
            "refused_env": refused,
            "not_applied": not_applied(formation, image, folder)
            + [
                {
                    "field": f"env.{key}",
                    "value": None,
                    "reason": "not on the allow-list of a formation's variables "
                    "(c.FormationEnvironment.allowed)",
                }
                for key in refused
            ],
            "environment": None,
            "container": None,
            "url": None,
        }
        environment = None
        if image is not None and (image.spec.get("environment") or {}).get("packages"):
            environment, _ = self.environments.use(image, user)
            answer["environment"] = environment
            if environment.get("state") != "ready":
                build = self.environments.build(environment["id"])
                answer["state"] = "building"
                threading.Thread(
                    target=self._after_build,
                    args=(build, environment["id"], formation, name, folder, env, refused),
                    name=f"launch-{formation.id}",
                    daemon=True,
                ).start()
                return answer, 202
        launched = self._start(formation, name, folder, env, refused, environment)
        answer.update(self._running(user, launched))
        return answer, 201

    def _after_build(self, build, env_id, formation, name, folder, env, refused) -> None:
        if build is not None:
            build.wait()
        environment = self.environments.registry.get(env_id)
        if environment is None or environment.get("state") != "ready":
            log.warning(
                "jupyter_share: %s was not launched: its environment %s did not build",
                formation.name,
                env_id,
            )
            return
        try:
            self._start(formation, name, folder, env, refused, environment)
        except ShareError as e:
            log.warning("jupyter_share: launching %s failed: %s", formation.name, e.message)

    def _running(self, user: str, launched: Launched) -> dict:
        from .serialize import resource_json

        view = self.service.view(user, Kind.SESSION, launched.session_id)
        return {
            "state": "running",
            "container": resource_json(view),
            # For the owner only (this answer goes to them): their new server's own login.
            "url": f"http://127.0.0.1:{launched.port}/?token={launched.token}",
        }

    def _start(
        self,
        formation: Resource,
        name: str,
        folder: Path,
        env: dict,
        refused: list,
        environment: dict | None,
    ) -> Launched:
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        token = secrets.token_urlsafe(32)
        config_path = folder / ".jupyter_share_launch.json"
        config = {
            "ShareApp": {
                **self.share_config,
                "session_name": name,
                "register_container": True,
            },
            "FormationEnvironment": {"allowed": list(self.allowed.allowed)},
        }
        fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        child_env = {
            k: v for k, v in os.environ.items() if not k.upper().startswith(_NOT_INHERITED)
        }
        child_env.update(env)
        child_env[LAUNCHED_FROM_ENV] = f"formation:{formation.id}"
        if refused:
            child_env[REFUSED_ENV] = ",".join(refused)
        args = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={folder}",
            "--ServerApp.jpserver_extensions={'jupyter_share': True}",
            f"--config={config_path}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        start_url = formation.spec.get("start_url")
        if start_url:
            args.append(f"--ServerApp.default_url={start_url}")
        if environment is not None:
            env_bin = Path(environment["path"]) / "bin"
            child_env["PATH"] = f"{env_bin}{os.pathsep}{child_env.get('PATH', '')}"
            child_env["VIRTUAL_ENV"] = environment["path"]
            if self.kernels_dir.name == "kernels":  # where its kernelspec is registered
                child_env["JUPYTER_PATH"] = os.pathsep.join(
                    p for p in (str(self.kernels_dir.parent), child_env.get("JUPYTER_PATH")) if p
                )
            args.append(f"--MappingKernelManager.default_kernel_name={environment['kernel_name']}")
        args += self.extra_args()
        log_path = folder / ".jupyter_share_launch.log"
        with open(log_path, "w") as out:
            process = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env,
                cwd=folder,
                start_new_session=True,  # stopped as a group, with its kernels and terminals
            )
        try:
            self._wait_ready(process, port, token, log_path)
            # It registers its container as its loop starts: at once, or nearly.
            deadline = time.monotonic() + 10
            while (
                found := self.service.store.find_resource(self.username, Kind.SESSION, name)
            ) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if found is None:
                raise LaunchFailed(
                    f"the launched server did not register its container (log: {log_path})"
                )
        except BaseException:
            self._terminate(process)
            raise
        launched = Launched(found.id, name, process, port, token, folder, log_path, formation.id)
        with self._lock:
            self._launched[found.id] = launched
        log.info(
            "jupyter_share: launched %r from formation %r of %s on port %d",
            name,
            formation.name,
            formation.owner,
            port,
        )
        return launched

    @staticmethod
    def _wait_ready(process: subprocess.Popen, port: int, token: str, log_path: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/jupyter-share/api/v1/me",
            headers={"Authorization": f"token {token}"},
        )
        while time.monotonic() < deadline:
            if process.poll() is not None:
                # Its log prints its URL with the token: never in a message or our log.
                tail = log_path.read_text(errors="replace")[-1500:].replace(token, "…")
                raise LaunchFailed(f"the launched server exited ({process.returncode}): {tail}")
            try:
                with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310 - our child
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise LaunchFailed(f"the launched server did not answer in {START_TIMEOUT:.0f}s")

    # -- stopping -------------------------------------------------------------------------

    def launched(self, session_id: str) -> Launched | None:
        return self._launched.get(session_id)

    def stop(self, user: str, container: Resource) -> None:
        """Stop a server this one launched; its container shows as stopped."""
        with self._lock:
            launched = self._launched.get(container.id)
        if launched is None:
            if container.spec.get("state") == "stopped":
                raise Conflict(f"container {container.name!r} is stopped already")
            raise Conflict(
                f"container {container.name!r} was not launched by this server: stop it where "
                "it runs (`jupyter server stop`)"
            )
        self._terminate(launched.process)
        with self._lock:
            self._launched.pop(container.id, None)
        self._record_stop(container.id)

    def _record_stop(self, session_id: str) -> None:
        # A clean stop records itself; a server that had to be killed did not.
        found = self.service.store.get_resource(session_id)
        if found is not None:
            self.service.container_stopped(found.id, str(found.spec.get("started_at")))

    @staticmethod
    def _terminate(process: subprocess.Popen) -> None:
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                process.kill()
            process.wait()

    def shutdown(self) -> None:
        """This server stops: the servers it launched stop with it."""
        with self._lock:
            launched = list(self._launched.values())
            self._launched.clear()
        for item in launched:
            self._terminate(item.process)
            try:
                self._record_stop(item.session_id)
            except Exception:
                log.exception("jupyter_share: recording that %s stopped failed", item.name)
