"""`configure_jupyterhub(c)`: the share service, its role and the users' access in one call.

In `jupyterhub_config.py`::

    from jupyter_share.hub import configure_jupyterhub

    configure_jupyterhub(c)                                   # SQLite next to the Hub
    configure_jupyterhub(c, db_url="postgresql+psycopg://share@db/share", purge_interval=30)

It adds, never replacing what the file configured before it:

- the managed service `name` (default `share`) that JupyterHub starts, stops and proxies at
  `/services/{name}/`; the store's URL reaches it in the environment variable
  `JUPYTER_SHARE_DB_URL` (never on its command line, where `ps` would show a password);
- the role `{name}-service` with the scopes the service needs (`SERVICE_SCOPES`; why each one
  is needed: `SCOPE_REASONS`);
- `access:services!service={name}` for every user (the `user` role) and for the token of every
  user server (`Spawner.server_token_scopes`), so that a server calls the service with its own
  token, as its owner and nobody else;
- `JUPYTER_SHARE_SERVICE_URL` and `JUPYTER_SHARE_SERVICE_NAME` in the user servers'
  environment and in the Hub's own (where the spawner hooks run).

See docs/jupyterhub.md.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from traitlets import TraitError
from traitlets.config import LazyConfigValue

#: What the share service may do on the Hub's REST API.
SERVICE_SCOPES = [
    "shares",
    "list:users",
    "read:users:groups",
    "read:servers",
    "list:groups",
    "read:groups",
    "servers",
]

#: Why the service holds each scope of `SERVICE_SCOPES`.
SCOPE_REASONS = {
    "shares": "share and unshare a user's server (a session) through the Hub's sharing API "
    "(/hub/api/shares), which then lets the guest in; it implies access:servers, so the "
    "service itself could reach every server",
    "list:users": "(implies read:users:name) list the Hub's users for the user picker (GET /directory) and to refuse "
    "grants to unknown users with a 'did you mean' hint",
    "read:users:groups": "read a user's groups: group grants count for their members, and "
    "GET /me answers the caller's groups",
    "read:servers": "read each user's (named) servers, their URLs and readiness, to list "
    "them as sessions and check that a shared session still exists",
    "list:groups": "(implies read:groups:name) list the Hub's groups for the user picker and to validate group:NAME "
    "principals",
    "read:groups": "read a group's members: a group grant on a server becomes a Hub share for "
    "each member too (JupyterHub 6.1 lets tokens in through a user's own shares only)",
    "servers": "stop and start a user's server when its owner revokes a guest with rekey=true: the Hub "
    "ends the server's API token (which an edit guest can read) when it stops and makes a new one when it "
    "starts. The least that restarts a server: admin:servers would add the servers' state; it is used for "
    "nothing else, and only for the caller's own server",
}

#: The scopes of the Hub's default `server` role: what a user server's token gets when
#: `Spawner.server_token_scopes` is not configured.
DEFAULT_SERVER_TOKEN_SCOPES = ["users:activity!user", "access:servers!server"]

#: Environment variables the user servers and the Hub's spawner hooks read.
SERVICE_URL_ENV = "JUPYTER_SHARE_SERVICE_URL"
SERVICE_NAME_ENV = "JUPYTER_SHARE_SERVICE_NAME"
#: Environment variable the service reads its store's URL from.
DB_URL_ENV = "JUPYTER_SHARE_DB_URL"


def _current_list(value: Any) -> list:
    """The items a list option has now: a plain list's, or those a LazyConfigValue (what
    `.append` on an unset option makes) adds to the default, the same objects, not copies.

    Not `LazyConfigValue.get_value`: it caches its result, and what is appended afterwards
    would never reach the Hub."""
    if isinstance(value, LazyConfigValue):
        items: list = []
        for index, item in value._inserts:
            items.insert(index, item)
        items[:0] = value._prepend
        items.extend(value._extend)
        return items
    if value is None:
        return []
    return list(value)


def _current_set(value: Any) -> set:
    """The items of a set option (see `_current_list`)."""
    if isinstance(value, LazyConfigValue):
        return set(value._update or ())
    return set(value or ())


def _service_option_args(options: dict) -> list[str]:
    """`--ShareServiceApp.key=value` for each option, after checking that each is a config
    trait of the service."""
    from ..service import (
        ShareServiceApp,
    )  # lazily: the Hub's config should not pay for it unless used

    traits = ShareServiceApp.class_traits(config=True)
    unknown = sorted(set(options) - set(traits))
    if unknown:
        valid = ", ".join(sorted(n for n in traits if n not in ("db_url", "url", "prefix")))
        raise TypeError(
            f"configure_jupyterhub() got unknown option(s) {', '.join(unknown)}: "
            f"options are config traits of ShareServiceApp: db_url, listen_url (its url), {valid}"
        )
    args = []
    for key, value in options.items():
        try:
            # Every option here is a Unicode, Integer or Float trait: each has `validate`.
            value = traits[key].validate(None, value)  # type: ignore[attr-defined]
        except TraitError as e:
            raise ValueError(f"configure_jupyterhub(): bad value for {key}: {e}") from None
        except Exception:  # a trait that needs its object to validate: the service will
            pass
        args.append(f"--ShareServiceApp.{key}={value if isinstance(value, str) else repr(value)}")
    return args


def _spawner_sections(c, key: str) -> list:
    """The config sections whose `key` applies to the user servers: `Spawner`, plus every
    `...Spawner` section (KubeSpawner, DockerSpawner, ...) that sets `key` itself, because a
    subclass's section replaces `Spawner`'s value instead of merging with it (Zero to
    JupyterHub sets `c.KubeSpawner.environment`, for one)."""
    sections = [c.Spawner]
    for section_name in list(c.keys()):
        if (
            section_name != "Spawner"
            and section_name.endswith("Spawner")
            and key in c[section_name]
        ):
            sections.append(c[section_name])
    return sections


def _with_service_scope(scopes: list, service_scope: str, default: list) -> list:
    merged = list(scopes) if scopes else list(default)
    if service_scope not in merged:
        merged.append(service_scope)
    return merged


def _wrap_scopes_callable(func: Callable, service_scope: str, default: list) -> Callable:
    """`server_token_scopes` as a callable: its result, plus the service scope. An empty
    result means the `server` role's scopes to the Hub: they are kept."""

    async def server_token_scopes(spawner):
        scopes = func(spawner)
        if inspect.isawaitable(scopes):
            scopes = await scopes
        return _with_service_scope(list(scopes or []), service_scope, default)

    server_token_scopes.__wrapped__ = func  # type: ignore[attr-defined]
    server_token_scopes.__qualname__ = (
        f"with_{service_scope}({getattr(func, '__qualname__', func)!s})"
    )
    return server_token_scopes


