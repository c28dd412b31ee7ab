"""Sharing the container for real (standalone): personal links, the guest permission matrix
over every surface of jupyter_server and JupyterLab, instant revocation, and bad links."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import websocket

from .servers import start_servers

# Starts real servers and guests' browsers (HTTP).
pytestmark = pytest.mark.slow

XSRF = "2|deadbeef|00112233445566778899aabbccddeeff|1700000000"
ROLES = ["owner", "view", "edit", "manage", "revoked", "expired", "stranger"]
GUEST_OF = {"view": "bob", "edit": "carol", "manage": "dave", "revoked": "erin", "expired": "frank"}


class Guest:
    """A browser of a neighbour: cookies, the XSRF double-submit, websockets."""

    def __init__(self, server, link=None):
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)
        self.http.cookies.set("_xsrf", XSRF, domain="127.0.0.1")
        if link:
            r = self.http.get(link)
            assert r.status_code == 302, r.text
            assert r.headers["location"] in ("/", "/lab"), r.headers["location"]  # the default page

    def request(self, method, path, body=None):
        headers = {"X-XSRFToken": XSRF}
        content = json.dumps(body) if body is not None else None
        return self.http.request(method, path, content=content, headers=headers)

    def websocket(self, path):
        cookies = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        return websocket.create_connection(
            f"ws://127.0.0.1:{self.server.port}/{path}",
            cookie=cookies,
            origin=f"http://127.0.0.1:{self.server.port}",
            timeout=10,
        )


class Owner(Guest):
    """alice herself, with her token."""

    def __init__(self, server):
        super().__init__(server)
        self.http.headers["Authorization"] = f"token {server.token}"

    def websocket(self, path):
        return websocket.create_connection(
            f"ws://127.0.0.1:{self.server.port}/{path}",
            header=[f"Authorization: token {self.server.token}"],
            timeout=10,
        )


def execute(ws, code="6 * 7", timeout=10.0):
    """Run code on a kernel's channels websocket; return the text result."""
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": uuid.uuid4().hex,
                    "username": "",
                    "version": "5.3",
                    "date": datetime.now(timezone.utc).isoformat(),
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    deadline = time.monotonic() + timeout
    ws.settimeout(timeout)
    while time.monotonic() < deadline:
        msg = json.loads(ws.recv())
        if (
            msg.get("parent_header", {}).get("msg_id") == msg_id
            and msg["msg_type"] == "execute_result"
        ):
            return msg["content"]["data"]["text/plain"]
    raise AssertionError("no execute_result")


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    """alice's server (with JupyterLab's handlers) and links for bob (view), carol (edit),
    dave (manage), erin (revoked after signing in) and frank (expired after signing in)."""
    work = tmp_path_factory.mktemp("container")
    servers = start_servers(
        ["alice"],
        f"sqlite:///{work / 'share.db'}",
        work,
        users=["bob", "carol", "dave", "erin", "frank", "gina", "ivy"],
        extra_args=["--ShareApp.guest_check_interval=0.25"],
    )
    alice = servers["alice"]
    (alice.root / "notes.txt").write_text("alice's notes\n")
    owner = Owner(alice)
    browsers = {"owner": owner}
    links = {}
    for role, user in GUEST_OF.items():
        body = {
            "permission": {"view": "view", "edit": "edit", "manage": "manage"}.get(role, "edit")
        }
        if role == "expired":
            body["expires_at"] = (datetime.now(timezone.utc) + timedelta(seconds=3)).isoformat()
        r = alice.put(f"/sessions/current/grants/{user}", body)
        assert r.status_code == 201, r.text
        links[role] = r.json()["link"]
        browsers[role] = Guest(alice, links[role])
    assert alice.delete("/sessions/current/grants/erin").status_code == 204
    browsers["stranger"] = Guest(alice)
    time.sleep(max(0.0, 3.2 - 0.0))  # frank's grant runs out
    yield {"server": alice, "owner": owner, "browsers": browsers, "links": links, "work": work}
    alice.stop()


def status(container, role, method, path, body=None):
    return container["browsers"][role].request(method, path, body).status_code


