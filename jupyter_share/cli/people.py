"""`jupyter share whoami|guests`: who you act as, and who is in your running container."""

from __future__ import annotations

from traitlets import Unicode

from .options import option
from .output import table
from .store import StoreCommand


class WhoamiCommand(StoreCommand):
    command = "whoami"
    name = "jupyter-share-whoami"
    description = "show who you act as, your groups, the store and the config files read"

    def run_command(self) -> None:
        from ..serialize import me_json

        found = self.service.me(self.username)
        me = me_json(
            found["username"], found["groups"], self.app.display_name, self.app.resolved_mode
        )
        if self.json:
            return self.dump(me)
        store = self.service.store
        url = (
            store.url.render_as_string(hide_password=True)
            if hasattr(store, "url")
            else type(store).__name__
        )
        self.out(f"user:         {me['username']}")
        self.out(f"groups:       {', '.join(me['groups']) or '-'}")
        self.out(f"store:        {url}")
        self.out(f"config files: {', '.join(self.loaded_config_files) or '-'}")


def _short(value: str) -> str:
    return value.replace("T", " ")[:19] + "Z" if value else ""


class GuestsCommand(StoreCommand):
    """Unlike the other commands, which read the store, this one asks a running server:
    presence lives in the memory of the container's own server (`GuestActivity`), not in the
    store. The server is the one `--url` names (its token from `--token`, else from its
    runtime file, as `jupyter server list` shows them), or the only server running for this
    user on this machine."""

    command = "guests"
    summary = "show who is in your running container now (asks its server)"
    name = "jupyter-share-guests"
    description = (
        "Show who is in your running container now: each guest, their permission, when "
        "they signed in, their last activity and address, and what they have open. "
        "Presence lives in the server's memory: this asks the running server."
    )
    reads_only = False

    url = option(
        Unicode(
            None,
            allow_none=True,
            help="the server to ask (default: the only one running here, from `jupyter server list`)",
        )
    )
    token = option(
        Unicode(None, allow_none=True, help="its token (default: from its runtime file)")
    )

    def run_command(self) -> None:
        from ..client.guests import guests_now

        answer = guests_now(self.url, self.token)
        if self.json:
            return self.dump(answer)
        if not answer["items"]:
            return self.out("nobody is in your container")
        self.out(
            table(
                [
                    "GUEST",
                    "PERMISSION",
                    "IN NOW",
                    "SIGNED IN",
                    "LAST ACTIVE",
                    "FROM",
                    "KERNELS",
                    "TERMINALS",
                    "DOCUMENTS",
                ],
                [
                    [
                        g["username"],
                        g["permission"],
                        "yes" if g["in_now"] else "no",
                        _short(g["signed_in_at"]),
                        _short(g["last_active_at"]),
                        g["address"],
                        len(g["kernels"]),
                        len(g["terminals"]),
                        ", ".join(g["documents"]),
                    ]
                    for g in answer["items"]
                ],
            )
        )
