"""The notebook panels on real servers: set the inputs, click, and check both what the server
now holds and what the panel says. No kernel is needed to build ipywidgets; the panels talk to
real `jupyter server` processes of alice, bob and carol on one store."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone

import httpx
import pytest

from jupyter_share.client import ShareClient
from jupyter_share.directory import LoginAccounts
from jupyter_share.widgets import GrantRow, ImagePanel, SharedWithMe, SharePanel

from .servers import free_port, refusing_port, running_servers

# Starts real servers of alice, bob and carol.
pytestmark = pytest.mark.slow

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    """Servers of alice, bob and carol on one store; bob and carol are in class-2026."""
    workdir = tmp_path_factory.mktemp("widgets")
    with running_servers(
        ["alice", "bob", "carol"],
        f"sqlite:///{workdir / 'share.db'}",
        workdir,
        groups={"class-2026": ["bob", "carol"]},
    ) as servers:
        yield servers


@pytest.fixture
def alice(trio):
    return ShareClient(trio["alice"].url, trio["alice"].token)


@pytest.fixture
def bob(trio):
    return ShareClient(trio["bob"].url, trio["bob"].token)


@pytest.fixture
def container(trio):
    """alice's container, with no grants left over from another test."""
    server = trio["alice"]
    for grant in server.get("/sessions/current/grants").json()["items"]:
        server.delete(f"/sessions/current/grants/{grant['principal']}")
    return server


def unique(name: str) -> str:
    return f"{name}-{os.urandom(3).hex()}"


def server_grants(server, path: str = "sessions/current") -> dict:
    """principal -> (permission, expires_at), as the server holds them."""
    r = server.get(f"/{path}/grants")
    assert r.status_code == 200, r.text
    return {g["principal"]: (g["permission"], g["expires_at"]) for g in r.json()["items"]}


def rows(panel: SharePanel) -> dict:
    return {
        row.grant["principal"]: row
        for row in panel.grants_box.children
        if isinstance(row, GrantRow)
    }


# -- SharePanel ------------------------------------------------------------------------------


def test_share_this_container_with_bob_in_three_steps(container, alice):
    panel = SharePanel(client=alice)
    session = container.get("/sessions/current").json()
    assert session["name"] in panel.title.value and "Share container" in panel.title.value
    assert "not shared" in panel.grants_box.children[0].value
    # The picker offers the neighbours and groups, never alice herself.
    assert "bob" in panel.principal_input.options and "alice" not in panel.principal_input.options
    assert "group:class-2026" in panel.principal_input.options

    panel.principal_input.value = "bob"
    panel.permission_input.value = "view"
    panel.share_button.click()

    assert panel.status_text == "Shared with bob (view)"
    assert server_grants(container) == {"user:bob": ("view", None)}
    assert list(rows(panel)) == ["user:bob"]
    row = rows(panel)["user:bob"]
    assert [child.value for child in row.children[:3]] == ["bob", "view", "no expiry"]
    # The inputs are ready for the next share, with the least power.
    assert panel.principal_input.value == "" and panel.permission_input.value == "view"

    # The neighbour's personal link is shown, and it is real: it signs bob in.
    assert panel.personal_link.layout.display is None
    link = panel.personal_link.value.split('href="')[1].split('"')[0]
    assert link.startswith(container.url + "jupyter-share/link/")
    opened = httpx.get(link, follow_redirects=False)
    assert opened.status_code == 302, opened.text
    # ... and never lands in the static fallback of a saved notebook.
    bundle = panel._repr_mimebundle_()
    assert link not in bundle["text/html"] and link not in bundle["text/plain"]


def test_unknown_user_shows_the_servers_hint_and_shares_nothing(container, alice):
    panel = SharePanel(client=alice)
    panel.principal_input.value = "bobb"
    panel.share_button.click()
    assert panel.status_text == "unknown user 'bobb', did you mean 'bob'?"
    assert "jp-error-color1" in panel.status.value
    assert server_grants(container) == {}
    # What was typed stays, to be corrected.
    assert panel.principal_input.value == "bobb"


