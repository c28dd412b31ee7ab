"""`configure_jupyterhub(c)`: what it adds to a JupyterHub configuration, that it keeps what
was there, and that a real JupyterHub accepts the result."""

from __future__ import annotations

import asyncio
import sys
import textwrap

import pytest
from traitlets.config import Config, LazyConfigValue

from jupyter_share.hub import configure_jupyterhub
from jupyter_share.hub.config import (
    DB_URL_ENV,
    DEFAULT_SERVER_TOKEN_SCOPES,
    SCOPE_REASONS,
    SERVICE_NAME_ENV,
    SERVICE_SCOPES,
    SERVICE_URL_ENV,
)

ACCESS = "access:services!service=share"
API = "http://127.0.0.1:10101/services/share/api/v1/"


@pytest.fixture(autouse=True)
def hub_environ(monkeypatch):
    """configure_jupyterhub sets variables in this process's environment: undo it."""
    for name in (SERVICE_URL_ENV, SERVICE_NAME_ENV):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def value(option):
    """A list or dict option as the Hub will see it (a LazyConfigValue applies to the default:
    computed on a copy, as `get_value` caches its result)."""
    if isinstance(option, LazyConfigValue):
        copy = LazyConfigValue()
        copy._inserts, copy._prepend, copy._extend, copy._update = (
            list(option._inserts),
            list(option._prepend),
            list(option._extend),
            option._update,
        )
        return copy.get_value({} if option._update is not None else [])
    return option


def roles_by_name(c):
    return {r["name"]: r for r in value(c.JupyterHub.load_roles)}


def test_fresh_config():
    c = Config()
    spec = configure_jupyterhub(c)

    services = value(c.JupyterHub.services)
    assert services == [spec]
    assert spec == {
        "name": "share",
        "url": "http://127.0.0.1:10101",
        "command": [sys.executable, "-m", "jupyter_share.hub.service"],
        "display": False,
        "oauth_no_confirm": True,
        "environment": {},
    }
    roles = roles_by_name(c)
    assert roles["jupyter-share-service"]["services"] == ["share"]
    assert roles["jupyter-share-service"]["scopes"] == SERVICE_SCOPES
    assert roles["user"] == {"name": "user", "scopes": ["self", ACCESS]}
    assert c.Spawner.server_token_scopes == ["users:activity!user", "access:servers!server", ACCESS]
    assert value(c.Spawner.environment) == {SERVICE_URL_ENV: API, SERVICE_NAME_ENV: "share"}

    import os

    assert os.environ[SERVICE_URL_ENV] == API
    assert os.environ[SERVICE_NAME_ENV] == "share"


def test_every_scope_has_a_reason():
    assert set(SCOPE_REASONS) == set(SERVICE_SCOPES)
    assert all(reason.strip() for reason in SCOPE_REASONS.values())


def test_db_url_and_options_reach_the_service_but_not_its_command_line():
    c = Config()
    secret = "postgresql+psycopg://share:s3cret@db:5432/share"
    spec = configure_jupyterhub(
        c, db_url=secret, purge_interval=30, hub_timeout=2.5, directory_cache_seconds=0
    )
    assert spec["environment"] == {DB_URL_ENV: secret}
    assert not any("s3cret" in arg for arg in spec["command"])
    assert spec["command"][3:] == [
        "--ShareServiceApp.purge_interval=30.0",
        "--ShareServiceApp.hub_timeout=2.5",
        "--ShareServiceApp.directory_cache_seconds=0.0",
    ]


def test_the_service_reads_its_options_from_that_command_line():
    from jupyter_share.hub.service import ShareServiceApp

    spec = configure_jupyterhub(Config(), purge_interval=30, hub_timeout=2.5)
    app = ShareServiceApp()
    app.parse_command_line(spec["command"][3:])
    assert (app.purge_interval, app.hub_timeout) == (30.0, 2.5)


def test_unknown_option_names_the_valid_ones():
    c = Config()
    with pytest.raises(TypeError) as e:
        configure_jupyterhub(c, purge_intervall=30)
    message = str(e.value)
    assert "purge_intervall" in message
    for valid in ("db_url", "purge_interval", "hub_timeout", "directory_cache_seconds"):
        assert valid in message
    assert value(c.JupyterHub.services) == []