def configure_jupyterhub(
    c,
    name: str = "share",
    db_url: str | None = None,
    url: str = "http://127.0.0.1:10101",
    server_url: str | None = None,
    listen_url: str | None = None,
    **options: Any,
) -> dict:
    """Add the share service to a JupyterHub configuration (`c` of `jupyterhub_config.py`).

    name: the service's name: it is served at `/services/{name}/`.
    db_url: SQLAlchemy URL of the store (default: the service's, a SQLite file in the Hub's
        working directory); PostgreSQL when the Hub runs replicas or for many users. Passed
        in the service's environment (`JUPYTER_SHARE_DB_URL`), not on its command line.
    url: where the service listens, as the proxy and the Hub reach it.
    server_url: where user servers reach the service when that differs from `url`.
    listen_url: where the service binds when that differs from `url` (the service's
        `ShareServiceApp.url`), e.g. `http://0.0.0.0:10101` on Kubernetes, where `url` is
        `http://hub:10101`, the Hub pod's Kubernetes Service, which the process cannot bind.
    options: other config traits of `ShareServiceApp` (purge_interval, hub_timeout, ...).

    Returns the service's entry in `c.JupyterHub.services`.
    Raises ValueError if a service with that name is already configured, TypeError for an
    option the service does not have.
    """
    if not name or not isinstance(name, str) or "/" in name:
        raise ValueError(f"configure_jupyterhub(): bad service name {name!r}")
    url = url.rstrip("/")
    if "url" in options or "prefix" in options:
        raise TypeError(
            "configure_jupyterhub(): the service's url and prefix come from the Hub; use listen_url="
        )
    if listen_url:
        options = {"url": listen_url.rstrip("/"), **options}
    args = _service_option_args(options)

    services = c.JupyterHub.services
    if any(isinstance(s, dict) and s.get("name") == name for s in _current_list(services)):
        raise ValueError(
            f"configure_jupyterhub(): a service named {name!r} is already in c.JupyterHub.services; "
            f"call configure_jupyterhub once, or pass another name=..."
        )
    environment = {}
    if db_url:
        environment[DB_URL_ENV] = db_url
    spec = {
        "name": name,
        "url": url,
        "command": [sys.executable, "-m", "jupyter_share.hub.service", *args],
        "display": False,
        "oauth_no_confirm": True,
        "environment": environment,
    }

    # The service's role.
    role_name = f"{name}-service" if name != "share" else "jupyter-share-service"
    load_roles = c.JupyterHub.load_roles
    roles = _current_list(load_roles)
    if any(isinstance(r, dict) and r.get("name") == role_name for r in roles):
        raise ValueError(
            f"configure_jupyterhub(): a role named {role_name!r} is already in c.JupyterHub.load_roles"
        )

    services.append(spec)
    load_roles.append(
        {
            "name": role_name,
            "description": f"The jupyter_share service {name!r}: reads users and groups, shares servers",
            "scopes": list(SERVICE_SCOPES),
            "services": [name],
        }
    )

    # Every user may use the service (the `user` role, as overridden in load_roles, if it is).
    access_scope = f"access:services!service={name}"
    user_role = next((r for r in roles if isinstance(r, dict) and r.get("name") == "user"), None)
    if user_role is None:
        scopes = ["self", access_scope]
        # A `user` role in load_roles makes the Hub ignore extra_user_scopes (JupyterHub >= 6):
        # carry them over rather than drop them.
        if "extra_user_scopes" in c.JupyterHub:
            extra = _current_set(c.JupyterHub.extra_user_scopes)
            scopes += [s for s in sorted(extra) if s not in scopes]
        load_roles.append({"name": "user", "scopes": scopes})
    else:
        given = user_role.get("scopes")
        if given is None:  # the Hub merges a partial role with its default: `self`
            user_role["scopes"] = ["self", access_scope]
        elif access_scope not in given:
            user_role["scopes"] = list(given) + [access_scope]

    # Every user server's token may call the service (as the server's owner).
    server_role = next(
        (r for r in roles if isinstance(r, dict) and r.get("name") == "server"), None
    )
    default_scopes = (
        list(server_role["scopes"])
        if server_role and server_role.get("scopes")
        else DEFAULT_SERVER_TOKEN_SCOPES
    )
    for section in _spawner_sections(c, "server_token_scopes"):
        current = section.server_token_scopes if "server_token_scopes" in section else None
        if callable(current) and not isinstance(current, LazyConfigValue):
            section.server_token_scopes = _wrap_scopes_callable(
                current, access_scope, default_scopes
            )
        else:
            section.server_token_scopes = _with_service_scope(
                _current_list(current), access_scope, default_scopes
            )

    # Where user servers find the service, and its name.
    variables = {SERVICE_URL_ENV: _api_url(server_url or url, name), SERVICE_NAME_ENV: name}
    for section in _spawner_sections(c, "environment"):
        env = section.environment
        if isinstance(env, LazyConfigValue):
            env.update(variables)
        else:
            merged = dict(env or {})
            merged.update(variables)
            section.environment = merged
    # The spawner hooks run in the Hub's process, which reaches the service at `url`.
    os.environ.update({SERVICE_URL_ENV: _api_url(url, name), SERVICE_NAME_ENV: name})
    return spec


def _api_url(base: str, name: str) -> str:
    """REST API v1 of the service `name` listening at `base` (which serves it under the
    Hub's service prefix, `/services/{name}/`)."""
    return f"{base.rstrip('/')}/services/{name}/api/v1/"
