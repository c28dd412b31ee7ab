"""`jupyter_share.client.ShareClient` against live servers: every method, every refusal as its
`ShareError` subclass with the server's message, and how it finds its server with no arguments.

Most tests use real `jupyter server` processes of alice, bob and carol on one store (the client
blocks, so a subprocess server suits it); one calls the in-process pytest-jupyter server through
`asyncio.to_thread`."""

from __future__ import annotations

import asyncio
import os
import platform
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from jupyter_share import client as client_module
from jupyter_share.client import (
    BadRequest,
    Conflict,
    Forbidden,
    NoServerFound,
    NotFound,
    NotSignedIn,
    ShareClient,
    ShareError,
    Unreachable,
)
from jupyter_share.directory import LoginAccounts

from .servers import free_port, refusing_port, running_servers

# Starts real servers of alice, bob and carol.
pytestmark = pytest.mark.slow

DISCOVERY_VARIABLES = (
    "JUPYTER_SHARE_URL",
    "JUPYTER_SHARE_TOKEN",
    "JUPYTERHUB_SERVICE_URL",
    "JUPYTERHUB_API_TOKEN",
    "JPY_PARENT_PID",
)


@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    """Servers of alice, bob and carol on one store; carol and bob are in group class-2026."""
    workdir = tmp_path_factory.mktemp("client")
    with running_servers(
        ["alice", "bob", "carol"],
        f"sqlite:///{workdir / 'share.db'}",
        workdir,
        groups={"class-2026": ["bob", "carol"]},
    ) as servers:
        yield servers


@pytest.fixture(autouse=True)
def no_discovery_environment(monkeypatch):
    """Each test says itself which of the discovery variables are set."""
    for name in DISCOVERY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def alice(trio):
    with ShareClient(trio["alice"].url, trio["alice"].token) as client:
        yield client


@pytest.fixture
def bob(trio):
    with ShareClient(trio["bob"].url, trio["bob"].token) as client:
        yield client


def unique(name: str) -> str:
    return f"{name}-{os.urandom(3).hex()}"


# -- every method ------------------------------------------------------------------------------


def test_me_and_directory(alice, bob):
    assert alice.me() == {
        "username": "alice",
        "display_name": "alice",
        "mode": "standalone",
        "groups": [],
    }
    assert bob.me()["groups"] == ["class-2026"]
    logins = set(LoginAccounts().names())  # this machine's accounts are offered too

    def found(prefix):
        answer = alice.directory(prefix)
        return {**answer, "users": [u for u in answer["users"] if u not in logins]}

    assert found("b") == {"users": ["bob"], "groups": []}
    assert found("c") == {"users": ["carol"], "groups": ["class-2026"]}
    assert {"alice", "bob", "carol"} <= set(alice.directory()["users"])


def test_create_get_update_list_delete(alice, bob):
    image = alice.create_image(
        unique("CARET"), spec={"reference": "quay.io/lab/caret:2026.1"}, description="R and caret"
    )
    assert (
        image["owner"] == "alice"
        and image["access"] == "owner"
        and image["description"] == "R and caret"
    )
    assert image["spec"] == {"reference": "quay.io/lab/caret:2026.1"}
    # A resource is "kind/id", a singular kind, or the dict the API answered.
    assert alice.get(f"images/{image['id']}") == image
    assert alice.get(f"image/{image['id']}") == image
    assert alice.get(image) == image

    formation = alice.create_formation(
        unique("gpu-small"), {"image": image["id"], "cpu": 4, "memory": "16G"}, "for the course"
    )
    assert formation["spec"] == {"image": image["id"], "cpu": 4, "memory": "16G"}
    assert formation["description"] == "for the course"

    changed = alice.update(formation, name="gpu-large", spec={"image": image["id"], "cpu": 8})
    assert changed["name"] == "gpu-large" and changed["spec"]["cpu"] == 8
    assert alice.get(formation)["name"] == "gpu-large"

    owned = alice.list("images", scope="owned")
    assert image["id"] in [i["id"] for i in owned]
    assert all(i["owner"] == "alice" for i in owned)
    assert image["id"] not in [i["id"] for i in bob.list("images")]

    session = alice.get("sessions/current")
    assert session["kind"] == "session" and session["owner"] == "alice"
    assert session["spec"]["url"] == alice.server_url
    assert [s["id"] for s in alice.list("sessions", scope="owned")] == [session["id"]]

    assert alice.delete(formation) is None
    with pytest.raises(NotFound):
        alice.get(formation)
    alice.delete(f"images/{image['id']}")
    assert image["id"] not in [i["id"] for i in alice.list("images")]