ALLOWED = {  # surface -> roles that may use it; every other role is refused (401/403)
    "read a file": {"owner", "view", "edit", "manage"},
    "list a directory": {"owner", "view", "edit", "manage"},
    "write a file": {"owner", "edit", "manage"},
    "delete a file": {"owner", "edit", "manage"},
    "list kernels": {"owner", "view", "edit", "manage"},
    "start a kernel": {"owner", "edit", "manage"},
    "list sessions": {"owner", "view", "edit", "manage"},
    "start a session": {"owner", "edit", "manage"},
    "list kernelspecs": {"owner", "view", "edit", "manage"},
    "list terminals": {"owner", "view", "edit", "manage"},
    "open a terminal": {"owner", "edit", "manage"},
    "read frontend config": {"owner", "view", "edit", "manage"},
    "change frontend config": {"owner"},
    "read lab settings": {"owner", "view", "edit", "manage"},
    "change lab settings": {"owner"},
    "read lab workspaces": {"owner", "view", "edit", "manage"},
    "save a lab workspace": {"owner"},
    "save the guest's own lab workspace": {"owner", "view", "edit", "manage"},
    "server status": {"owner", "view", "edit", "manage"},
    "share API: me": {"owner", "view", "edit", "manage"},
    "share API: shared with me": {"owner", "view", "edit", "manage"},
    "share API: images": {"owner"},
    "share API: the container's grants": {"owner", "manage"},
    "share API: share the container": {"owner", "manage"},
}


