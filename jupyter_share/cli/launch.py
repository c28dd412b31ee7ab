"""`jupyter share launch formations/ID` and `jupyter share stop sessions/ID`.

Like `guests`, these ask a running server, not the store: a launched server is a subprocess of
the user's own server (`jupyter_share.launcher`), which is what stops it. The server is the one
`--url` names (its token from `--token`, else from its runtime file), or the only server of
this machine that was not itself launched from a formation.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from traitlets import Unicode

from ..model import InvalidInput, Kind, ShareError
from .options import Positional, option, ref
from .store import StoreCommand


def formation_ref(text: str) -> tuple[Kind, str]:
    if "/" not in text:
        return Kind.FORMATION, text
    kind, rid = ref(text)
    if kind != Kind.FORMATION:
        raise argparse.ArgumentTypeError(f"only formations are launched, not {kind.plural}")
    return kind, rid


def session_ref(text: str) -> tuple[Kind, str]:
    if "/" not in text:
        return Kind.SESSION, text
    kind, rid = ref(text)
    if kind != Kind.SESSION:
        raise argparse.ArgumentTypeError(
            f"only containers (sessions) are stopped, not {kind.plural}"
        )
    return kind, rid


class _ServerCommand(StoreCommand):
    reads_only = False

    url = option(
        Unicode(
            None,
            allow_none=True,
            help="the server that launches (default: the only one running here that was not "
            "itself launched, from `jupyter server list`)",
        )
    )
    token = option(
        Unicode(None, allow_none=True, help="its token (default: from its runtime file)")
    )

    def _server(self) -> tuple[str, str | None]:
        from ..client.discovery import _running_servers, _server_url

        if self.url:
            return self.url, self.token
        launched = os.path.realpath(os.path.expanduser(self.app.launch_dir)) + os.sep
        servers = [
            s
            for s in _running_servers()
            if not (os.path.realpath(str(s.get("root_dir") or "")) + os.sep).startswith(launched)
        ]
        if len(servers) == 1:
            return _server_url(servers[0]), self.token or servers[0].get("token") or None
        found = ", ".join(_server_url(s) for s in servers) or "none"
        raise InvalidInput(
            f"a formation is launched by your running server: name it with --url (running here: {found})",
            field="url",
        )

    def _call(self, method: str, *args: Any) -> dict:
        from ..client import ShareClient

        url, token = self._server()
        # A launch waits for the new server to answer.
        with ShareClient(url=url, token=token, timeout=180) as api:
            try:
                answer: dict = getattr(api, method)(*args)
                return answer
            except ShareError as e:
                if e.status is None:  # no answer came
                    raise ShareError(f"the server at {url}: {e.message}") from None
                raise


class LaunchCommand(_ServerCommand):
    command = "launch"
    summary = "launch a formation as a new Jupyter server of yours on this machine"
    name = "jupyter-share-launch"
    description = (
        "Ask your running server to launch a formation you can see (yours, or shared with "
        "you) as a new Jupyter server of yours: its image's environment (built here first when "
        "the image has captured packages), the environment variables the allow-list permits, "
        "its start URL. It is listed as your own container, can be shared, and is stopped with "
        "`jupyter share stop`. CPU, memory, GPU and storage are printed as not applied."
    )
    arguments = (Positional("ref", "formations/ID", formation_ref, "formations/ID (or its name)"),)
    container_name = option(
        Unicode(None, allow_none=True, help="the new container's name"), name="name"
    )

    def run_command(self) -> None:
        view = self.resolve(self.ref)
        answer = self._call("launch", f"formations/{view.resource.id}", self.container_name)
        if self.json:
            return self.dump(answer)
        for item in answer["not_applied"]:
            shown = f" {item['value']}" if item.get("value") not in (None, "") else ""
            self.out(f"not applied: {item['field']}{shown}: {item['reason']}")
        if answer["state"] == "building":
            env = answer["environment"] or {}
            self.out(
                f"building the environment {env.get('display_name', '')!r} first; the container "
                f"{answer['name']!r} starts when it is ready (`jupyter share list --kind sessions`)"
            )
            return None
        container = answer["container"]
        self.out(
            f"launched {container['name']!r} (sessions/{container['id']}) in {answer['root_dir']}"
        )
        self.out(f"open: {answer['url']}")
        return None


class StopCommand(_ServerCommand):
    command = "stop"
    summary = "stop a container that your running server launched"
    name = "jupyter-share-stop"
    description = "Stop a container that your running server launched from a formation."
    arguments = (Positional("ref", "sessions/ID", session_ref, "sessions/ID (or its name)"),)

    def run_command(self) -> None:
        view = self.resolve(self.ref)
        answer = self._call("stop", f"sessions/{view.resource.id}")
        if self.json:
            return self.dump(answer)
        self.out(f"stopped {answer['name']!r} (sessions/{answer['id']})")
        return None