def test_share_grants_history_shared_with_me_and_revoke(alice, bob, trio):
    image = alice.create_image(unique("CARET"), spec={"reference": "quay.io/lab/caret:2026.1"})
    grant = alice.share(image, "bob")
    assert {
        k: grant[k] for k in ("principal", "kind", "name", "permission", "granted_by", "expires_at")
    } == {
        "principal": "user:bob",
        "kind": "user",
        "name": "bob",
        "permission": "view",
        "granted_by": "alice",
        "expires_at": None,
    }
    # An expiry may be an aware datetime, a naive (local) one, a date or an ISO string.
    soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    grant = alice.share(image, "group:class-2026", "edit", expires_at=soon)
    assert grant["kind"] == "group" and grant["permission"] == "edit"
    assert datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00")) == soon
    local = datetime.now().replace(microsecond=0) + timedelta(hours=5)
    grant = alice.share(image, "group:class-2026", "edit", expires_at=local)
    assert datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00")) == local.astimezone(
        timezone.utc
    )
    day = date.today() + timedelta(days=3)
    grant = alice.share(image, "group:class-2026", "edit", expires_at=day)
    local_midnight = datetime(day.year, day.month, day.day).astimezone()
    assert datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00")) == local_midnight
    grant = alice.share(image, "group:class-2026", "edit", expires_at="2099-01-31T12:00:00Z")
    assert grant["expires_at"] == "2099-01-31T12:00:00.000Z"

    assert sorted((g["principal"], g["permission"]) for g in alice.grants(image)) == [
        ("group:class-2026", "edit"),
        ("user:bob", "view"),
    ]
    shared = bob.shared_with_me()
    mine = [r for r in shared if r["id"] == image["id"]]
    # bob holds view himself and edit through his group: the highest counts.
    assert len(mine) == 1 and mine[0]["owner"] == "alice" and mine[0]["access"] == "edit"
    assert image["id"] in [r["id"] for r in bob.shared_with_me("images")]
    assert image["id"] not in [r["id"] for r in bob.shared_with_me("formation")]
    assert image["id"] in [r["id"] for r in bob.list("images", scope="shared")]

    assert alice.revoke(image, "bob") is None
    assert [g["principal"] for g in alice.grants(image)] == ["group:class-2026"]
    history = alice.history(image)
    assert [h["action"] for h in history] == [
        "create",
        "share",
        "share",
        "change",
        "change",
        "change",
        "revoke",
    ]
    assert history[-1] == {
        **history[-1],
        "actor": "alice",
        "principal": "user:bob",
        "permission": "view",
    }

    # The container: a standalone share with a user answers the neighbour's personal link.
    grant = alice.share("sessions/current", "carol", "view")
    assert grant["link"].startswith(alice.server_url + "jupyter-share/link/")
    fresh = alice.new_link("sessions/current", "carol")
    assert fresh != grant["link"] and fresh.startswith(alice.server_url + "jupyter-share/link/")
    alice.revoke("sessions/current", "carol")


def test_environment_files(alice, bob):
    image = alice.create_image(unique("captured"), capture=True)
    environment = image["spec"]["environment"]
    assert environment["packages"] and environment["python"]
    alice.share(image, "bob")
    requirements = bob.environment(image)
    assert f"httpx=={httpx.__version__}" in requirements.splitlines()
    conda = bob.environment(image["id"], "conda")
    assert (
        "dependencies:" in conda and f"- python={platform.python_version()}" in conda.splitlines()
    )
    with pytest.raises(BadRequest) as refused:
        bob.environment(image, "wheel")
    assert refused.value.field == "format"
    plain = alice.create_image(unique("plain"), spec={"reference": "python:3.12"})
    with pytest.raises(NotFound, match="has no captured environment"):
        alice.environment(plain)