@pytest.mark.parametrize(
    "typed,message",
    [
        ("", "Type the name of a user (or group:NAME) to share with."),
        ("   ", "Type the name of a user (or group:NAME) to share with."),
        ("bob smith", "malformed principal 'bob smith': not a valid name"),
        ("team:x", "malformed principal 'team:x': the prefix must be 'user:' or 'group:'"),
        ("group:nobody", "unknown group 'nobody'"),
        ("alice", "alice owns this container: owners hold every right already"),
        ("<b>x</b>", "malformed principal '<b>x</b>': not a valid name"),
        ("a/../../x", "malformed principal 'a/../../x': not a valid name"),
    ],
)
def test_bad_input_never_raises_and_lands_in_status(container, alice, typed, message):
    panel = SharePanel(client=alice)
    panel.principal_input.value = typed
    panel.share_button.click()
    assert panel.status_text == message
    assert server_grants(container) == {}
    # The server's words are shown as text, never as markup.
    assert "<b>" not in panel.status.value


def test_change_permission_with_expiry_then_revoke(container, alice):
    panel = SharePanel(client=alice)
    panel.principal_input.value = "carol"
    panel.share_button.click()
    assert panel.status_text == "Shared with carol (view)"

    day = date.today() + timedelta(days=3)
    panel.principal_input.value = "carol"
    panel.permission_input.value = "edit"
    panel.expiry_input.value = day
    panel.share_button.click()
    # "until D" runs through day D: the grant ends at the next local midnight.
    ends = datetime.combine(day + timedelta(days=1), time()).astimezone().astimezone(timezone.utc)
    permission, expires_at = server_grants(container)["user:carol"]
    assert permission == "edit"
    assert datetime.fromisoformat(expires_at.replace("Z", "+00:00")) == ends
    assert panel.status_text == f"carol now has edit (was view), expires {ends:%Y-%m-%d %H:%M} UTC"
    assert rows(panel)["user:carol"].children[2].value == f"expires {ends:%Y-%m-%d %H:%M} UTC"

    panel.principal_input.value = "group:class-2026"
    panel.permission_input.value = "manage"
    panel.share_button.click()
    assert panel.status_text == "Shared with group class-2026 (manage)"
    assert set(rows(panel)) == {"user:carol", "group:class-2026"}
    # Only user grants of a container have a personal link to replace.
    assert rows(panel)["user:carol"].link_button is not None
    assert rows(panel)["group:class-2026"].link_button is None

    rows(panel)["user:carol"].revoke_button.click()
    assert panel.status_text == "Revoked carol (edit)"
    assert set(server_grants(container)) == {"group:class-2026"}
    assert set(rows(panel)) == {"group:class-2026"}


def test_a_new_link_replaces_the_old_one(container, alice):
    panel = SharePanel(client=alice)
    panel.principal_input.value = "bob"
    panel.share_button.click()
    first = panel.personal_link.value.split('href="')[1].split('"')[0]
    rows(panel)["user:bob"].link_button.click()
    assert panel.status_text == "New personal link for bob; the old one no longer works"
    second = panel.personal_link.value.split('href="')[1].split('"')[0]
    assert second != first
    assert httpx.get(first, follow_redirects=False).status_code == 403
    assert httpx.get(second, follow_redirects=False).status_code == 302
    # Refresh hides the secret.
    panel.refresh_button.click()
    assert panel.personal_link.layout.display == "none" and panel.personal_link.value == ""


def test_completion_from_the_directory(container, alice):
    panel = SharePanel(client=alice)
    logins = set(LoginAccounts().names())  # this machine's accounts are offered too

    def options():
        return [o for o in panel.principal_input.options if o.removeprefix("user:") not in logins]

    panel.principal_input.value = "b"
    assert options() == ["bob"]
    panel.principal_input.value = "c"
    assert options() == ["carol", "group:class-2026"]
    panel.principal_input.value = "group:"
    assert options() == ["group:class-2026"]
    panel.principal_input.value = "user:c"
    assert options() == ["carol"]
    panel.principal_input.value = "zz"
    assert list(panel.principal_input.options) == []


