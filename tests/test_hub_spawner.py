"""The JupyterHub spawner hooks (`jupyter_share.hub.spawner`) against real servers.

The hooks call the share REST API v1, which is the same on every Jupyter server with the
extension (`{base_url}jupyter-share/api/v1/`) as on the hub service, so these tests point
`JUPYTER_SHARE_SERVICE_URL` at the real `jupyter server` of alice or bob (one SQLite store) and
give the hooks a real `jupyterhub.spawner.LocalProcessSpawner` whose user hands out that
server's token, as the Hub hands out a user's token.
"""

from __future__ import annotations

import asyncio
import os
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from tornado import web
from traitlets import Dict, Unicode

from jupyter_share.client import ShareClient, _api_url
from jupyter_share.hub import spawner as hooks
from jupyter_share.hub.spawner import (
    LaunchRefused,
    allowed_images,
    apply_user_options,
    memory_bytes,
    options_form,
    options_from_form,
    profile_list,
)

from .servers import free_port, refusing_port, running_servers

jupyterhub_spawner = pytest.importorskip("jupyterhub.spawner")
LocalProcessSpawner = jupyterhub_spawner.LocalProcessSpawner

CARET = "quay.io/lab/caret:2026.1"
PYTHON = "docker.io/library/python:3.12"
SCRIPT_NAME = '<script>alert("x")</script>'
# What alice's formation sets that no launch gets (not on the default allow-list): each would
# load code, read configuration or redirect traffic in the server it is launched in.
OWNERS_ONLY_ENV = {
    "LD_PRELOAD": "/home/alice/hook.so",
    "PYTHONSTARTUP": "/home/alice/startup.py",
    "HTTP_PROXY": "http://alice.example:3128",
    "https_proxy": "http://alice.example:3128",
    "PATH": "/home/alice/bin:/usr/bin",
    "JUPYTER_CONFIG_DIR": "/home/alice/.jupyter",
    "NODE_OPTIONS": "--require /home/alice/hook.js",
    "R_PROFILE_USER": "/home/alice/.Rprofile",
    "GIT_SSH_COMMAND": "/home/alice/ssh",
    "MPLBACKEND": "module://alice_backend",
}


class ContainerSpawner(LocalProcessSpawner):
    """A LocalProcessSpawner with the traits of the container spawners (DockerSpawner's and
    KubeSpawner's `image`, KubeSpawner's `extra_resource_limits`)."""

    image = Unicode("quay.io/jupyter/base-notebook:latest")
    extra_resource_limits = Dict()


class TokenDesk:
    """`user.new_api_token` of a stand-in Hub user: records each request, answers a token."""

    def __init__(self, token):
        self.token = token
        self.requests = []

    def __call__(self, **kwargs):
        self.requests.append(kwargs)
        if isinstance(self.token, Exception):
            raise self.token
        return self.token


#: What a launch of world.course reports it left out.
COURSE_REFUSED = ",".join(sorted([*OWNERS_ONLY_ENV, "JUPYTERHUB_API_URL", "JUPYTER_SHARE_IMAGE"]))


def make_spawner(server, cls=LocalProcessSpawner, token=None):
    desk = TokenDesk(server.token if token is None else token)
    user = SimpleNamespace(
        name=server.username, url=f"/user/{server.username}/", new_api_token=desk
    )
    # What `Spawner.get_env` reads of the Hub.
    hub = SimpleNamespace(public_host="", api_url="http://127.0.0.1:8081/hub/api", base_url="/hub/")
    spawner = cls(user=user, hub=hub)
    spawner.environment = {"CONFIGURED": "by the operator"}
    return spawner, desk


def base_env(spawner) -> dict:
    """The environment every Spawner builds (LocalProcessSpawner adds the system user's, which
    bob is not here)."""
    return jupyterhub_spawner.Spawner.get_env(spawner)


def api_url(server) -> str:
    return f"{server.url}jupyter-share/api/v1/"


def run(coroutine):
    return asyncio.run(coroutine)


def unique(name: str) -> str:
    return f"{name}-{os.urandom(3).hex()}"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hub-spawner")
    with running_servers(["alice", "bob"], f"sqlite:///{workdir / 'share.db'}", workdir) as servers:
        yield servers