def test_pages_through_long_lists(alice, monkeypatch):
    names = {unique("page") for _ in range(5)}
    for name in names:
        alice.create_image(name, spec={"reference": "python:3.12"})
    monkeypatch.setattr(client_module, "PAGE_SIZE", 2)
    listed = [i["name"] for i in alice.list("images", scope="owned")]
    assert names <= set(listed) and len(listed) == len(set(listed))
    assert len(listed) == len(alice.list("images", scope="owned"))


# -- refusals ----------------------------------------------------------------------------------


def test_refusals_carry_the_servers_message_and_field(alice, bob):
    image = alice.create_image(unique("CARET"), spec={"reference": "python:3.12"})
    with pytest.raises(BadRequest) as refused:
        alice.share(image, "bobb")
    assert refused.value.message == "unknown user 'bobb', did you mean 'bob'?"
    assert refused.value.status == 400 and refused.value.field == "principal"
    assert str(refused.value) == "unknown user 'bobb', did you mean 'bob'?"

    with pytest.raises(BadRequest) as refused:
        alice.share(image, "bob", "owner")
    assert refused.value.field == "permission"
    with pytest.raises(BadRequest, match="in the past"):
        alice.share(image, "bob", expires_at=datetime.now(timezone.utc) - timedelta(hours=1))
    with pytest.raises(BadRequest) as refused:
        alice.update(image, colour="blue")
    assert refused.value.field == "colour"

    with pytest.raises(Conflict, match="yourself|owns"):
        alice.share(image, "alice")
    with pytest.raises(Conflict) as refused:
        alice.create_image(image["name"], spec={"reference": "python:3.12"})
    assert refused.value.status == 409

    # bob cannot see it: 404, not 403 (existence is not revealed).
    with pytest.raises(NotFound) as refused:
        bob.get(image)
    assert refused.value.status == 404
    alice.share(image, "bob", "edit")
    with pytest.raises(Forbidden) as refused:
        bob.delete(image)
    assert "owner" in refused.value.message and refused.value.status == 403
    with pytest.raises(Forbidden):
        bob.grants(image)
    # Every refusal is a ShareError, none an HTTP library error.
    for error_class in (
        BadRequest,
        Conflict,
        NotFound,
        Forbidden,
        NotSignedIn,
        Unreachable,
        NoServerFound,
    ):
        assert issubclass(error_class, ShareError) and not issubclass(error_class, httpx.HTTPError)


def test_bad_references_are_refused_before_any_request(alice):
    for bad in ("volumes/1", "images", "images/a/b", "", {"name": "x"}, 42):
        with pytest.raises(BadRequest) as refused:
            alice.get(bad)
        assert refused.value.field == "resource"
    with pytest.raises(BadRequest) as refused:
        alice.share("sessions/current", "  ")
    assert refused.value.field == "principal"
    with pytest.raises(BadRequest) as refused:
        alice.list("volumes")
    assert refused.value.field == "kind"
    with pytest.raises(BadRequest):
        alice.environment("formations/abc")
    # A principal that is not a name reaches the server escaped, and is refused there.
    with pytest.raises(BadRequest, match="malformed principal"):
        alice.share("sessions/current", "bob/../alice")


def test_wrong_token_unreachable_server_and_no_token_leaks(trio):
    server = trio["alice"]
    wrong = ShareClient(server.url, token="not-the-token")
    with pytest.raises(NotSignedIn) as refused:
        wrong.me()
    assert refused.value.status == 401 and "not-the-token" not in str(refused.value)

    client = ShareClient(server.url, server.token)
    assert server.token not in repr(client) and repr(client) == f"ShareClient(url='{server.url}')"

    dead = ShareClient(f"http://127.0.0.1:{refusing_port()}/", token="secret-token")
    with pytest.raises(Unreachable) as refused:
        dead.me()
    assert "cannot reach the Jupyter server at http://127.0.0.1:" in refused.value.message
    assert "secret-token" not in str(refused.value)
    # No chained httpx traceback under the error.
    assert refused.value.__suppress_context__ and refused.value.__cause__ is None

    # A server without the extension (or a wrong path) answers a plain 404.
    elsewhere = ShareClient(server.url + "nothing-here/", server.token)
    with pytest.raises(NotFound, match="is jupyter_share enabled"):
        elsewhere.me()


