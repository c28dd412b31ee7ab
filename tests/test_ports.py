"""The ports and their implementations, chosen by configuration (docs/architecture.md, "Ports
and their implementations"): each implementation of the containers port has every member of
the one Protocol, the traits pick what the mode says, or what the configuration names, and the
store's URL picks its implementation (a URL no store opens is said, not a traceback)."""

from __future__ import annotations

import inspect
import os

import pytest
from traitlets.config import Config

from jupyter_share.app import ShareApp
from jupyter_share.backend import Backend
from jupyter_share.cli.base import EXIT_USAGE
from jupyter_share.cli.main import run
from jupyter_share.config_traits import BadShareConfiguration
from jupyter_share.containers import Containers, LocalContainers
from jupyter_share.directory import StandaloneDirectory, WithoutLoginAccounts
from jupyter_share.standalone import LocalBackend
from jupyter_share.store import (
    IMPLEMENTATIONS,
    PostgresStore,
    SQLiteStore,
    SQLStore,
    UnsupportedStoreURL,
    open_store,
    store_class_for,
)
from jupyter_share.store.changefeed import SQLiteFeed

HUB_ENV = {"JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_SERVICE_PREFIX": "/user/zed/"}


def protocol_members() -> set[str]:
    members = {n for n in vars(Containers) if not n.startswith("_")}
    return members | set(Containers.__annotations__)


def test_both_containers_implement_the_one_protocol():
    hub_containers = pytest.importorskip("jupyter_share.hub.service.containers")
    members = protocol_members()
    assert {"mirrors_grants", "sync", "forget_shares", "servers_of"} <= members
    for implementation in (LocalContainers, hub_containers.HubContainers):
        missing = {m for m in members if not hasattr(implementation, m)}
        assert missing == set(), implementation
        for name in members - {"mirrors_grants"}:
            wanted = list(inspect.signature(getattr(Containers, name)).parameters)
            got = list(inspect.signature(getattr(implementation, name)).parameters)
            if isinstance(inspect.getattr_static(implementation, name), staticmethod):
                got = ["self", *got]
            assert got == wanted, (implementation.__name__, name)
    assert LocalContainers.mirrors_grants is False
    assert hub_containers.HubContainers.mirrors_grants is True


def test_standalone_the_service_is_built_from_the_configured_ports(tmp_path, monkeypatch):
    for name in HUB_ENV:
        monkeypatch.delenv(name, raising=False)
    app = ShareApp(db_url=f"sqlite:///{tmp_path / 'deep' / 'share.db'}")
    assert app.resolved_mode == "standalone" and app.backend_class is LocalBackend
    service = app.make_service()
    try:
        assert isinstance(service.store, SQLStore)
        assert type(service.directory) is StandaloneDirectory
        assert isinstance(service.containers, LocalContainers)
        assert service.mirrored is False  # personal links are written with the grant
        assert (tmp_path / "deep" / "share.db").exists()  # its folder made first
    finally:
        service.store.close()

    config = Config()
    config.ShareApp.directory_class = "jupyter_share.directory.WithoutLoginAccounts"
    configured = ShareApp(config=config, db_url=f"sqlite:///{tmp_path / 'other.db'}")
    service = configured.make_service()
    try:
        assert type(service.directory) is WithoutLoginAccounts
    finally:
        service.store.close()


def test_under_jupyterhub_the_mode_names_the_hubs_backend(monkeypatch):
    pytest.importorskip("jupyterhub")
    for name, value in HUB_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JUPYTERHUB_USER", "zed")
    app = ShareApp()
    assert app.resolved_mode == "hub"
    backend = app.backend_class
    assert issubclass(backend, Backend) and backend.__name__ == "HubBackend"
    assert backend.__module__ == "jupyter_share.hub.userserver.backend"
    assert app.username == "zed"  # the backend's default owner: the Hub's user
    # The configuration wins over the mode.
    config = Config()
    config.ShareApp.backend_class = "jupyter_share.standalone.LocalBackend"
    assert ShareApp(config=config).backend_class is LocalBackend


def test_a_backend_that_is_not_one_is_refused():
    config = Config()
    config.ShareApp.backend_class = "jupyter_share.store.SQLStore"
    with pytest.raises(Exception, match="backend_class"):
        ShareApp(config=config).backend_class  # noqa: B018 (read: validated)


def test_the_share_service_ports_default_to_the_hubs():
    service_app = pytest.importorskip("jupyter_share.hub.service.app")
    app = service_app.ShareServiceApp()
    assert app.store_class is SQLStore
    assert app.directory_class.__name__ == "HubDirectory"
    assert app.containers_class.__name__ == "HubContainers"