@pytest.fixture(scope="module")
def world(pair):
    """What alice and bob made and shared, as the API answered it."""
    alice = ShareClient(pair["alice"].url, pair["alice"].token)
    bob = ShareClient(pair["bob"].url, pair["bob"].token)
    w = SimpleNamespace()
    w.caret = alice.create_image(
        unique("CARET"), spec={"reference": CARET}, description="R and caret"
    )
    alice.share(w.caret, "bob")
    w.course = alice.create_formation(
        unique("course"),
        {
            "image": w.caret["id"],
            "cpu": 4,
            "memory": "1.5Gi",
            "gpu": 1,
            "env": {
                "MY_COURSE": "stats",
                "JUPYTERHUB_API_URL": "http://evil.example/",
                "JUPYTER_SHARE_IMAGE": "evil",
                "OMP_NUM_THREADS": "4",
                **OWNERS_ONLY_ENV,
            },
            "start_url": "/lab/tree/{username}",
        },
    )
    alice.share(w.course, "bob")
    w.by_reference = alice.create_formation(
        unique("plain-python"), {"image": PYTHON, "cpu": 0.5, "memory": "512M"}
    )
    alice.share(w.by_reference, "bob")
    # Alice's own, not shared: bob must not launch them.
    w.private_formation = alice.create_formation(unique("private"), {"image": PYTHON, "cpu": 2})
    w.private_image = alice.create_image(
        unique("secret-image"), spec={"reference": "quay.io/alice/secret:1"}
    )
    # Shared, but its image is not: bob sees the formation and cannot launch it.
    w.orphan = alice.create_formation(unique("orphan"), {"image": w.private_image["id"]})
    alice.share(w.orphan, "bob")
    # Bob's own: a name that is HTML, and an image with only a captured environment.
    w.script = bob.create_image(SCRIPT_NAME, spec={"reference": "registry.example.org/bob/x:1"})
    w.braces = bob.create_formation("{{ 7*7 }} & 'co'", {"image": w.script["id"]})
    w.captured = bob.create_image(
        unique("captured-only"), spec={"environment": {"python": "3.11.7"}}
    )
    yield w
    alice.close()
    bob.close()


@pytest.fixture
def as_bob(pair, monkeypatch):
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_URL", api_url(pair["bob"]))
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_NAME", "share")
    return pair["bob"]


class FormParser(HTMLParser):
    """The options of a form: (optgroup label, value, text, attributes)."""

    def __init__(self):
        super().__init__()
        self.options = []
        self.selects = []
        self._group = None
        self._option = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self.selects.append(attrs)
        elif tag == "optgroup":
            self._group = attrs.get("label")
        elif tag == "option":
            self._option = [self._group, attrs.get("value"), "", attrs]

    def handle_endtag(self, tag):
        if tag == "optgroup":
            self._group = None
        elif tag == "option" and self._option:
            self.options.append(tuple(self._option))
            self._option = None

    def handle_data(self, data):
        if self._option is not None:
            self._option[2] += data


def parse_form(text):
    parser = FormParser()
    parser.feed(text)
    return parser


# -- the client keeps the service's URL --------------------------------------------------------


def test_client_keeps_an_api_url_of_the_hub_service():
    service = "http://127.0.0.1:10101/services/share/api/v1/"
    assert _api_url(service) == service
    assert _api_url(service.rstrip("/")) == service
    # A server's URL still gets the extension's API path, and its API URL is kept as before.
    assert (
        _api_url("http://127.0.0.1:8888/user/bob/")
        == "http://127.0.0.1:8888/user/bob/jupyter-share/api/v1/"
    )
    assert _api_url("http://127.0.0.1:8888/user/bob/jupyter-share/api/v1") == (
        "http://127.0.0.1:8888/user/bob/jupyter-share/api/v1/"
    )
    with ShareClient(url=service, token="t") as client:
        assert client.url == service
        assert client.server_url == "http://127.0.0.1:10101/services/share/"
    with ShareClient(url="http://127.0.0.1:8888/user/bob/", token="t") as client:
        assert client.server_url == "http://127.0.0.1:8888/user/bob/"