def test_an_image_panel_for_a_neighbour_with_view_or_manage(trio, alice, bob):
    image = alice.create_image(unique("CARET"), spec={"reference": "quay.io/lab/caret:2026.1"})
    alice.share(image, "bob", "view")
    seen = SharePanel(image, client=bob)
    assert "owned by alice" in seen.title.value
    assert seen.share_button.disabled and seen.principal_input.disabled
    assert "need 'manage'" in seen.grants_box.children[0].value
    assert seen.status_text == ""

    alice.share(image, "bob", "manage")
    seen.refresh()
    assert not seen.share_button.disabled
    seen.principal_input.value = "carol"
    seen.share_button.click()
    assert seen.status_text == "Shared with carol (view)"
    assert server_grants(trio["alice"], f"images/{image['id']}")["user:carol"] == ("view", None)
    # No personal links for images.
    assert seen.personal_link.layout.display == "none"
    assert all(row.link_button is None for row in rows(seen).values())
    # The owner is not offered to share with.
    seen.principal_input.value = "a"
    assert "alice" not in seen.principal_input.options


def test_missing_resources_and_a_dead_server_land_in_status(alice):
    missing = SharePanel("images/0123456789abcdef", client=alice)
    assert missing.status_text == "no image '0123456789abcdef'"
    assert missing.share_button.disabled
    missing.principal_input.value = "bob"
    missing.share_button.click()  # must not raise
    assert missing.status_text == "no image '0123456789abcdef'"

    bad_reference = SharePanel("volumes/1", client=alice)
    assert "is not 'images/ID'" in bad_reference.status_text

    dead = SharePanel(client=ShareClient(f"http://127.0.0.1:{refusing_port()}/", token="t"))
    assert dead.status_text.startswith("cannot reach the Jupyter server at http://127.0.0.1:")
    dead.principal_input.value = "bob"
    dead.share_button.click()
    dead.refresh_button.click()
    assert dead.status_text.startswith("cannot reach the Jupyter server")
    assert "not loaded" in dead._repr_mimebundle_()["text/plain"]


def test_static_fallback_of_a_share_panel(container, alice):
    alice.share("sessions/current", "bob", "edit")
    alice.share("sessions/current", "group:class-2026", "view")
    panel = SharePanel(client=alice)
    bundle = panel._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == panel.model_id
    name = container.get("/sessions/current").json()["name"]
    head, *lines = bundle["text/plain"].splitlines()
    assert head == f"SharePanel: container '{name}' of alice"
    assert sorted(lines) == ["  bob: edit, no expiry", "  group class-2026: view, no expiry"]
    html = bundle["text/html"]
    assert "<td>bob</td><td>edit</td>" in html and "<td>group class-2026</td><td>view</td>" in html
    assert "run it again to use the panel" in html


# -- SharedWithMe ----------------------------------------------------------------------------