def test_the_url_picks_the_stores_implementation(tmp_path, monkeypatch):
    for name in HUB_ENV:
        monkeypatch.delenv(name, raising=False)
    assert IMPLEMENTATIONS == {"sqlite": SQLiteStore, "postgresql": PostgresStore}
    path = tmp_path / "deep" / "s.db"
    for url, implementation in (
        (f"sqlite:///{path}", SQLiteStore),
        ("sqlite://", SQLiteStore),
        ("sqlite+pysqlite:///relative.db", SQLiteStore),
        ("postgresql://u:p@db.invalid/share", PostgresStore),
        ("postgresql+psycopg2://u@db.invalid/share", PostgresStore),
        ("postgresql+psycopg://u@db.invalid/share", PostgresStore),
    ):
        assert store_class_for(url) is implementation, url
    # `SQLStore(url)` (the apps' default store_class) and `open_store(url)` open the same.
    for open_ in (SQLStore, open_store):
        store = open_(f"sqlite:///{path}")
        try:
            assert type(store) is SQLiteStore and isinstance(store, SQLStore)
            assert store.path == str(path) and path.is_file()  # its folder made first
            # SQLite's own parts: a change marker that names its connection, a polling watcher.
            generation, version = store.change_marker()
            assert isinstance(generation, int) and isinstance(version, int)
            assert isinstance(store.change_feed(print), SQLiteFeed)
        finally:
            store.close()
    memory = SQLStore("sqlite://")
    try:
        assert type(memory) is SQLiteStore
        assert memory.change_marker() is None and memory.change_feed(print) is None
    finally:
        memory.close()

    app = ShareApp(db_url=f"sqlite:///{tmp_path / 'app.db'}")
    assert app.store_class is SQLStore
    service = app.make_service()
    try:
        assert type(service.store) is SQLiteStore
    finally:
        service.store.close()
    # Named by the configuration, an implementation opens only its own database's URLs.
    config = Config()
    config.ShareApp.store_class = "jupyter_share.store.SQLiteStore"
    assert ShareApp(config=config).store_class is SQLiteStore


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:hunter2@db.example/share",
        "oracle+oracledb://u:hunter2@db.example/share",
        "postgres://u:hunter2@db.example/share",  # SQLAlchemy's name is postgresql
        "sqlite3:///share.db",
        "not a url",
        "postgresql://u:hunter2@db.example:port/share",
    ],
)
def test_a_url_no_store_opens_is_a_clear_error(url, tmp_path):
    for open_ in (SQLStore, open_store, store_class_for):
        with pytest.raises(UnsupportedStoreURL) as refused:
            open_(url)
        message = str(refused.value)
        assert "sqlite:///PATH" in message and "postgresql://USER:PASSWORD@HOST/DATABASE" in message
        assert "hunter2" not in message  # the URL is named without its password
    assert isinstance(refused.value, ValueError)


def test_an_implementation_refuses_the_other_databases_url_before_opening_it(tmp_path):
    with pytest.raises(UnsupportedStoreURL, match="SQLiteStore opens sqlite URLs only") as refused:
        SQLiteStore("postgresql://u:hunter2@db.invalid/share")
    assert "hunter2" not in str(refused.value) and "postgresql://u:***@db.invalid" in str(
        refused.value
    )
    with pytest.raises(UnsupportedStoreURL, match="PostgresStore opens postgresql URLs only"):
        PostgresStore(f"sqlite:///{tmp_path / 'not' / 's.db'}")
    assert not (tmp_path / "not").exists()  # nothing made


def test_a_url_no_store_opens_stops_the_apps_and_the_cli_with_the_reason(
    tmp_path, monkeypatch, capsys
):
    url = "mysql://u:hunter2@db.example/share"
    for name in (n for n in os.environ if n.startswith(("JUPYTER", "JPY_"))):
        monkeypatch.delenv(name)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    # A server: a bad configuration stops it with the reason (jupyter_server would start
    # without an extension that raised an ordinary exception, sharing nothing).
    with pytest.raises(BadShareConfiguration) as stopped:
        ShareApp(db_url=url).make_service()
    assert stopped.value.message.startswith("ShareApp.db_url: jupyter_share keeps its store in ")
    assert "mysql://u:***@db.example/share" in stopped.value.message
    assert "hunter2" not in stopped.value.message

    # The CLI: a usage error, one line, no traceback.
    assert run(["list", "--db-url", url, "--user", "alice"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("jupyter share: error: ShareApp.db_url: jupyter_share keeps its store")
    assert err.count("\n") == 1 and "Traceback" not in err and "hunter2" not in err

    service_app = pytest.importorskip("jupyter_share.hub.service.app")
    with pytest.raises(BadShareConfiguration) as stopped:
        service_app.ShareServiceApp(db_url=url).make_service()
    assert stopped.value.message.startswith("ShareServiceApp.db_url: jupyter_share keeps its store")