# -- options_form ------------------------------------------------------------------------------


@pytest.mark.slow
def test_options_form_offers_own_and_shared_formations_and_images(as_bob, world):
    spawner, _ = make_spawner(as_bob)
    form = parse_form(run(options_form(spawner)))
    assert [s.get("name") for s in form.selects] == ["jupyter_share_choice"]
    by_value = {value: (group, text, attrs) for group, value, text, attrs in form.options}

    assert form.options[0][:3] == (None, "", "Default environment")
    assert by_value[f"formation:{world.course['id']}"][:2] == (
        "Formations",
        f"{world.course['name']}, from alice",
    )
    assert by_value[f"formation:{world.by_reference['id']}"][:2] == (
        "Formations",
        f"{world.by_reference['name']}, from alice",
    )
    assert by_value[f"image:{world.caret['id']}"][:2] == (
        "Images",
        f"{world.caret['name']}, from alice",
    )
    # Bob's own: his name alone.
    assert by_value[f"image:{world.script['id']}"][:2] == ("Images", SCRIPT_NAME)
    assert by_value[f"formation:{world.braces['id']}"][:2] == ("Formations", "{{ 7*7 }} & 'co'")
    # The details of what an option launches are in its title.
    title = by_value[f"formation:{world.course['id']}"][2]["title"]
    assert CARET in title and "4 CPU" in title and "1.5Gi memory" in title and "1 GPU" in title
    # A shared formation whose image bob may not see is shown, and cannot be chosen.
    group, text, attrs = by_value[f"formation:{world.orphan['id']}"]
    assert "disabled" in attrs and "not shared with you" in text
    assert all(
        "disabled" not in a
        for v, (_, _, a) in by_value.items()
        if v != f"formation:{world.orphan['id']}"
    )
    # What bob may not see, or cannot launch, is not offered.
    assert f"formation:{world.private_formation['id']}" not in by_value
    assert f"image:{world.private_image['id']}" not in by_value
    # A local-process spawner runs no container image: an image with only a captured
    # environment is offered; a container spawner cannot launch it.
    assert f"image:{world.captured['id']}" in by_value
    container, _ = make_spawner(as_bob, ContainerSpawner)
    in_containers = {value for _, value, _, _ in parse_form(run(options_form(container))).options}
    assert f"image:{world.captured['id']}" not in in_containers
    # Groups in order, formations first.
    groups = [g for g, *_ in form.options if g]
    assert groups == sorted(groups, key=["Formations", "Images"].index)


@pytest.mark.slow
def test_options_form_escapes_names(as_bob, world):
    spawner, _ = make_spawner(as_bob)
    text = run(options_form(spawner))
    assert "<script>" not in text and 'alert("x")' not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    # No braces reach a template engine, no quote ends an attribute.
    assert "{" not in text and "}" not in text
    assert "&#123;&#123; 7*7 &#125;&#125; &amp; &#x27;co&#x27;" in text


@pytest.mark.slow
def test_options_form_preselects_the_previous_choice(as_bob, world):
    spawner, _ = make_spawner(as_bob)
    spawner.user_options = {"jupyter_share_choice": f"image:{world.caret['id']}"}
    form = parse_form(run(options_form(spawner)))
    selected = [value for _, value, _, attrs in form.options if "selected" in attrs]
    assert selected == [f"image:{world.caret['id']}"]


@pytest.mark.slow
def test_the_token_is_the_users_with_only_the_service_scope_and_reused(as_bob, world, monkeypatch):
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_NAME", "share-2")
    spawner, desk = make_spawner(as_bob)
    run(options_form(spawner))
    run(apply_user_options(spawner, {"jupyter_share_choice": f"image:{world.caret['id']}"}))
    profile = run(profile_list(spawner))
    assert len(profile) > 1
    assert desk.requests == [
        {
            "scopes": ["access:services!service=share-2"],
            "expires_in": 300,
            "note": "jupyter_share launch options",
        }
    ]
    # Another spawner (another server of the user) asks for its own.
    other, other_desk = make_spawner(as_bob)
    run(options_form(other))
    assert len(other_desk.requests) == 1
    # An old token is not reused.
    key, token, made = spawner._jupyter_share_token
    spawner._jupyter_share_token = (key, token, made - hooks.TOKEN_REUSE_SECONDS - 1)
    run(options_form(spawner))
    assert len(desk.requests) == 2