def test_a_proxy_in_the_environment_does_not_carry_calls_to_this_machine(trio, monkeypatch):
    # Kernels often inherit a proxy for the outside world; the server is on this machine.
    dead_proxy = f"http://127.0.0.1:{refusing_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert ShareClient(trio["alice"].url, trio["alice"].token).me()["username"] == "alice"


# -- finding the server ------------------------------------------------------------------------


def test_finds_its_server_through_jupyter_share_url(trio, monkeypatch):
    server = trio["bob"]
    monkeypatch.setenv("JUPYTER_SHARE_URL", server.url)
    monkeypatch.setenv("JUPYTER_SHARE_TOKEN", server.token)
    # Set too, and ignored: JUPYTER_SHARE_URL comes first.
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", trio["alice"].url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", trio["alice"].token)
    client = ShareClient()
    assert client.found_by == "JUPYTER_SHARE_URL"
    assert client.me()["username"] == "bob"


def test_finds_its_server_through_jupyterhub_variables(trio, monkeypatch):
    server = trio["carol"]
    # JupyterHub names the bind address; a wildcard one is reached on loopback.
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", f"http://0.0.0.0:{server.port}/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", server.token)
    monkeypatch.setenv("JPY_PARENT_PID", str(trio["alice"].process.pid))  # comes after the Hub's
    client = ShareClient()
    assert client.found_by == "JUPYTERHUB_SERVICE_URL"
    assert client.server_url == f"http://127.0.0.1:{server.port}/"
    assert client.me()["username"] == "carol"


def test_finds_its_server_through_jpy_parent_pid(trio, monkeypatch):
    server = trio["alice"]
    # A kernel inherits its server's environment: its runtime dir and JPY_PARENT_PID.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(server.root / ".runtime"))
    monkeypatch.setenv("JPY_PARENT_PID", str(server.process.pid))
    client = ShareClient()
    assert client.found_by == f"the runtime file of server pid {server.process.pid}"
    assert client.me()["username"] == "alice"


def test_an_explicit_url_takes_its_token_from_the_runtime_file(trio, monkeypatch):
    server = trio["bob"]
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(server.root / ".runtime"))
    assert ShareClient(server.url).me()["username"] == "bob"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(server.root / "no-runtime-here"))
    with pytest.raises(NotSignedIn, match="no token was found"):
        ShareClient(server.url).me()


def test_says_what_it_tried_when_nothing_fits(trio, tmp_path, monkeypatch):
    with pytest.raises(NoServerFound) as refused:
        ShareClient()
    message = refused.value.message
    for tried in (
        "JUPYTER_SHARE_URL is not set",
        "JUPYTERHUB_SERVICE_URL and JUPYTERHUB_API_TOKEN are not set",
        "JPY_PARENT_PID is not set",
    ):
        assert tried in message

    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", trio["alice"].url)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))  # alive, but no server's pid
    with pytest.raises(NoServerFound) as refused:
        ShareClient()
    assert "JupyterHub: JUPYTERHUB_API_TOKEN is not set" in refused.value.message
    assert (
        f"no running server with pid {os.getpid()} (JPY_PARENT_PID) has a runtime file in {tmp_path}"
        in refused.value.message
    )
    assert trio["alice"].token not in refused.value.message


# -- the in-process pytest-jupyter server ----------------------------------------------------


async def test_against_the_in_process_server(
    jp_serverapp, http_server_client, jp_base_url, jp_http_port
):
    # http_server_client makes pytest-jupyter serve on jp_http_port, under a base URL with an
    # escaped character: "/a%40b/".
    url = f"http://localhost:{jp_http_port}{jp_base_url}"
    client = ShareClient(url, jp_serverapp.identity_provider.token)

    def share_an_image() -> tuple:
        image = client.create_image("CARET", spec={"reference": "quay.io/lab/caret:2026.1"})
        grant = client.share(image, "bob", "manage")
        return image, grant, client.grants(image), client.me()

    # The client blocks; the server runs on this test's event loop.
    image, grant, grants, me = await asyncio.to_thread(share_an_image)
    assert me["username"] == "alice" and image["owner"] == "alice"
    assert grant["permission"] == "manage" and [g["principal"] for g in grants] == ["user:bob"]
    with pytest.raises(BadRequest, match="did you mean 'bob'"):
        await asyncio.to_thread(client.share, image, "bobb")
    await asyncio.to_thread(client.close)
