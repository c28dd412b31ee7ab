"""The ports and their implementations, chosen by configuration (docs/architecture.md, "Ports
and their implementations"): each implementation of the containers port has every member of
the one Protocol, and the traits pick what the mode says, or what the configuration names."""

from __future__ import annotations

import inspect

import pytest
from traitlets.config import Config

from jupyter_share.app import ShareApp
from jupyter_share.backend import Backend
from jupyter_share.containers import Containers, LocalContainers
from jupyter_share.directory import StandaloneDirectory, WithoutLoginAccounts
from jupyter_share.standalone import LocalBackend
from jupyter_share.store import SQLStore

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