@pytest.mark.slow
def test_the_token_is_never_in_the_form_or_the_messages(as_bob, world, caplog):
    spawner, _ = make_spawner(as_bob)
    form = run(options_form(spawner))
    with pytest.raises(LaunchRefused) as refused:
        run(
            apply_user_options(
                spawner, {"jupyter_share_choice": f"formation:{world.private_formation['id']}"}
            )
        )
    assert as_bob.token not in form and as_bob.token not in str(refused.value)
    assert as_bob.token not in caplog.text


# -- apply_user_options ----------------------------------------------------------------------


@pytest.mark.slow
def test_apply_maps_a_formation_onto_the_spawner(as_bob, world):
    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    # As the form posts it (a list of one value) ...
    run(apply_user_options(spawner, {"jupyter_share_choice": [f"formation:{world.course['id']}"]}))
    # ... the formation's image id resolves to that image's reference.
    assert spawner.image == CARET
    assert spawner.cpu_limit == 4.0
    assert spawner.mem_limit == 1536 * 1024**2
    assert spawner.extra_resource_limits == {"nvidia.com/gpu": "1"}
    # start_url is taken literally, not as a format string of the Hub.
    assert spawner.format_string(spawner.default_url) == "/lab/tree/{username}"
    # The allow-list only: nothing that loads code or redirects traffic; what was left out is named.
    assert spawner.environment == {
        "CONFIGURED": "by the operator",
        "MY_COURSE": "stats",
        "OMP_NUM_THREADS": "4",
        "JUPYTER_SHARE_LAUNCHED_FROM": f"formation:{world.course['id']}",
        "JUPYTER_SHARE_IMAGE": CARET,
        "JUPYTER_SHARE_REFUSED_ENV": COURSE_REFUSED,
    }
    # The Hub's own variables cannot be overridden by a formation.
    env = base_env(spawner)
    assert env["MY_COURSE"] == "stats" and env["JUPYTER_SHARE_IMAGE"] == CARET
    assert "evil" not in env.get("JUPYTERHUB_API_URL", "")


@pytest.mark.slow
def test_the_owner_launching_her_own_formation_gets_the_allow_list_too(pair, world, monkeypatch):
    """An editor of alice's formation may have written its variables: they do not run in her
    server either (issue 11, item 13; decided in docs/decisions.md)."""
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_URL", api_url(pair["alice"]))
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_NAME", "share")
    spawner, _ = make_spawner(pair["alice"], ContainerSpawner)
    run(apply_user_options(spawner, {"jupyter_share_choice": f"formation:{world.course['id']}"}))
    assert not set(OWNERS_ONLY_ENV) & set(spawner.environment)
    assert spawner.environment["JUPYTER_SHARE_REFUSED_ENV"] == COURSE_REFUSED
    assert spawner.environment["MY_COURSE"] == "stats"
    # Hers or not, the Hub's and jupyter_share's own variables are not a formation's to set.
    assert "JUPYTERHUB_API_URL" not in spawner.environment
    assert spawner.environment["JUPYTER_SHARE_IMAGE"] == CARET


@pytest.mark.slow
def test_apply_from_the_rest_api_and_on_a_local_process_spawner(as_bob, world):
    spawner, _ = make_spawner(as_bob)
    # The REST API gives a string; a local-process spawner has no image to set.
    run(
        apply_user_options(
            spawner, {"jupyter_share_choice": f"formation:{world.by_reference['id']}"}
        )
    )
    assert not hasattr(spawner, "image")
    assert spawner.cpu_limit == 0.5 and spawner.mem_limit == 512 * 1024**2
    assert (
        spawner.environment["JUPYTER_SHARE_LAUNCHED_FROM"]
        == f"formation:{world.by_reference['id']}"
    )
    assert spawner.environment["JUPYTER_SHARE_IMAGE"] == PYTHON
    env = base_env(spawner)
    assert env["JUPYTER_SHARE_IMAGE"] == PYTHON and env["MEM_LIMIT"] == str(512 * 1024**2)