def test_bad_option_value():
    with pytest.raises(ValueError, match="purge_interval"):
        configure_jupyterhub(Config(), purge_interval="often")


def test_same_name_twice_is_refused_and_changes_nothing():
    c = Config()
    configure_jupyterhub(c)
    before = (
        list(value(c.JupyterHub.services)),
        [dict(r) for r in value(c.JupyterHub.load_roles)],
        list(c.Spawner.server_token_scopes),
        dict(value(c.Spawner.environment)),
    )
    with pytest.raises(ValueError, match="'share' is already in c.JupyterHub.services"):
        configure_jupyterhub(c)
    after = (
        list(value(c.JupyterHub.services)),
        [dict(r) for r in value(c.JupyterHub.load_roles)],
        list(c.Spawner.server_token_scopes),
        dict(value(c.Spawner.environment)),
    )
    assert after == before


def test_a_service_of_that_name_configured_by_hand_is_refused():
    c = Config()
    c.JupyterHub.services = [{"name": "share", "url": "http://127.0.0.1:9999"}]
    with pytest.raises(ValueError, match="already"):
        configure_jupyterhub(c)


def test_keeps_what_was_configured_as_plain_values():
    c = Config()
    culler = {"name": "idle-culler", "command": ["python3", "-m", "jupyterhub_idle_culler"]}
    c.JupyterHub.services = [culler]
    c.JupyterHub.load_roles = [
        {
            "name": "idle-culler",
            "scopes": ["list:users", "admin:servers"],
            "services": ["idle-culler"],
        },
        {"name": "user", "scopes": ["self", "read:groups"], "groups": ["staff"]},
    ]
    c.Spawner.server_token_scopes = ["users:activity!user", "read:users:name"]
    c.Spawner.environment = {"TZ": "UTC", SERVICE_NAME_ENV: "old"}

    configure_jupyterhub(c)

    assert [s["name"] for s in c.JupyterHub.services] == ["idle-culler", "share"]
    assert c.JupyterHub.services[0] is culler
    roles = roles_by_name(c)
    assert roles["idle-culler"]["scopes"] == ["list:users", "admin:servers"]
    assert roles["user"] == {
        "name": "user",
        "scopes": ["self", "read:groups", ACCESS],
        "groups": ["staff"],
    }
    assert [r["name"] for r in c.JupyterHub.load_roles].count("user") == 1
    assert c.Spawner.server_token_scopes == ["users:activity!user", "read:users:name", ACCESS]
    assert c.Spawner.environment == {"TZ": "UTC", SERVICE_URL_ENV: API, SERVICE_NAME_ENV: "share"}


def test_keeps_what_was_appended_to_unset_options():
    # `c.JupyterHub.services.append(...)` on a fresh Config makes a LazyConfigValue.
    c = Config()
    c.JupyterHub.services.append({"name": "idle-culler", "command": ["true"]})
    c.JupyterHub.load_roles.append({"name": "user", "scopes": ["self"]})
    c.Spawner.environment.update({"TZ": "UTC"})

    configure_jupyterhub(c)

    assert isinstance(c.JupyterHub.services, LazyConfigValue)
    assert [s["name"] for s in value(c.JupyterHub.services)] == ["idle-culler", "share"]
    assert roles_by_name(c)["user"]["scopes"] == ["self", ACCESS]
    assert [r["name"] for r in value(c.JupyterHub.load_roles)].count("user") == 1
    assert value(c.Spawner.environment) == {
        "TZ": "UTC",
        SERVICE_URL_ENV: API,
        SERVICE_NAME_ENV: "share",
    }


def test_user_role_without_scopes_gets_the_default_one_too():
    c = Config()
    c.JupyterHub.load_roles = [{"name": "user", "users": ["alice"]}]
    configure_jupyterhub(c)
    assert roles_by_name(c)["user"] == {
        "name": "user",
        "users": ["alice"],
        "scopes": ["self", ACCESS],
    }


def test_user_role_that_already_has_the_scope_is_unchanged():
    c = Config()
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", ACCESS]}]
    configure_jupyterhub(c)
    assert roles_by_name(c)["user"]["scopes"] == ["self", ACCESS]


