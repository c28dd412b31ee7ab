"""The directory port: who exists, and who is in which group.

Standalone, before anyone configured anything, a user may share with the people a shared
workstation has (docs/decisions.md, "Who a standalone user can share with"):
- the machine's login accounts: the password database's human accounts (uid from UID_MIN to
  UID_MAX of /etc/login.defs, 1000 to 60000 by default, with a login shell);
- everyone who has used the store (every server and `jupyter share` registers its user), so
  every owner in it;
- a neighbour invited by name with a personal link to the container: they exist from the
  moment the link is made (`invited`);
plus the configured `ShareApp.users` and group members; the groups are `ShareApp.groups`.
The hub implementation asks the Hub.
"""

from __future__ import annotations

import abc
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from .model import NAME_PATTERN, utcnow
from .store import ShareStore

#: How many names the "did you mean" hint compares against.
HINT_CANDIDATES = 5000
#: Seconds a listing of the machine's login accounts is reused.
LOGIN_ACCOUNTS_TTL = 60.0
LOGIN_DEFS = "/etc/login.defs"
#: Shells that mean "no login" (system and locked accounts).
NO_LOGIN_SHELLS = {"nologin", "false", "true", "sync", "shutdown", "halt"}


def uid_range(login_defs: str = LOGIN_DEFS) -> tuple[int, int]:
    """UID_MIN and UID_MAX of login.defs (the range `useradd` gives human accounts)."""
    found = {"UID_MIN": 1000, "UID_MAX": 60000}
    try:
        with open(login_defs, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] in found:
                    try:
                        found[parts[0]] = int(parts[1], 0)
                    except ValueError:
                        pass
    except OSError:
        pass
    return found["UID_MIN"], found["UID_MAX"]


def is_login_account(entry, uids: tuple[int, int]) -> bool:
    """A human account someone can log in with, whose name the service accepts."""
    shell = os.path.basename(entry.pw_shell or "/bin/sh")
    return (
        uids[0] <= entry.pw_uid <= uids[1]
        and shell not in NO_LOGIN_SHELLS
        and bool(NAME_PATTERN.match(entry.pw_name))
    )


class LoginAccounts:
    """The machine's login accounts from the password database (pwd: /etc/passwd, and LDAP or
    SSSD where NSS lists them), listed at most every `ttl` seconds; one name is looked up
    directly (so a directory that does not enumerate its users still answers)."""

    def __init__(self, ttl: float = LOGIN_ACCOUNTS_TTL, login_defs: str = LOGIN_DEFS):
        self.ttl = ttl
        self.login_defs = login_defs
        self._lock = threading.Lock()
        self._names: list[str] | None = None
        self._listed_at = 0.0

    def _pwd(self):
        try:
            import pwd
        except ImportError:  # not a POSIX machine: no accounts to offer
            return None
        return pwd

    def names(self) -> list[str]:
        with self._lock:
            if self._names is None or time.monotonic() - self._listed_at > self.ttl:
                pwd = self._pwd()
                uids = uid_range(self.login_defs)
                entries = pwd.getpwall() if pwd else []
                self._names = sorted({e.pw_name for e in entries if is_login_account(e, uids)})
                self._listed_at = time.monotonic()
            return self._names

    def exists(self, name: str) -> bool:
        pwd = self._pwd()
        if pwd is None or not NAME_PATTERN.match(name):
            return False
        try:
            return is_login_account(pwd.getpwnam(name), uid_range(self.login_defs))
        except KeyError:
            return False


class Directory(abc.ABC):
    @abc.abstractmethod
    def user_exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def group_exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def groups_of(self, user: str) -> list[str]: ...

    @abc.abstractmethod
    def search(self, prefix: str, limit: int = 20) -> tuple[list[str], list[str]]:
        """User names and group names that start with `prefix`, sorted."""

    @abc.abstractmethod
    def user_names(self) -> list[str]:
        """Names to suggest from when a name is not found (may be a sample)."""

    @abc.abstractmethod
    def group_names(self) -> list[str]: ...

    #: Whether sharing a container with an unknown name invites that neighbour (a personal
    #: link makes them known); the Hub's users are the Hub's, so not there.
    takes_invitations = False

    def invited(self, name: str, now: datetime | None = None) -> None:  # noqa: B027 (optional hook)
        """`name` was given a personal link: from now on they exist."""

    def unknown_user_advice(self, name: str) -> str:
        """What to do next when `name` is not known (the refusal says it)."""
        return ""


class StandaloneDirectory(Directory):
    """Users: configured, the machine's login accounts (`login_accounts`; None: none), and
    whoever has used the store, invited neighbours included; groups: configured."""

    takes_invitations = True

    def __init__(
        self,
        store: ShareStore,
        users: Sequence[str] = (),
        groups: Mapping[str, Sequence[str]] | None = None,
        login_accounts: LoginAccounts | None = None,
        use_login_accounts: bool = True,
    ):
        self.store = store
        self.groups = {name: sorted(set(members)) for name, members in dict(groups or {}).items()}
        self.configured_users = set(users) | {
            m for members in self.groups.values() for m in members
        }
        self.login_accounts = (login_accounts or LoginAccounts()) if use_login_accounts else None

    def _logins(self) -> Iterable[str]:
        return self.login_accounts.names() if self.login_accounts is not None else ()

    def user_exists(self, name: str) -> bool:
        return (
            name in self.configured_users
            or self.store.user_is_known(name)
            or (self.login_accounts is not None and self.login_accounts.exists(name))
        )

    def group_exists(self, name: str) -> bool:
        return name in self.groups

    def groups_of(self, user: str) -> list[str]:
        return sorted(g for g, members in self.groups.items() if user in members)

    def search(self, prefix: str, limit: int = 20) -> tuple[list[str], list[str]]:
        users = set(self.store.known_users(prefix, limit))
        users |= {u for u in self.configured_users if u.startswith(prefix)}
        users |= {u for u in self._logins() if u.startswith(prefix)}
        groups = [g for g in sorted(self.groups) if g.startswith(prefix)]
        return sorted(users)[:limit], groups[:limit]

    def user_names(self) -> list[str]:
        return sorted(
            set(self.store.known_users("", HINT_CANDIDATES))
            | self.configured_users
            | set(self._logins())
        )

    def group_names(self) -> list[str]:
        return sorted(self.groups)

    def invited(self, name: str, now: datetime | None = None) -> None:
        if not self.store.user_is_known(name):
            self.store.touch_user(name, now or utcnow())

    def unknown_user_advice(self, name: str) -> str:
        return (
            f"{name} is not a login account of this machine and has not used this store. "
            f"Share your container with {name} to invite them by a personal link, "
            f"or set c.ShareApp.users (--ShareApp.users={name})"
        )


class WithoutLoginAccounts(StandaloneDirectory):
    """The standalone directory without the machine's login accounts (for a machine whose
    accounts should not be offered): `c.ShareApp.directory_class =
    "jupyter_share.directory.WithoutLoginAccounts"`."""

    def __init__(
        self,
        store: ShareStore,
        users: Sequence[str] = (),
        groups: Mapping[str, Sequence[str]] | None = None,
    ):
        super().__init__(store, users, groups, use_login_accounts=False)