@pytest.mark.slow
def test_apply_an_image(as_bob, world):
    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    run(
        apply_user_options(
            spawner, options_from_form({"jupyter_share_choice": [f"image:{world.caret['id']}"]})
        )
    )
    assert spawner.image == CARET
    assert spawner.cpu_limit is None and spawner.mem_limit is None and spawner.default_url == ""
    assert spawner.environment == {
        "CONFIGURED": "by the operator",
        "JUPYTER_SHARE_LAUNCHED_FROM": f"image:{world.caret['id']}",
        "JUPYTER_SHARE_IMAGE": CARET,
    }


@pytest.mark.slow
def test_a_new_choice_undoes_the_previous_one(as_bob, world):
    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    run(apply_user_options(spawner, {"jupyter_share_choice": f"formation:{world.course['id']}"}))
    run(apply_user_options(spawner, {"jupyter_share_choice": f"image:{world.caret['id']}"}))
    assert spawner.cpu_limit is None and spawner.mem_limit is None and spawner.default_url == ""
    assert "MY_COURSE" not in spawner.environment
    for default in ({"jupyter_share_choice": ""}, {"jupyter_share_choice": [""]}, {}, None):
        run(
            apply_user_options(spawner, {"jupyter_share_choice": f"formation:{world.course['id']}"})
        )
        run(apply_user_options(spawner, default))
        assert spawner.image == "quay.io/jupyter/base-notebook:latest"
        assert spawner.environment == {"CONFIGURED": "by the operator"}
        assert spawner.cpu_limit is None and spawner.mem_limit is None
        assert spawner.default_url == "" and spawner.extra_resource_limits == {}


@pytest.mark.slow
def test_apply_uses_the_resource_as_it_is_now(pair, as_bob, world):
    """The form's values are never trusted: the choice is fetched again with bob's token."""
    alice = ShareClient(pair["alice"].url, pair["alice"].token)
    formation = alice.create_formation(unique("changing"), {"image": PYTHON, "cpu": 1})
    alice.share(formation, "bob")
    spawner, _ = make_spawner(as_bob)
    form = run(options_form(spawner))
    assert f"formation:{formation['id']}" in form
    alice.update(formation, spec={"image": CARET, "cpu": 8})
    run(apply_user_options(spawner, {"jupyter_share_choice": f"formation:{formation['id']}"}))
    assert spawner.cpu_limit == 8.0 and spawner.environment["JUPYTER_SHARE_IMAGE"] == CARET
    # Revoked: the very next launch is refused.
    alice.revoke(formation, "bob")
    with pytest.raises(LaunchRefused, match="not shared with you"):
        run(apply_user_options(spawner, {"jupyter_share_choice": f"formation:{formation['id']}"}))
    alice.delete(formation)
    alice.close()


@pytest.mark.slow
def test_apply_refuses_what_the_user_may_not_see(as_bob, world):
    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    for choice in (
        f"formation:{world.private_formation['id']}",
        f"image:{world.private_image['id']}",
        "image:0000000000000000",
    ):
        with pytest.raises(LaunchRefused) as refused:
            run(apply_user_options(spawner, {"jupyter_share_choice": choice}))
        assert isinstance(refused.value, web.HTTPError) and isinstance(refused.value, ValueError)
        assert refused.value.status_code == 400
        assert "does not exist or is not shared with you" in str(refused.value)
        # What JupyterHub shows on the spawn page.
        assert refused.value.jupyterhub_message == str(refused.value)
    assert spawner.image == "quay.io/jupyter/base-notebook:latest"
    assert spawner.environment == {"CONFIGURED": "by the operator"}


@pytest.mark.slow
def test_apply_refuses_a_formation_whose_image_is_not_shared(as_bob, world):
    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    with pytest.raises(
        LaunchRefused,
        match=f"uses the image {world.private_image['id']}, which is not shared with you; ask alice",
    ):
        run(
            apply_user_options(spawner, {"jupyter_share_choice": f"formation:{world.orphan['id']}"})
        )
    assert spawner.image == "quay.io/jupyter/base-notebook:latest"