def test_shared_with_me_lists_by_kind_with_actions(trio, container, alice):
    carol = ShareClient(trio["carol"].url, trio["carol"].token)
    before = {r["id"] for r in carol.shared_with_me()}
    image = alice.create_image(unique("CARET"), capture=True, description="R and caret")
    plain = alice.create_image(
        unique("python"), spec={"reference": "docker.io/library/python:3.12"}
    )
    formation = alice.create_formation(
        unique("gpu-small"), {"image": image["id"], "cpu": 4, "memory": "16G", "gpu": 1}
    )
    expires = (datetime.now(timezone.utc) + timedelta(days=5)).replace(microsecond=0)
    alice.share(image, "carol", "view", expires_at=expires)
    alice.share(plain, "carol")
    alice.share(formation, "group:class-2026", "view")
    alice.share("sessions/current", "carol", "edit")

    panel = SharedWithMe(client=carol)
    new = {row.resource["id"]: row for row in panel.rows if row.resource["id"] not in before}
    assert set(new) == {
        image["id"],
        plain["id"],
        formation["id"],
        container.get("/sessions/current").json()["id"],
    }
    # Grouped by kind: Images, Formations, Containers, each a heading and a grid.
    assert list(panel.headings) == ["image", "formation", "session"]
    assert [h.value.split("</b>")[0] for h in panel.headings.values()] == [
        "<b>Images",
        "<b>Formations",
        "<b>Containers",
    ]

    image_row = new[image["id"]]
    assert [c.value for c in image_row.cells[1:4]] == [
        "alice",
        "view",
        f"expires {expires:%Y-%m-%d %H:%M} UTC",
    ]
    assert set(image_row.buttons) == {
        "spec",
        "use",
        "requirements",
        "conda",
        "ask",
    }  # ask: for edit (view held); use: build a kernel here (test_use_image.py)
    assert set(new[plain["id"]].buttons) == {"spec", "ask"}  # nothing captured, nothing to download

    image_row.buttons["spec"].click()
    assert (
        "<th style='text-align: left'>packages</th>" in panel.detail.value
        and panel.detail.layout.display is None
    )
    new[plain["id"]].buttons["spec"].click()
    assert "docker.io/library/python:3.12" in panel.detail.value

    image_row.buttons["requirements"].click()
    assert f"httpx=={httpx.__version__}" in panel.detail.value
    assert 'download="requirements.txt"' in panel.detail.value
    assert panel.status_text.startswith(f"requirements.txt of {image['name']}: ")
    image_row.buttons["conda"].click()
    assert (
        "dependencies:" in panel.detail.value and 'download="environment.yml"' in panel.detail.value
    )

    new[formation["id"]].buttons["template"].click()
    detail = panel.detail.value
    assert (
        f"{image['name']} ({image['id']})" in detail
        and "<td>16G</td>" in detail
        and "<td>4</td>" in detail
    )

    session_row = next(row for rid, row in new.items() if row.resource["kind"] == "session")
    assert f'href="{container.url}"' in session_row.open_link.value
    assert session_row.cells[2].value == "edit"

    # alice deletes the image while carol's list still shows it: the click reports, never raises.
    alice.delete(image)
    image_row.buttons["requirements"].click()
    assert panel.status_text == f"no image '{image['id']}'"
    panel.refresh_button.click()
    assert image["id"] not in {row.resource["id"] for row in panel.rows}
    assert panel.status_text == f"{len(panel.items)} shared with you"
    assert panel.detail.layout.display == "none"

    html = panel._repr_mimebundle_()["text/html"]
    assert f"<td>formation</td><td>{formation['name']}</td><td>alice</td><td>view</td>" in html


def test_shared_with_me_of_one_kind_and_of_nothing(trio, alice):
    image = alice.create_image(unique("CARET"), spec={"reference": "python:3.12"})
    formation = alice.create_formation(unique("small"), {"image": image["id"], "cpu": 1})
    alice.share(image, "carol")
    alice.share(formation, "carol")
    formations_only = SharedWithMe(
        client=ShareClient(trio["carol"].url, trio["carol"].token), kind="formations"
    )
    ids = {row.resource["id"] for row in formations_only.rows}
    assert formation["id"] in ids and image["id"] not in ids
    assert {row.resource["kind"] for row in formations_only.rows} == {"formation"}
    assert "Shared with me: formations" in formations_only.children[0].children[0].value

    # alice has been shared nothing.
    empty = SharedWithMe(client=alice)
    assert empty.rows == []
    assert "Nothing is shared with you yet" in empty.sections_box.children[0].value
    assert empty._repr_mimebundle_()["text/plain"] == "SharedWithMe: nothing shared"

    dead = SharedWithMe(client=ShareClient(f"http://127.0.0.1:{refusing_port()}/", token="t"))
    assert dead.status_text.startswith("cannot reach the Jupyter server")
    dead.refresh_button.click()
    assert dead.status_text.startswith("cannot reach the Jupyter server")
    # A saved notebook says it could not load, not that nothing was shared.
    assert dead._repr_mimebundle_()["text/plain"].startswith(
        "SharedWithMe: could not load: cannot reach the Jupyter server"
    )