def test_extra_user_scopes_are_carried_into_the_user_role():
    # JupyterHub >= 6 ignores extra_user_scopes once load_roles overrides the user role.
    c = Config()
    c.JupyterHub.extra_user_scopes = {"read:groups", "list:users"}
    configure_jupyterhub(c)
    assert roles_by_name(c)["user"]["scopes"] == ["self", ACCESS, "list:users", "read:groups"]


def test_server_token_scopes_follow_an_overridden_server_role():
    c = Config()
    c.JupyterHub.load_roles = [
        {"name": "server", "scopes": ["users:activity!user", "read:users:name!user"]}
    ]
    configure_jupyterhub(c)
    assert c.Spawner.server_token_scopes == ["users:activity!user", "read:users:name!user", ACCESS]


def test_server_token_scopes_callable_is_wrapped():
    class FakeSpawner:
        name = ""

    c = Config()
    c.Spawner.server_token_scopes = lambda spawner: ["users:activity!user", "read:users:name!user"]
    configure_jupyterhub(c)
    scopes = asyncio.run(c.Spawner.server_token_scopes(FakeSpawner()))
    assert scopes == ["users:activity!user", "read:users:name!user", ACCESS]


def test_server_token_scopes_async_callable_and_empty_result():
    async def nothing(spawner):
        return []

    c = Config()
    c.Spawner.server_token_scopes = nothing
    configure_jupyterhub(c)
    # Empty means "the server role" to the Hub: the wrapper keeps that and adds the service.
    assert asyncio.run(c.Spawner.server_token_scopes(None)) == DEFAULT_SERVER_TOKEN_SCOPES + [
        ACCESS
    ]


def test_subclass_sections_that_set_their_own_values_get_ours_too():
    # Zero to JupyterHub sets c.KubeSpawner.environment, which replaces c.Spawner.environment.
    c = Config()
    c.KubeSpawner.environment = {"EDITOR": "vim"}
    c.KubeSpawner.server_token_scopes = ["users:activity!user"]
    c.DockerSpawner.image = "quay.io/jupyter/base-notebook"
    configure_jupyterhub(c)
    assert c.KubeSpawner.environment == {
        "EDITOR": "vim",
        SERVICE_URL_ENV: API,
        SERVICE_NAME_ENV: "share",
    }
    assert c.KubeSpawner.server_token_scopes == ["users:activity!user", ACCESS]
    assert "environment" not in c.DockerSpawner


def test_server_url_is_where_user_servers_reach_the_service(monkeypatch):
    import os

    c = Config()
    spec = configure_jupyterhub(c, url="http://0.0.0.0:10101/", server_url="http://hub:10101")
    assert spec["url"] == "http://0.0.0.0:10101"
    assert (
        value(c.Spawner.environment)[SERVICE_URL_ENV] == "http://hub:10101/services/share/api/v1/"
    )
    # The Hub's spawner hooks reach it where the Hub does.
    assert os.environ[SERVICE_URL_ENV] == "http://0.0.0.0:10101/services/share/api/v1/"


def test_kubernetes_addresses():
    # On Zero to JupyterHub the proxy and the user pods reach the service through the hub
    # pod's Kubernetes Service, which the service cannot bind: it listens on every interface.
    c = Config()
    spec = configure_jupyterhub(c, url="http://hub:10101", listen_url="http://0.0.0.0:10101/")
    assert spec["url"] == "http://hub:10101"
    assert spec["command"][3:] == ["--ShareServiceApp.url=http://0.0.0.0:10101"]
    assert (
        value(c.Spawner.environment)[SERVICE_URL_ENV] == "http://hub:10101/services/share/api/v1/"
    )


def test_the_hub_decides_the_prefix():
    with pytest.raises(TypeError, match="listen_url"):
        configure_jupyterhub(Config(), prefix="/elsewhere/")


def test_two_services_of_different_names():
    c = Config()
    configure_jupyterhub(c)
    configure_jupyterhub(c, name="share-2", url="http://127.0.0.1:10102")
    assert [s["name"] for s in value(c.JupyterHub.services)] == ["share", "share-2"]
    roles = roles_by_name(c)
    assert roles["share-2-service"]["services"] == ["share-2"]
    assert roles["user"]["scopes"] == ["self", ACCESS, "access:services!service=share-2"]
    assert c.Spawner.server_token_scopes[-2:] == [ACCESS, "access:services!service=share-2"]