@pytest.mark.slow
def test_apply_refuses_an_image_without_a_reference_to_a_container_spawner(as_bob, world):
    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    with pytest.raises(LaunchRefused, match="no container image reference"):
        run(apply_user_options(spawner, {"jupyter_share_choice": f"image:{world.captured['id']}"}))
    # A local-process spawner launches it: there is no image to set, the choice is recorded.
    local, _ = make_spawner(as_bob)
    run(apply_user_options(local, {"jupyter_share_choice": f"image:{world.captured['id']}"}))
    assert local.environment["JUPYTER_SHARE_LAUNCHED_FROM"] == f"image:{world.captured['id']}"


@pytest.mark.parametrize(
    "value",
    [
        "bogus",
        "formation:",
        "image:",
        ":abc",
        "session:abcdef0123456789",
        "formation:../../images/x",
        "formation:a/b",
        "formation:" + "a" * 200,
        ["formation:abc", "image:def"],
        42,
        {"kind": "formation"},
        [42],
    ],
)
@pytest.mark.slow
def test_apply_refuses_a_malformed_choice(as_bob, value):
    spawner, desk = make_spawner(as_bob)
    with pytest.raises(LaunchRefused) as refused:
        run(apply_user_options(spawner, {"jupyter_share_choice": value}))
    assert refused.value.status_code == 400
    assert "jupyter_share_choice" in str(refused.value) or "choose one" in str(refused.value)
    assert desk.requests == []  # refused before asking for a token


@pytest.mark.slow
def test_apply_refuses_options_that_are_not_an_object(as_bob):
    spawner, _ = make_spawner(as_bob)
    with pytest.raises(LaunchRefused, match="must be an object"):
        run(apply_user_options(spawner, ["formation:abc"]))


@pytest.mark.slow
def test_service_down_gives_a_clear_message(pair, world, monkeypatch):
    url = f"http://127.0.0.1:{refusing_port()}/services/share/api/v1/"
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_URL", url)
    monkeypatch.setenv("JUPYTER_SHARE_SERVICE_NAME", "share")
    spawner, _ = make_spawner(pair["bob"], ContainerSpawner)
    with pytest.raises(LaunchRefused) as refused:
        run(
            apply_user_options(spawner, {"jupyter_share_choice": f"formation:{world.course['id']}"})
        )
    assert refused.value.status_code == 503
    message = str(refused.value)
    assert message.startswith("cannot reach the share service to look up the formation")
    assert (
        f"127.0.0.1:{url.split(':')[2].split('/')[0]}" in message
        and "Default environment" in message
    )
    # The listing hooks still offer the default, and say why there is nothing else.
    form = parse_form(run(options_form(spawner)))
    assert [o[1] for o in form.options] == [""]
    text = run(options_form(spawner))
    assert "not available right now: cannot reach the share service" in text
    profiles = run(profile_list(spawner))
    assert [p["slug"] for p in profiles] == ["default"]
    assert "cannot reach the share service" in profiles[0]["description"]
    assert allowed_images(spawner) == {
        "Default environment": "quay.io/jupyter/base-notebook:latest"
    }
    # The default environment needs no service.
    run(apply_user_options(spawner, {"jupyter_share_choice": ""}))


@pytest.mark.slow
def test_not_configured_says_so(pair, world, monkeypatch):
    monkeypatch.delenv("JUPYTER_SHARE_SERVICE_URL", raising=False)
    spawner, _ = make_spawner(pair["bob"])
    with pytest.raises(LaunchRefused, match="JUPYTER_SHARE_SERVICE_URL is not set"):
        run(
            apply_user_options(spawner, {"jupyter_share_choice": f"formation:{world.course['id']}"})
        )
    assert "JUPYTER_SHARE_SERVICE_URL is not set" in run(options_form(spawner))
    # The name comes from the URL when only the URL is set.
    monkeypatch.setenv(
        "JUPYTER_SHARE_SERVICE_URL", "http://127.0.0.1:10101/services/share-x/api/v1/"
    )
    monkeypatch.delenv("JUPYTER_SHARE_SERVICE_NAME", raising=False)
    assert hooks._service() == ("http://127.0.0.1:10101/services/share-x/api/v1/", "share-x")