# -- ImagePanel ------------------------------------------------------------------------------


def test_image_panel_creates_then_offers_its_share_panel(trio, alice):
    panel = ImagePanel(client=alice)
    panel.create_button.click()
    assert panel.status_text == "Give the image a name first."
    assert panel.share_panel is None

    name = unique("CARET")
    panel.name_input.value = name
    panel.description_input.value = "R and caret, for the course"
    panel.create_button.click()
    assert panel.image is not None and panel.image["name"] == name
    stored = trio["alice"].get(f"/images/{panel.image['id']}").json()
    assert stored["description"] == "R and caret, for the course"
    packages = len(stored["spec"]["environment"]["packages"])
    assert (
        panel.status_text
        == f"Created image {name}, with this container's environment ({packages} packages). Share it below."
    )
    assert panel.share_box.children == (panel.share_panel, panel.use)
    # This checkout is installed in editable mode: no index has it, so its image is refused
    # here by name before anything is built.
    panel.use.use_button.click()
    assert "installed from a local path" in panel.use.status_text
    assert "jupyter" in panel.use.status_text.split(":")[-1]
    assert panel.use.environment is None

    panel.share_panel.principal_input.value = "bob"
    panel.share_panel.share_button.click()
    assert panel.share_panel.status_text == "Shared with bob (view)"
    assert server_grants(trio["alice"], f"images/{panel.image['id']}") == {
        "user:bob": ("view", None)
    }
    assert name in panel._repr_mimebundle_()["text/html"]

    # The same name again is the server's conflict, in the status line.
    first = panel.image
    panel.create_button.click()
    assert "already" in panel.status_text and name in panel.status_text
    assert panel.image == first

    # Without capture, an image needs a reference: the server says so.
    panel.name_input.value = unique("bare")
    panel.capture_input.value = False
    panel.create_button.click()
    assert panel.image == first and "reference" in panel.status_text

    panel.reference_input.value = "quay.io/lab/bare:1"
    panel.create_button.click()
    assert panel.image["spec"] == {"reference": "quay.io/lab/bare:1"}
    assert panel.status_text == f"Created image {panel.image['name']}. Share it below."


# -- WhoIsIn (issue 15: presence in the widgets) -----------------------------------------------


def test_who_is_in_lists_a_guest_and_revokes_him(container, alice):
    """bob opens his personal link: WhoIsIn (and SharePanel of the container) shows him with
    his permission and address; View only lowers him, Revoke ends his access."""
    from jupyter_share.widgets import GuestRow, WhoIsIn

    panel = WhoIsIn(client=alice)
    assert "Nobody is in this container now" in panel.guests_box.children[0].value
    link = container.put("/sessions/current/grants/bob", {"permission": "edit"}).json()["link"]
    guest = httpx.Client(timeout=30)
    assert guest.get(link).status_code == 302
    panel.refresh_button.click()
    (row,) = [r for r in panel.guests_box.children if isinstance(r, GuestRow)]
    assert row.guest["username"] == "bob" and row.guest["permission"] == "edit"
    assert "127.0.0.1" in row.children[0].value and "in now" in row.children[0].value
    assert "bob (edit), in now" in panel.summary_text()

    share_panel = SharePanel(client=alice)
    assert [
        r.guest["username"] for r in share_panel.guests_box.children if isinstance(r, GuestRow)
    ] == ["bob"]

    row.lower_button.click()
    assert "bob now has view" in panel.status_text
    assert server_grants(container)["user:bob"][0] == "view"
    (row,) = [r for r in panel.guests_box.children if isinstance(r, GuestRow)]
    assert row.lower_button is None  # view already
    row.revoke_button.click()
    assert "Revoked bob (view)" in panel.status_text
    assert "user:bob" not in server_grants(container)
    assert not [r for r in panel.guests_box.children if isinstance(r, GuestRow)]
    # A revoked guest's next request is refused: the link signed him in, nothing more.
    assert guest.get(f"{container.url}jupyter-share/api/v1/me").status_code in (401, 403)