def surface_request(surface, role):
    n = f"{role}-{uuid.uuid4().hex[:6]}"
    own = f"jupyter-share-guest-{GUEST_OF.get(role, 'nobody')}"  # a guest's layout (guests.guest_workspace)
    return {
        "read a file": ("GET", "api/contents/notes.txt", None),
        "list a directory": ("GET", "api/contents", None),
        "write a file": (
            "PUT",
            f"api/contents/{n}.txt",
            {"type": "file", "format": "text", "content": "hi"},
        ),
        "delete a file": ("DELETE", f"api/contents/doomed-{role}.txt", None),
        "list kernels": ("GET", "api/kernels", None),
        "start a kernel": ("POST", "api/kernels", {"name": "python3"}),
        "list sessions": ("GET", "api/sessions", None),
        "start a session": (
            "POST",
            "api/sessions",
            {"path": f"{n}.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        ),
        "list kernelspecs": ("GET", "api/kernelspecs", None),
        "list terminals": ("GET", "api/terminals", None),
        "open a terminal": ("POST", "api/terminals", {}),
        "read frontend config": ("GET", "api/config/notebook", None),
        "change frontend config": ("PATCH", "api/config/notebook", {"shared": {"by": role}}),
        "read lab settings": (
            "GET",
            "lab/api/settings/@jupyterlab/apputils-extension:themes",
            None,
        ),
        "change lab settings": (
            "PUT",
            "lab/api/settings/@jupyterlab/apputils-extension:themes",
            {"raw": f'// set by {role}\n{{"theme-scrollbars": true}}'},
        ),
        "read lab workspaces": ("GET", "lab/api/workspaces", None),
        "save a lab workspace": (
            "PUT",
            f"lab/api/workspaces/{n}",
            {"data": {}, "metadata": {"id": n}},
        ),
        "save the guest's own lab workspace": (
            "PUT",
            f"lab/api/workspaces/{own}",
            {"data": {}, "metadata": {"id": own}},
        ),
        "server status": ("GET", "api/status", None),
        "share API: me": ("GET", "jupyter-share/api/v1/me", None),
        "share API: shared with me": ("GET", "jupyter-share/api/v1/shared-with-me", None),
        "share API: images": ("GET", "jupyter-share/api/v1/images", None),
        "share API: the container's grants": (
            "GET",
            "jupyter-share/api/v1/sessions/current/grants",
            None,
        ),
        "share API: share the container": (
            "PUT",
            "jupyter-share/api/v1/sessions/current/grants/gina",
            {"permission": "view"},
        ),
    }[surface]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", list(ALLOWED))
def test_guest_matrix(container, surface, role):
    method, path, body = surface_request(surface, role)
    if surface == "delete a file":
        (container["server"].root / f"doomed-{role}.txt").write_text("x")
    code = status(container, role, method, path, body)
    if role in ALLOWED[surface]:
        assert code < 400, (surface, role, code)
    else:
        assert code in (401, 403), (surface, role, code)
        if surface == "delete a file":
            assert (container["server"].root / f"doomed-{role}.txt").exists()
        if surface == "change lab settings":
            assert f"set by {role}" not in container["owner"].request("GET", path).json()["raw"]


def test_shutdown_is_the_owners_alone(container):
    for role in ROLES[1:]:
        assert status(container, role, "POST", "api/shutdown") in (401, 403), role
    assert container["server"].process.poll() is None


@pytest.mark.parametrize("role", ROLES)
def test_kernel_channels(container, role):
    """Running code: owner, edit and manage; a view guest cannot even open the channels."""
    kernel = container["owner"].request("POST", "api/kernels", {"name": "python3"}).json()
    path = f"api/kernels/{kernel['id']}/channels"
    if role in ("owner", "edit", "manage"):
        ws = container["browsers"][role].websocket(path)
        try:
            assert execute(ws) == "42"
        finally:
            ws.close()
    else:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            container["browsers"][role].websocket(path)
        assert refused.value.status_code in (401, 403)
    container["owner"].request("DELETE", f"api/kernels/{kernel['id']}")


@pytest.mark.parametrize("role", ["view", "revoked", "stranger"])
def test_no_terminal_websocket_below_edit(container, role):
    name = container["owner"].request("POST", "api/terminals", {}).json()["name"]
    with pytest.raises(websocket.WebSocketBadStatusException):
        container["browsers"][role].websocket(f"terminals/websocket/{name}")


def test_guests_see_who_they_are(container):
    for role, user in [("view", "bob"), ("edit", "carol"), ("manage", "dave")]:
        me = container["browsers"][role].request("GET", "jupyter-share/api/v1/me").json()
        assert me["username"] == user
        assert me["guest"] == {
            "owner": "alice",
            "permission": role,
            "expires_at": None,
        }  # for the banner
    me = container["owner"].request("GET", "jupyter-share/api/v1/me").json()
    assert me["username"] == "alice" and "guest" not in me
    # jupyter_server's own identity says the same, for JupyterLab's user menu.
    assert (
        container["browsers"]["view"].request("GET", "api/me").json()["identity"]["username"]
        == "bob"
    )


def test_a_manager_shares_onward_with_a_link_of_its_own(container):
    r = container["browsers"]["manage"].request(
        "PUT", "jupyter-share/api/v1/sessions/current/grants/ivy", {"permission": "view"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["granted_by"] == "dave"
    ivy = Guest(container["server"], r.json()["link"])
    assert ivy.request("GET", "jupyter-share/api/v1/me").json()["username"] == "ivy"
    # An edit guest may not; nor raise their own rights.
    carol = container["browsers"]["edit"]
    assert (
        carol.request(
            "PUT", "jupyter-share/api/v1/sessions/current/grants/carol", {"permission": "manage"}
        ).status_code
        == 403
    )
    assert (
        carol.request(
            "PUT", "jupyter-share/api/v1/sessions/current/grants/gina", {"permission": "view"}
        ).status_code
        == 403
    )
    assert (
        carol.request("POST", "jupyter-share/api/v1/sessions/current/grants/carol/link").status_code
        == 403
    )
    assert carol.request("GET", "jupyter-share/api/v1/me").json()["guest"]["permission"] == "edit"


def test_pages_never_carry_the_owners_token(container):
    """JupyterLab puts the server token in its page config; a guest's browser must not get it."""
    for role in ("owner", "view", "edit", "manage"):
        r = container["browsers"][role].http.get("lab")
        assert r.status_code == 200, (role, r.status_code)
        assert '"token": ""' in r.text, role
        assert container["server"].token not in r.text, role


def test_secrets_are_hashed_and_never_logged(container):
    links = container["links"]
    secrets_ = [link.rsplit("/", 1)[1].split(".", 1)[1] for link in links.values()]
    with sqlite3.connect(container["work"] / "share.db") as db:
        dump = "\n".join(db.iterdump())
    log = container["server"].log()
    for secret in secrets_:
        assert len(secret) >= 22  # at least 128 bits, url-safe base64
        where = dump.find(secret)
        assert where < 0, dump[max(0, where - 300) : where + 50]
        assert secret not in log
    assert container["server"].token not in "".join(links.values())


@pytest.mark.parametrize(
    "mangle",
    [
        lambda link: link[:-1] + ("A" if link[-1] != "A" else "B"),  # wrong secret
        lambda link: link[: len(link) - 10],  # truncated
        lambda link: link.rsplit(".", 1)[0],  # no secret at all
        lambda link: link.rsplit("/", 1)[0] + "/0000000000000000.abc",  # no such link
    ],
)
def test_bad_links_get_a_plain_403(container, mangle):
    r = Guest(container["server"]).http.get(mangle(container["links"]["view"]))
    assert r.status_code in (403, 429)
    if r.status_code == 403:
        assert "This link does not work" in r.text
        assert "bob" not in r.text and "alice" not in r.text


def test_revoked_and_expired_links_are_dead(container):
    for role in ("revoked", "expired"):
        r = Guest(container["server"]).http.get(container["links"][role])
        assert r.status_code in (403, 429), role


def test_xsrf_stays_on_for_guests(container):
    carol = container["browsers"]["edit"]
    r = carol.http.put(
        "api/contents/no-xsrf.txt",
        content=json.dumps({"type": "file", "format": "text", "content": "x"}),
    )
    assert r.status_code == 403 and "_xsrf" in r.text
    assert not (container["server"].root / "no-xsrf.txt").exists()


def test_forged_cookie_is_nobody(container):
    forged = Guest(container["server"])
    name = next(
        k
        for k in container["browsers"]["view"].http.cookies.keys()
        if k.startswith("jupyter-share-guest-")
    )
    forged.http.cookies.set(name, '{"link": "x", "user": "alice"}', domain="127.0.0.1")
    assert forged.request("GET", "api/contents").status_code in (401, 403)
    assert forged.request("GET", "jupyter-share/api/v1/me").status_code == 401


def test_failed_links_are_rate_limited(tmp_path):
    alice = start_servers(["alice"], f"sqlite:///{tmp_path / 's.db'}", tmp_path, users=["bob"])[
        "alice"
    ]
    try:
        link = alice.put("/sessions/current/grants/bob", {"permission": "view"}).json()["link"]
        stranger = Guest(alice)
        codes = [stranger.http.get(link + "x").status_code for _ in range(12)]
        assert codes[:10] == [403] * 10 and codes[10:] == [429, 429]
        # A valid link is never refused: nobody on the same address (a shared workstation,
        # a proxy) can lock a neighbour out by trying wrong links.
        assert stranger.http.get(link).status_code == 302
    finally:
        alice.stop()


def _wait_closed(ws, within):
    """Seconds until the server closes `ws`, failing after `within`."""
    start = time.monotonic()
    ws.settimeout(within)
    try:
        while True:
            frame = ws.recv()
            if frame in ("", b"") or not ws.connected:
                break
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass
    except websocket.WebSocketTimeoutException:
        raise AssertionError(f"the websocket was still open after {within} s") from None
    return time.monotonic() - start


def _edit_guest_with_kernel(tmp_path, name="alice"):
    alice = start_servers([name], f"sqlite:///{tmp_path / 's.db'}", tmp_path, users=["bob"])[name]
    link = alice.put("/sessions/current/grants/bob", {"permission": "edit"}).json()["link"]
    bob = Guest(alice, link)
    kernel = Owner(alice).request("POST", "api/kernels", {"name": "python3"}).json()
    ws = bob.websocket(f"api/kernels/{kernel['id']}/channels")
    assert execute(ws, "1 + 1") == "2"
    return alice, bob, kernel, ws


def test_revoking_closes_the_guests_kernel_websocket_within_a_second(tmp_path):
    alice, bob, kernel, ws = _edit_guest_with_kernel(tmp_path)
    try:
        revoked_at = time.monotonic()
        assert alice.delete("/sessions/current/grants/bob").status_code == 204
        closed_after = _wait_closed(ws, within=1.0)
        assert closed_after < 1.0
        # The very next request is refused, and alice's kernel is untouched.
        assert bob.request("GET", "api/contents").status_code in (401, 403)
        owner = Owner(alice)
        assert owner.request("GET", f"api/kernels/{kernel['id']}").status_code == 200
        ws2 = owner.websocket(f"api/kernels/{kernel['id']}/channels")
        assert execute(ws2, "2 + 3") == "5"
        ws2.close()
        print(
            f"closed {closed_after:.3f} s after revoke (revoke request took {time.monotonic() - revoked_at:.3f} s)"
        )
    finally:
        alice.stop()


def test_a_revoke_made_elsewhere_also_closes_it(tmp_path):
    """Through the store by another process (the CLI here): the periodic check notices."""
    import subprocess
    import sys

    alice, bob, kernel, ws = _edit_guest_with_kernel(tmp_path)
    try:
        env_db = f"sqlite:///{tmp_path / 's.db'}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter_share.cli",
                "--db-url",
                env_db,
                "--user",
                "alice",
                "revoke",
                f"sessions/{alice.get('/sessions/current').json()['id']}",
                "bob",
            ],
            check=True,
            capture_output=True,
        )
        assert _wait_closed(ws, within=1.5) < 1.5
        assert bob.request("GET", "api/contents").status_code in (401, 403)
    finally:
        alice.stop()


def test_lowering_to_view_closes_running_channels_but_keeps_reading(tmp_path):
    alice, bob, kernel, ws = _edit_guest_with_kernel(tmp_path)
    try:
        assert alice.put("/sessions/current/grants/bob", {"permission": "view"}).status_code == 200
        assert _wait_closed(ws, within=1.0) < 1.0
        assert bob.request("GET", "api/contents").status_code == 200
        assert (
            bob.request(
                "PUT", "api/contents/x.txt", {"type": "file", "format": "text", "content": "x"}
            ).status_code
            == 403
        )
        # Raising again works with the same link: the link survives permission changes.
        assert alice.put("/sessions/current/grants/bob", {"permission": "edit"}).status_code == 200
        assert (
            bob.request(
                "PUT", "api/contents/x.txt", {"type": "file", "format": "text", "content": "x"}
            ).status_code
            == 201
        )
    finally:
        alice.stop()


def test_a_new_link_kills_the_old_one_and_its_cookie(tmp_path):
    alice = start_servers(["alice"], f"sqlite:///{tmp_path / 's.db'}", tmp_path, users=["bob"])[
        "alice"
    ]
    try:
        old = alice.put("/sessions/current/grants/bob", {"permission": "view"}).json()["link"]
        bob = Guest(alice, old)
        assert bob.request("GET", "api/contents").status_code == 200
        new = alice.post("/sessions/current/grants/bob/link").json()["link"]
        assert new != old
        assert bob.request("GET", "api/contents").status_code in (401, 403)  # the old cookie died
        assert Guest(alice).http.get(old).status_code == 403
        assert Guest(alice, new).request("GET", "api/contents").status_code == 200
    finally:
        alice.stop()


def test_leaving_ends_the_guests_access(tmp_path):
    alice = start_servers(["alice"], f"sqlite:///{tmp_path / 's.db'}", tmp_path, users=["bob"])[
        "alice"
    ]
    try:
        bob = Guest(
            alice, alice.put("/sessions/current/grants/bob", {"permission": "view"}).json()["link"]
        )
        assert (
            bob.request("DELETE", "jupyter-share/api/v1/sessions/current/grants/bob").status_code
            == 204
        )
        assert bob.request("GET", "api/contents").status_code in (401, 403)
        assert alice.get("/sessions/current/grants").json()["items"] == []
    finally:
        alice.stop()


def test_links_use_the_public_url_when_set(tmp_path):
    alice = start_servers(
        ["alice"],
        f"sqlite:///{tmp_path / 's.db'}",
        tmp_path,
        users=["bob"],
        extra_args=["--ShareApp.public_url=https://lab.example.org/alice/"],
    )["alice"]
    try:
        link = alice.put("/sessions/current/grants/bob", {"permission": "view"}).json()["link"]
        assert link.startswith("https://lab.example.org/alice/jupyter-share/link/")
        assert (
            alice.get("/sessions/current").json()["spec"]["url"] == "https://lab.example.org/alice/"
        )
        # The same secret works on the address the server really listens on.
        assert (
            Guest(alice, alice.url + link.split("/alice/", 1)[1])
            .request("GET", "api/contents")
            .status_code
            == 200
        )
    finally:
        alice.stop()