@pytest.mark.slow
def test_a_token_the_hub_will_not_make_or_the_service_refuses(as_bob, world):
    spawner, _ = make_spawner(
        as_bob, token=ValueError("Not assigning requested scopes access:services!service=share")
    )
    with pytest.raises(
        LaunchRefused, match="cannot give bob access to the share service 'share'"
    ) as refused:
        run(
            apply_user_options(spawner, {"jupyter_share_choice": f"formation:{world.course['id']}"})
        )
    assert refused.value.status_code == 403
    spawner, _ = make_spawner(as_bob, token="not-a-token")
    with pytest.raises(LaunchRefused, match="refused your access") as refused:
        run(
            apply_user_options(spawner, {"jupyter_share_choice": f"formation:{world.course['id']}"})
        )
    assert refused.value.status_code == 403


# -- profile_list (KubeSpawner) ----------------------------------------------------------------


@pytest.mark.slow
def test_profile_list_for_kubespawner(as_bob, world):
    spawner, _ = make_spawner(as_bob)
    profiles = run(profile_list(spawner))
    by_slug = {p["slug"]: p for p in profiles}
    assert len(by_slug) == len(profiles)
    for profile in profiles:
        assert set(profile) <= {
            "display_name",
            "slug",
            "description",
            "default",
            "kubespawner_override",
        }
        assert isinstance(profile["display_name"], str) and isinstance(
            profile["kubespawner_override"], dict
        )
    default = profiles[0]
    assert default["slug"] == "default" and default["default"] is True
    assert [p for p in profiles if p.get("default")] == [default]
    assert default["display_name"] == "Default environment"

    course = by_slug[f"formation-{world.course['id']}"]
    assert course["display_name"] == f"Formation: {world.course['name']}, from alice"
    assert course["kubespawner_override"] == {
        "image": CARET,
        "cpu_limit": 4.0,
        "mem_limit": 1536 * 1024**2,
        "extra_resource_limits": {"nvidia.com/gpu": "1"},
        "default_url": "/lab/tree/{{username}}",
        "environment": {
            "MY_COURSE": "stats",
            "OMP_NUM_THREADS": "4",
            "JUPYTER_SHARE_LAUNCHED_FROM": f"formation:{world.course['id']}",
            "JUPYTER_SHARE_IMAGE": CARET,
            "JUPYTER_SHARE_REFUSED_ENV": COURSE_REFUSED,
        },
    }
    assert CARET in course["description"]

    caret = by_slug[f"image-{world.caret['id']}"]
    assert caret["display_name"] == f"Image: {world.caret['name']}, from alice"
    assert caret["description"].startswith("R and caret · ")
    assert caret["kubespawner_override"] == {
        "image": CARET,
        "environment": {
            "JUPYTER_SHARE_LAUNCHED_FROM": f"image:{world.caret['id']}",
            "JUPYTER_SHARE_IMAGE": CARET,
        },
    }
    # KubeSpawner's template does not escape: the hook does.
    script = by_slug[f"image-{world.script['id']}"]
    assert script["display_name"] == "Image: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert "{" not in by_slug[f"formation-{world.braces['id']}"]["display_name"]
    # Not launchable or not visible: not offered.
    for hidden in (
        f"formation-{world.orphan['id']}",
        f"formation-{world.private_formation['id']}",
        f"image-{world.private_image['id']}",
        f"image-{world.captured['id']}",
    ):
        assert hidden not in by_slug


# -- allowed_images (DockerSpawner) ------------------------------------------------------------


@pytest.mark.slow
def test_allowed_images_for_dockerspawner(as_bob, world):
    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    images = allowed_images(spawner)
    assert isinstance(images, dict)
    assert list(images.items())[0] == (
        "Default environment",
        "quay.io/jupyter/base-notebook:latest",
    )
    assert images[f"Formation {world.course['name']}, from alice"] == CARET
    assert images[f"Formation {world.by_reference['name']}, from alice"] == PYTHON
    assert images[f"Image {world.caret['name']}, from alice"] == CARET
    # DockerSpawner puts keys in its form unescaped and matches the posted key: nothing in a
    # key that HTML would change.
    assert images["Image _script_alert(_x_)_/script_"] == "registry.example.org/bob/x:1"
    assert not any(c in key for key in images for c in "<>&\"'{}")
    assert set(images.values()) == {
        "quay.io/jupyter/base-notebook:latest",
        CARET,
        PYTHON,
        "registry.example.org/bob/x:1",
    }
    assert "quay.io/alice/secret:1" not in images.values()


@pytest.mark.slow
def test_allowed_images_disambiguates_equal_names(pair, as_bob):
    alice = ShareClient(pair["alice"].url, pair["alice"].token)
    bob = ShareClient(pair["bob"].url, pair["bob"].token)
    name = unique("twin")
    theirs = alice.create_image(name, spec={"reference": "quay.io/alice/twin:1"})
    alice.share(theirs, "bob")
    mine = bob.create_image(f"{name}, from alice", spec={"reference": "quay.io/bob/twin:1"})
    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    images = allowed_images(spawner)
    twins = {k: v for k, v in images.items() if name in k}
    assert sorted(twins.values()) == ["quay.io/alice/twin:1", "quay.io/bob/twin:1"]
    assert len(twins) == 2
    alice.delete(theirs)
    bob.delete(mine)
    alice.close()
    bob.close()


# -- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "memory, expected",
    [
        ("512M", 512 * 1024**2),
        ("4G", 4 * 1024**3),
        ("1.5Gi", 1536 * 1024**2),
        ("2Ki", 2048),
        ("1T", 1024**4),
        ("1073741824", 1024**3),
        ("0.5M", 512 * 1024),
    ],
)
def test_memory_is_in_bytes_as_mem_limit_reads_it(memory, expected):
    assert memory_bytes(memory) == expected
    # The same as JupyterHub's own reading, where it has one.
    if memory[-1] in "KMGT":
        spawner = LocalProcessSpawner(user=SimpleNamespace(name="x"))
        spawner.mem_limit = memory
        assert spawner.mem_limit == expected