@pytest.mark.parametrize("name", ["", "a/b", None])
def test_bad_names(name):
    with pytest.raises(ValueError):
        configure_jupyterhub(Config(), name=name)


# -- a real JupyterHub ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_real_jupyterhub_accepts_it(tmp_path, monkeypatch):
    """A jupyterhub_config.py that calls configure_jupyterhub after configuring services,
    roles and spawner options of its own, loaded and initialized (database, roles, services,
    role assignments, users and groups) by a real JupyterHub, without starting anything."""
    from jupyterhub import orm, roles, scopes
    from jupyterhub.app import JupyterHub

    monkeypatch.chdir(tmp_path)
    config_file = tmp_path / "jupyterhub_config.py"
    config_file.write_text(
        textwrap.dedent(f"""\
        from jupyter_share.hub import configure_jupyterhub

        c.JupyterHub.db_url = "sqlite:///{tmp_path / "hub.sqlite"}"
        c.JupyterHub.cookie_secret_file = "{tmp_path / "cookie_secret"}"
        c.JupyterHub.authenticator_class = "dummy"
        c.Authenticator.allowed_users = {{"alice", "bob"}}
        c.JupyterHub.load_groups = {{"class-2026": {{"users": ["bob"]}}}}
        c.JupyterHub.services.append({{"name": "other", "api_token": "a-token-of-the-other-service"}})
        c.JupyterHub.load_roles.append({{"name": "other", "scopes": ["list:users"], "services": ["other"]}})
        c.Spawner.environment = {{"TZ": "UTC"}}

        configure_jupyterhub(c, db_url="sqlite:///{tmp_path / "share.sqlite"}", purge_interval=5)
    """)
    )
    app = JupyterHub(config_file=str(config_file))

    async def initialize():
        await app.initialize([])

    asyncio.run(initialize())
    db = app.db
    try:
        # The service and its role.
        service = app._service_map["share"]
        assert service.managed and service.url == "http://127.0.0.1:10101"
        assert service.command[:3] == [sys.executable, "-m", "jupyter_share.hub.service"]
        assert service.environment[DB_URL_ENV] == f"sqlite:///{tmp_path / 'share.sqlite'}"
        assert not service.display and service.oauth_no_confirm
        assert "other" in app._service_map
        orm_service = orm.Service.find(db, "share")
        assert [r.name for r in orm_service.roles] == ["jupyter-share-service"]
        assert set(SERVICE_SCOPES) <= roles.roles_to_scopes(orm_service.roles)
        assert [r.name for r in orm.Service.find(db, "other").roles] == ["other"]

        # Every user may use the service; the user role still has `self`.
        user_role = orm.Role.find(db, "user")
        assert {"self", ACCESS} <= set(user_role.scopes)
        alice = app.users["alice"]
        held = roles.roles_to_scopes(roles.get_roles_for(alice.orm_user))
        assert ACCESS in held and "self" in held
        assert orm.Group.find(db, "class-2026").users[0].name == "bob"

        # A user server's token gets the service's access scope (resolved as the Hub does
        # when it starts a server).
        spawner = alice.spawners[""]
        requested = set(spawner.server_token_scopes)
        assert ACCESS in requested
        assert spawner.environment[SERVICE_URL_ENV] == API
        assert spawner.environment["TZ"] == "UTC"
        client = db.query(orm.OAuthClient).filter_by(identifier="jupyterhub").one()
        resolved, excluded = scopes._resolve_requested_scopes(
            {s.replace("!server", "!server=alice/") for s in requested},
            held | {"inherit"},
            alice.orm_user,
            client,
            db,
        )
        assert ACCESS in resolved and not excluded
    finally:
        db.close()
        app.log.handlers.clear()


def test_the_deployment_guide_explains_every_scope():
    from pathlib import Path

    guide = (Path(__file__).parent.parent / "docs" / "jupyterhub.md").read_text()
    for scope in SERVICE_SCOPES:
        assert f"| `{scope}` |" in guide, f"docs/jupyterhub.md does not explain {scope}"