@pytest.mark.parametrize("memory", ["", "4 G", "4GB", "-1G", "1e9", None, 4])
def test_memory_refuses_what_is_not_a_size(memory):
    with pytest.raises(LaunchRefused, match="not a size"):
        memory_bytes(memory)


def test_options_from_form_unpacks_single_values():
    assert options_from_form({"jupyter_share_choice": ["image:abc"]}) == {
        "jupyter_share_choice": "image:abc"
    }
    assert options_from_form({"jupyter_share_choice": ["a", "b"]}) == {
        "jupyter_share_choice": ["a", "b"]
    }
    assert options_from_form({}) == {}


# -- through JupyterHub's own Spawner machinery --------------------------------------------------


@pytest.mark.slow
def test_the_hooks_as_jupyterhub_calls_them(as_bob, world):
    """Configured as traits, called by the Spawner methods the Hub calls: the form is
    rendered, form data becomes user_options, and a refusal reaches the spawn page with its
    own message rather than JupyterHub's generic "Invalid user options"."""
    from jupyterhub.utils import format_exception

    spawner, _ = make_spawner(as_bob, ContainerSpawner)
    spawner.options_form = options_form
    spawner.apply_user_options = apply_user_options

    async def scenario():
        form = await spawner.get_options_form()
        assert f'value="formation:{world.course["id"]}"' in form
        user_options = spawner.run_options_from_form(
            {"jupyter_share_choice": [f"formation:{world.course['id']}"]}
        )
        await spawner._run_apply_user_options(user_options)
        assert spawner.image == CARET and spawner.cpu_limit == 4.0
        with pytest.raises(web.HTTPError) as refused:
            await spawner._run_apply_user_options(
                {"jupyter_share_choice": f"formation:{world.private_formation['id']}"}
            )
        return refused.value

    error = run(scenario())
    assert error.status_code == 400
    message, _ = format_exception(error)
    assert (
        message
        == f"the formation {world.private_formation['id']} does not exist or is not shared with you"
    )
    # The spawner is back to its defaults after a refusal.
    assert spawner.image == "quay.io/jupyter/base-notebook:latest"
