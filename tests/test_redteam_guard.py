"""Red team of the standalone guest guard (issue 11): attacks a neighbour would try on a real
server (JupyterLab, terminals, LSP), as a view, edit or manage guest, a revoked or expired
guest, a stranger, and a guest of another container of the same owner.

Every test asserts that the attack FAILS: a failing test is a hole. Holes found and not yet
fixed are marked `xfail(strict=True, reason="HOLE: ...")`, so that the fix turns them into
regression tests (strict: an attack that stops working fails the run until the mark goes).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import io
import json
import socket
import threading
import time
import zipfile
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import nbformat
import pytest
import websocket
from tornado.web import create_signed_value

from .servers import start_server, wait_ready
from .test_links import XSRF, Guest, Owner, execute

pytestmark = pytest.mark.slow

API = "jupyter-share/api/v1"
GRANTS = f"{API}/sessions/current/grants"
REFUSED = (401, 403)
USERS = [
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "gina",
    "hank",
    "ivy",
    "kim",
    "lee",
    "pat",
    "quin",
    "zed",
]

#: A 1x1 PNG: an image output makes nbconvert answer a zip of the document and its images.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
    )
).decode()


def _start(work: Path, name: str = "alice", **kw):
    return wait_ready(
        start_server(
            name,
            f"sqlite:///{work / 'share.db'}",
            work,
            users=USERS,
            extra_args=["--ShareApp.guest_check_interval=0.25"] + kw.pop("extra_args", []),
            **kw,
        )
    )


def browser(server, link=None) -> Guest:
    """A neighbour's browser; it sends a Referer as browsers do (jupyter_server wants one for
    /files and /nbconvert when a cookie authenticates)."""
    b = Guest(server, link)
    b.http.headers["Referer"] = server.url
    return b


def share(server, user, permission, **extra) -> str:
    r = server.put(f"/sessions/current/grants/{user}", {"permission": permission, **extra})
    assert r.status_code in (200, 201), r.text
    return r.json()["link"]


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """alice's container: bob (view), carol (edit), dave (manage), erin (signed in, revoked),
    frank (signed in, expired), a stranger; her files include a server log in the root (as
    `nohup jupyter lab &` leaves it) and a notebook that printed `jupyter server list`."""
    work = tmp_path_factory.mktemp("redteam")
    alice = _start(work)
    try:
        yield _furnish(alice, work)
    finally:
        alice.stop()


def _furnish(alice, work):
    root = alice.root
    (root / "notes.txt").write_text("alice's notes\n")
    (root / "nohup.out").write_text(
        "[I ServerApp] Jupyter Server 2.21.1 is running at:\n"
        f"[I ServerApp] http://127.0.0.1:8888/lab?token={alice.token}\n"
    )
    # A long log where the token straddles the 64 KiB chunks /files streams in.
    (root / "long.log").write_text("." * (65536 - 10) + alice.token + "\n")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("!jupyter server list")
    cell.outputs = [
        nbformat.v4.new_output(
            "stream", name="stdout", text=f"http://127.0.0.1:8888/?token={alice.token} :: {root}\n"
        ),
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
    ]
    nb.cells.append(cell)
    nbformat.write(nb, str(root / "setup.ipynb"))
    (root / ".private").mkdir()
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("alice's diary")]),
        str(root / ".private" / "diary.ipynb"),
    )

    owner = Owner(alice)
    owner.http.headers["Referer"] = alice.url
    browsers = {"owner": owner}
    links = {}
    frank_link = share(
        alice,
        "frank",
        "edit",
        expires_at=(datetime.now(timezone.utc) + timedelta(seconds=3)).isoformat(),
    )
    for role, user, permission in [
        ("view", "bob", "view"),
        ("edit", "carol", "edit"),
        ("manage", "dave", "manage"),
        ("revoked", "erin", "edit"),
    ]:
        links[role] = share(alice, user, permission)
        browsers[role] = browser(alice, links[role])
    browsers["expired"] = browser(alice, frank_link)
    links["expired"] = frank_link
    assert alice.delete("/sessions/current/grants/erin").status_code == 204
    browsers["stranger"] = browser(alice)
    image = alice.post("/images", {"name": "alice-env", "spec": {"reference": "registry/alice:1"}})
    assert image.status_code == 201, image.text
    time.sleep(3.2)  # frank's grant runs out
    return {
        "server": alice,
        "browsers": browsers,
        "links": links,
        "work": work,
        "image": image.json()["id"],
        "session": alice.get("/sessions/current").json()["id"],
    }


def runtime_secrets(server) -> list[str]:
    """The owner's token and the key in the cookie secret file (with it and the password,
    anyone signs login cookies)."""
    found = [server.token]
    key = server.root / ".runtime" / "jupyter_cookie_secret"
    if key.exists():
        found.append(key.read_text().strip())
    return found


def recoverable(blob: bytes, secret: str) -> bool:
    """Whether `secret` can be read from `blob` as sent or after undoing base64 or a zip."""
    if secret.encode() in blob:
        return True
    try:
        text = json.loads(blob)
    except ValueError:
        text = None
    if (
        isinstance(text, dict)
        and isinstance(text.get("content"), str)
        and text.get("format") == "base64"
    ):
        if secret.encode() in base64.b64decode(text["content"]):
            return True
    if blob[:2] == b"PK":
        z = zipfile.ZipFile(io.BytesIO(blob))
        return any(secret.encode() in z.read(n) for n in z.namelist())
    return False


# -- 1. secrets in answers: the mask and its bypasses ----------------------------------------


@pytest.mark.parametrize("role", ["view", "edit", "manage"])
def test_a_file_holding_the_token_is_masked_when_read_whole(box, role):
    b = box["browsers"][role]
    for path in (
        "files/nohup.out",
        "api/contents/nohup.out",
        "api/contents/nohup.out?format=text&type=file",
        "nbconvert/html/setup.ipynb",
        "nbconvert/script/setup.ipynb",
        "nbconvert/notebook/setup.ipynb",
        "api/contents/setup.ipynb",
        "view/nohup.out",
    ):
        r = b.http.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert box["server"].token not in r.text, path
    r = b.http.get("no-such-page", headers={"Accept-Encoding": "gzip"})
    body = r.content
    assert box["server"].token not in body.decode(errors="replace")
    assert box["server"].token.encode() not in (
        gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    )


def test_range_requests_do_not_reassemble_the_token(box):
    bob = box["browsers"]["view"]
    whole = bob.http.get("files/nohup.out").text
    start = whole.index("token=") + len("token=")  # the mask keeps lengths: the stars say where
    n = len(box["server"].token)
    parts = [
        bob.http.get("files/nohup.out", headers={"Range": f"bytes={a}-{b}"})
        for a, b in [(start, start + n // 2 - 1), (start + n // 2, start + n - 1)]
    ]
    assert box["server"].token not in "".join(p.text for p in parts), [p.status_code for p in parts]


def test_base64_contents_do_not_carry_the_token(box):
    r = box["browsers"]["view"].http.get("api/contents/nohup.out?format=base64&type=file")
    assert r.status_code == 200
    assert not recoverable(r.content, box["server"].token)


def test_a_token_across_a_chunk_boundary_is_masked(box):
    r = box["browsers"]["view"].http.get("files/long.log")
    assert r.status_code == 200 and len(r.content) > 65536
    assert box["server"].token not in r.text


def test_nbconvert_zips_do_not_carry_the_token(box):
    """A conversion answered as an archive (markdown, rst, asciidoc, latex of a notebook with
    image outputs) cannot be read by the mask: a guest is refused it, the owner gets it."""
    bob = box["browsers"]["view"]
    for fmt in ("markdown", "rst", "asciidoc", "latex"):
        r = bob.http.get(f"nbconvert/{fmt}/setup.ipynb")
        assert r.status_code in (200, 403), (fmt, r.status_code)
        assert not recoverable(r.content, box["server"].token), fmt
    r = box["browsers"]["owner"].http.get("nbconvert/markdown/setup.ipynb")
    assert r.status_code == 200 and r.content[:2] == b"PK"


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                data = s.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def test_odd_request_targets_carry_no_secret(box):
    """Absolute-URI targets, `OPTIONS *`, HTTP/1.0 without Host, other Host names, `?token=`
    echoes: as bob (view), with his cookie."""
    alice = box["server"]
    port = alice.port
    jar = "; ".join(f"{k}={v}" for k, v in box["browsers"]["view"].http.cookies.items())
    targets = [
        f"GET http://127.0.0.1:{port}/no-such-page HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n",
        f"GET http://evil.example/api/contents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n",
        f"GET http://127.0.0.1:{port}/tree HTTP/1.1\r\nHost: evil.example\r\n",
        f"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n",
        "GET /no-such-page HTTP/1.0\r\n",
        f"GET /no-such-page HTTP/1.1\r\nHost: localhost:{port}\r\n",
        f"GET /no-such-page HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: 127.0.0.1:{port}\r\n",
        f"GET /lab?token=guess HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n",
        f"GET /tree?token=guess&next=/api/contents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n",
        f"GET //no-such-page/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n",
        f"GET /login?next=%2F%2Fevil.example HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n",
    ]
    answered = 0
    for target in targets:
        answer = _raw(port, (target + f"Cookie: {jar}\r\nConnection: close\r\n\r\n").encode())
        assert answer == b"" or answer.startswith(b"HTTP/"), target
        answered += bool(answer)
        for secret in runtime_secrets(alice):
            assert secret.encode() not in answer, target
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert b"set-cookie: username-" not in head, target
        assert b"location: //evil" not in head and b"location: http://evil" not in head, target
    assert answered >= len(targets) - 2  # the server answered, so the checks above saw something


# -- 2. the runtime dir and hidden files ----------------------------------------------------


def _runtime_paths(server) -> list[str]:
    return sorted(p.name for p in (server.root / ".runtime").iterdir())


@pytest.mark.parametrize("role", ["view", "edit", "manage", "stranger"])
def test_runtime_files_are_out_of_a_guests_reach(box, role):
    """jpserver-*.json (the token), jpserver-*-open.html and jupyter_cookie_secret, by every
    route that reads a file, with path spellings."""
    alice = box["server"]
    b = box["browsers"][role]
    names = _runtime_paths(alice)
    assert any(n.startswith("jpserver-") for n in names) and "jupyter_cookie_secret" in names
    for name in names:
        for spelling in (
            f".runtime/{name}",
            f"%2Eruntime/{name}",
            f".runtime%2F{name}",
            f"./.runtime/{name}",
            f"notes.txt/../.runtime/{name}",
            f".runtime//{name}",
            f"%2E%72untime/{name}",
        ):
            for path in (
                f"api/contents/{spelling}",
                f"api/contents/{spelling}?format=base64&type=file",
                f"api/contents/{spelling}?type=file&format=text",
                f"files/{spelling}",
                f"view/{spelling}",
                f"nbconvert/notebook/{spelling}",
                f"nbconvert/script/{spelling}",
                f"api/contents/{spelling}/checkpoints",
                f"lab/tree/{spelling}",
            ):
                r = b.http.get(path)
                for secret in runtime_secrets(alice):
                    assert not recoverable(r.content, secret), (role, path, r.status_code)
    r = b.http.get("api/contents")
    if r.status_code == 200:
        assert ".runtime" not in {c["name"] for c in r.json()["content"]}
    assert b.http.get("api/contents/.runtime").status_code in (403, 404, 401)


@pytest.mark.parametrize(
    "path",
    [
        "nbconvert/notebook/.private/diary.ipynb",
        "nbconvert/html/.private/diary.ipynb",
        "api/contents/.private/diary.ipynb",
        "files/.private/diary.ipynb",
        "api/contents/.private",
        "nbconvert/notebook/%2Eprivate/diary.ipynb",
    ],
)
def test_hidden_notebooks_stay_hidden(box, path):
    r = box["browsers"]["view"].http.get(path)
    assert "alice's diary" not in r.text, (path, r.status_code)


@pytest.fixture(scope="module")
def lax(tmp_path_factory):
    """A server configured as many are: hidden files shown (ContentsManager.allow_hidden) and a
    short, memorable token (accepted by jupyter_server), bob signed in with view."""
    work = tmp_path_factory.mktemp("lax")
    (work / "short_token_idp.py").write_text(
        "from jupyter_server.auth.identity import PasswordIdentityProvider\n"
        "class ShortToken(PasswordIdentityProvider):\n"
        "    def __init__(self, **kw):\n"
        "        super().__init__(**kw)\n"
        "        self.token = 'letmein-2026'\n"
    )
    server = start_server(
        "alice",
        f"sqlite:///{work / 'share.db'}",
        work,
        users=USERS,
        extra_args=[
            "--ContentsManager.allow_hidden=True",
            "--ServerApp.identity_provider_class=short_token_idp.ShortToken",
        ],
        env={"PYTHONPATH": str(work)},
    )
    server.token = "letmein-2026"
    server.client.headers["Authorization"] = f"token {server.token}"
    try:
        alice = wait_ready(server)
        yield {"server": alice, "bob": browser(alice, share(alice, "bob", "view"))}
    finally:
        server.stop()


def test_a_short_token_never_reaches_a_guest(lax):
    bob = lax["bob"]
    for path in ("no-such-page", "api/nope", "tree", "view/missing.html", "lab"):
        r = bob.http.get(path)
        assert lax["server"].token not in r.text, (path, r.status_code)


def test_allow_hidden_does_not_open_the_runtime_dir_to_guests(lax):
    alice, bob = lax["server"], lax["bob"]
    for name in _runtime_paths(alice):
        for query in ("", "?format=base64&type=file", "?format=text&type=file"):
            r = bob.http.get(f"api/contents/.runtime/{name}{query}")
            for secret in runtime_secrets(alice):
                assert not recoverable(r.content, secret), (name, query, r.status_code)


def test_a_view_guest_cannot_sign_an_owner_login_cookie(lax):
    alice, bob = lax["server"], lax["bob"]
    r = bob.http.get("api/contents/.runtime/jupyter_cookie_secret?format=text&type=file")
    key = r.json()["content"].encode() if r.status_code == 200 else b"unknown"
    digest = hmac.new(key, digestmod=hashlib.sha256)
    digest.update(b"")  # no password configured
    name = f"username-127-0-0-1-{alice.port}"
    user = {
        "username": "anyone",
        "name": "anyone",
        "display_name": "anyone",
        "initials": "A",
        "avatar_url": None,
        "color": None,
    }
    forged = httpx.Client(base_url=alice.url, timeout=30)
    forged.cookies.set(
        name,
        create_signed_value(digest.digest(), name, json.dumps(user)).decode(),
        domain="127.0.0.1",
    )
    assert forged.get(f"{API}/images").status_code in REFUSED
    assert forged.get(f"{API}/me").status_code in REFUSED


# -- 3. owner credentials and the owner's share API -------------------------------------------


@pytest.mark.parametrize("role", ["view", "edit", "manage", "revoked", "expired", "stranger"])
def test_no_answer_gives_a_guest_an_owner_cookie(box, role):
    b = box["browsers"][role]
    attempts = [
        ("GET", "login", None),
        ("GET", "login?next=/lab", None),
        ("GET", "lab?token=guess", None),
        ("GET", "api/me", None),
        ("PATCH", "api/me", {"display_name": "alice", "color": "#000000"}),
        ("GET", f"?token={box['links']['view'].rsplit('/', 1)[1]}", None),
        ("GET", "api/contents", None),
        ("GET", "lab", None),
        ("GET", "tree", None),
    ]
    for method, path, body in attempts:
        r = b.request(method, path, body)
        assert not any(
            c.lower().startswith("username-") for c in r.headers.get_list("set-cookie")
        ), (method, path)
    r = b.http.post("login", data={"password": "guess", "_xsrf": XSRF})
    assert not any(c.lower().startswith("username-") for c in r.headers.get_list("set-cookie"))
    assert not any(k.startswith("username-") for k in b.http.cookies.keys())


def test_the_guest_cookie_is_httponly_lax_and_on_the_base_url(box):
    r = httpx.get(share(box["server"], "zed", "view"), follow_redirects=False)
    cookie = next(
        c for c in r.headers.get_list("set-cookie") if c.startswith("jupyter-share-guest-")
    )
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert (
        "httponly" in flags
        and flags.get("samesite", "").lower() == "samesite=lax"
        and flags.get("path") == "Path=/"
    )
    assert box["session"] in cookie.split("=", 1)[0]
    assert "domain" not in flags and "expires" not in flags  # a session cookie, this host only
    assert box["server"].delete("/sessions/current/grants/zed").status_code == 204


@pytest.mark.parametrize("role", ["view", "edit", "manage"])
def test_guests_never_use_the_share_api_as_alice(box, role):
    b = box["browsers"][role]
    image = box["image"]
    for method, path, body in [
        ("GET", f"{API}/images", None),
        ("GET", f"{API}/formations", None),
        ("GET", f"{API}/sessions", None),
        ("POST", f"{API}/images", {"name": "pwn"}),
        ("GET", f"{API}/images/{image}", None),
        ("PATCH", f"{API}/images/{image}", {"description": "pwned"}),
        ("DELETE", f"{API}/images/{image}", None),
        ("PUT", f"{API}/images/{image}/grants/mallory", {"permission": "manage"}),
        ("GET", f"{API}/images/{image}/grants", None),
        ("GET", f"{API}/images/{image}/environment", None),
        ("GET", f"{API}/sessions/{box['session']}", None),
        ("PUT", f"{API}/sessions/{box['session']}/grants/mallory", {"permission": "manage"}),
        ("GET", f"{API}/sessions/{box['session']}/grants", None),
        ("DELETE", f"{API}/sessions/current", None),
        ("DELETE", f"{API}/sessions/current/grants/carol?rekey=true", None),
    ]:
        r = b.request(method, path, body)
        assert r.status_code in (400, 403, 404, 405), (role, method, path, r.status_code)
    owner = box["server"]
    assert owner.get(f"/images/{image}").json()["description"] in ("", None)
    assert owner.get(f"/images/{image}/grants").json()["items"] == []
    assert "mallory" not in json.dumps(owner.get("/sessions/current/grants").json())


# -- 4. a view guest writes and runs nothing --------------------------------------------------


def test_a_view_guest_writes_and_runs_nothing(box):
    alice, owner, bob = box["server"], box["browsers"]["owner"], box["browsers"]["view"]
    root = alice.root
    kernel = owner.request("POST", "api/kernels", {"name": "python3"}).json()["id"]
    session = owner.request(
        "POST",
        "api/sessions",
        {"path": "alice.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
    ).json()
    terminal = owner.request("POST", "api/terminals", {}).json()["name"]
    checkpoint = owner.request("POST", "api/contents/notes.txt/checkpoints").json()["id"]
    assert (
        owner.request(
            "PUT",
            "lab/api/workspaces/default",
            {"data": {"owner": 1}, "metadata": {"id": "default"}},
        ).status_code
        == 204
    )
    before = {
        "files": sorted(p.name for p in root.iterdir()),
        "kernels": sorted(k["id"] for k in owner.request("GET", "api/kernels").json()),
        "sessions": owner.request("GET", "api/sessions").json(),
        "terminals": sorted(t["name"] for t in owner.request("GET", "api/terminals").json()),
        "workspaces": owner.request("GET", "lab/api/workspaces").json(),
        "config": owner.request("GET", "api/config/notebook").json(),
        "settings": owner.request(
            "GET", "lab/api/settings/@jupyterlab/apputils-extension:themes"
        ).json()["raw"],
        "notes": (root / "notes.txt").read_text(),
    }
    nb = nbformat.writes(nbformat.v4.new_notebook())
    attempts = [
        ("PUT", "api/contents/pwned.txt", {"type": "file", "format": "text", "content": "x"}),
        ("PUT", "api/contents/notes.txt", {"type": "file", "format": "text", "content": "pwned"}),
        ("PATCH", "api/contents/notes.txt", {"path": "renamed.txt"}),
        ("DELETE", "api/contents/notes.txt", None),
        ("POST", "api/contents", {"copy_from": "notes.txt"}),
        ("POST", "api/contents", {"type": "file"}),
        ("POST", "api/contents", {"type": "directory"}),
        ("POST", "api/contents/notes.txt/checkpoints", None),
        ("POST", f"api/contents/notes.txt/checkpoints/{checkpoint}", None),
        ("DELETE", f"api/contents/notes.txt/checkpoints/{checkpoint}", None),
        ("POST", "api/contents/setup.ipynb/trust", None),
        ("POST", "api/kernels", {"name": "python3"}),
        ("POST", f"api/kernels/{kernel}/interrupt", None),
        ("POST", f"api/kernels/{kernel}/restart", None),
        ("DELETE", f"api/kernels/{kernel}", None),
        (
            "POST",
            "api/sessions",
            {"path": "bob.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        ),
        ("PATCH", f"api/sessions/{session['id']}", {"path": "moved.ipynb"}),
        ("PATCH", f"api/sessions/{session['id']}", {"kernel": {"name": "python3"}}),
        ("DELETE", f"api/sessions/{session['id']}", None),
        ("POST", "api/terminals", {}),
        ("DELETE", f"api/terminals/{terminal}", None),
        ("POST", "nbconvert/html", json.loads(nb)),
        (
            "POST",
            "api/events",
            {
                "schema_id": "https://events.jupyter.org/jupyter_share/change/v1",
                "version": "1",
                "data": {
                    "action": "revoke",
                    "kind": "session",
                    "resource_id": "x",
                    "owner": "alice",
                    "actor": "alice",
                },
            },
        ),
        ("PUT", "lab/api/workspaces/default", {"data": {"bob": 1}, "metadata": {"id": "default"}}),
        ("DELETE", "lab/api/workspaces/default", None),
        (
            "PUT",
            "lab/api/workspaces/jupyter-share-guest-carol",
            {"data": {}, "metadata": {"id": "jupyter-share-guest-carol"}},
        ),
        (
            "PUT",
            "lab/api/settings/@jupyterlab/apputils-extension:themes",
            {"raw": '{"theme": "pwned"}'},
        ),
        ("PATCH", "api/config/notebook", {"pwned": True}),
        ("PUT", "api/config/notebook", {"pwned": True}),
        (
            "POST",
            "lab/api/plugins",
            {"cmd": "disable", "plugin_name": "@jupyterlab/apputils-extension:themes"},
        ),
        ("POST", "lab/api/extensions", {"cmd": "install", "extension_name": "pwned"}),
        ("DELETE", "lab/api/build", None),
        ("PATCH", "api/me", {"display_name": "alice"}),
        ("PUT", f"{GRANTS}/zed", {"permission": "manage"}),
        ("DELETE", f"{GRANTS}/carol", None),
        ("POST", f"{GRANTS}/bob/link", None),
        ("PATCH", f"{API}/sessions/current", {"description": "pwned"}),
    ]
    for method, path, body in attempts:
        r = bob.request(method, path, body)
        assert r.status_code >= 400, (method, path, r.status_code, r.text[:200])
    after = {
        "files": sorted(p.name for p in root.iterdir()),
        "kernels": sorted(k["id"] for k in owner.request("GET", "api/kernels").json()),
        "sessions": owner.request("GET", "api/sessions").json(),
        "terminals": sorted(t["name"] for t in owner.request("GET", "api/terminals").json()),
        "workspaces": owner.request("GET", "lab/api/workspaces").json(),
        "config": owner.request("GET", "api/config/notebook").json(),
        "settings": owner.request(
            "GET", "lab/api/settings/@jupyterlab/apputils-extension:themes"
        ).json()["raw"],
        "notes": (root / "notes.txt").read_text(),
    }
    for key in before:
        if key == "sessions":  # last activity and execution state move on
            assert [(s["id"], s["path"], s["kernel"]["id"]) for s in after[key]] == [
                (s["id"], s["path"], s["kernel"]["id"]) for s in before[key]
            ]
        else:
            assert after[key] == before[key], key
    assert alice.get("/sessions/current").json()["description"] != "pwned"
    assert len(owner.request("GET", "api/contents/notes.txt/checkpoints").json()) == 1
    owner.request("DELETE", f"api/sessions/{session['id']}")
    owner.request("DELETE", f"api/kernels/{kernel}")
    owner.request("DELETE", f"api/terminals/{terminal}")


WORKSPACE_TRICKS = [
    "jupyter-share-guest-bob/../default",
    "jupyter-share-guest-bob%2F..%2Fdefault",
    "JUPYTER-SHARE-GUEST-BOB",
    "jupyter-share-guest-bob%20",
    "jupyter-share-guest-bobby",
    "jupyter-share-guest-bo",
    "jupyter-share-guest-bob%00",
    "default#jupyter-share-guest-bob",
    "default?x=/jupyter-share-guest-bob",
    "%2E%2E/default",
    "ｊupyter-share-guest-bob",
    "lab",
    "/default",
    "default/",
]


def test_a_view_guest_saves_no_workspace_but_its_own(box):
    owner, bob = box["browsers"]["owner"], box["browsers"]["view"]
    before = set(owner.request("GET", "lab/api/workspaces").json()["workspaces"]["ids"])
    for name in WORKSPACE_TRICKS:
        ident = name.replace("%2F", "/").replace("%20", " ")
        r = bob.request(
            "PUT", f"lab/api/workspaces/{name}", {"data": {"by": "bob"}, "metadata": {"id": ident}}
        )
        assert r.status_code >= 400, (name, r.status_code)
    after = owner.request("GET", "lab/api/workspaces").json()
    created = set(after["workspaces"]["ids"]) - before
    assert all(i.strip("/") == "jupyter-share-guest-bob" for i in created), created
    assert "bob" not in json.dumps(
        owner.request("GET", "lab/api/workspaces/default").json().get("data", {})
    )
    # his own is his
    own = "jupyter-share-guest-bob"
    assert (
        bob.request(
            "PUT", f"lab/api/workspaces/{own}", {"data": {}, "metadata": {"id": own}}
        ).status_code
        == 204
    )


def _ws_refused(b, path):
    """None if `b` opened a websocket at `path`, else how it was refused."""
    try:
        ws = b.websocket(path)
    except websocket.WebSocketBadStatusException as e:
        return e.status_code
    except (websocket.WebSocketException, ConnectionError, OSError) as e:
        return str(e)
    ws.close()
    return None


@pytest.mark.parametrize("role", ["view", "revoked", "expired", "stranger"])
def test_no_websocket_below_edit_by_any_path(box, role):
    owner, b = box["browsers"]["owner"], box["browsers"][role]
    kernel = owner.request("POST", "api/kernels", {"name": "python3"}).json()["id"]
    terminal = owner.request("POST", "api/terminals", {}).json()["name"]
    try:
        paths = [
            f"api/kernels/{kernel}/channels",
            f"api/kernels/{kernel}/channels?session_id=x",
            f"api/kernels/{kernel.upper()}/channels",
            f"api/kernels/{kernel}/channels/",
            f"/api/kernels/{kernel}/channels",
            f"api//kernels/{kernel}/channels",
            f"api/kernels/{kernel}%2Fchannels",
            f"api/kernels/./{kernel}/channels",
            f"terminals/websocket/{terminal}",
            f"terminals/websocket/{terminal}/",
            f"/terminals/websocket/{terminal}",
            "api/events/subscribe",
            "api/events/subscribe/",
            "lsp/ws/pylsp",
            "lsp/ws/python-lsp-server",
        ]
        for path in paths:
            assert _ws_refused(b, path) is not None, (role, path)
    finally:
        owner.request("DELETE", f"api/kernels/{kernel}")
        owner.request("DELETE", f"api/terminals/{terminal}")


MORE_TRICKS = [
    ("PUT", "/api/contents/tricked.txt;x", {}),
    ("PUT", "/api/contents/tricked.txt%00", {}),
    ("PUT", "/api/contents/%74ricked.txt", {}),
    ("PUT", "/api/contents/" + "a/" * 3000 + "tricked.txt", {}),
    ("PUT", "/api%5Ccontents%5Ctricked.txt", {}),
    ("PUT", "/api/contents/tricked.txt", {"X-HTTP-Method": "GET"}),
    ("PUT", "/api/contents/tricked.txt", {"X-Method-Override": "GET"}),
    ("POST", "/api/contents?_method=GET", {}),
    ("PUT", "/api/contents/tricked.txt", {"Host": "localhost"}),
    (
        "PUT",
        "/api/contents/tricked.txt",
        {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Forwarded": "for=127.0.0.1"},
    ),
    ("PUT", "/api/contents/tricked.txt", {"Authorization": "Bearer alice"}),
    ("PUT", "/api/contents/tricked.txt", {"Authorization": "token null"}),
    (
        "PUT",
        "/api/contents/tricked.txt",
        {"X-Jupyter-Share-Guest": "", "X-Forwarded-User": "alice", "Remote-User": "alice"},
    ),
    ("POST", "/api/kernels/", {}),
    ("POST", "//api/kernels", {}),
    ("POST", "/api/./kernels", {}),
    ("POST", "/api/sessions?kernel=python3", {}),
    ("POST", "/api/terminals/", {}),
    ("POST", "/API/TERMINALS", {}),
    ("PATCH", "/api/config/notebook/", {}),
    ("PUT", "/lab/api/settings/@jupyterlab/apputils-extension:themes/", {}),
    ("PUT", "/lab/api/settings/@jupyterlab%2Fapputils-extension:themes", {}),
]


@pytest.mark.parametrize(
    "trick", MORE_TRICKS, ids=[f"{m} {p[:60]} {sorted(h)}" for m, p, h in MORE_TRICKS]
)
def test_more_path_tricks_write_nothing(box, trick):
    method, path, headers = trick
    bob = box["browsers"]["view"]
    owner = box["browsers"]["owner"]
    kernels = {k["id"] for k in owner.request("GET", "api/kernels").json()}
    terminals = {t["name"] for t in owner.request("GET", "api/terminals").json()}
    body = json.dumps(
        {
            "type": "file",
            "format": "text",
            "content": "x",
            "name": "python3",
            "path": "t.ipynb",
            "kernel": {"name": "python3"},
            "raw": '{"theme": "x"}',
            "pwned": 1,
        }
    )
    r = bob.http.request(method, path, content=body, headers={"X-XSRFToken": XSRF, **headers})
    assert r.status_code >= 300, (path, r.status_code)  # a redirect (trailing slash) runs nothing
    assert not (box["server"].root / "tricked.txt").exists()
    assert not any("tricked" in p.name for p in box["server"].root.rglob("*"))
    assert {k["id"] for k in owner.request("GET", "api/kernels").json()} <= kernels
    assert {t["name"] for t in owner.request("GET", "api/terminals").json()} <= terminals
    assert "pwned" not in json.dumps(owner.request("GET", "api/config/notebook").json())


# -- 5. XSRF and origins for guests -----------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-XSRFToken": "2|00|11|1700000000"},
        {"X-XSRFToken": XSRF, "Origin": "http://evil.example"},
    ],
    ids=["no token", "wrong token", "foreign origin"],
)
def test_cookie_requests_of_guests_need_xsrf_and_the_same_origin(box, headers):
    carol, dave, owner = (
        box["browsers"]["edit"],
        box["browsers"]["manage"],
        box["browsers"]["owner"],
    )
    kernels = {k["id"] for k in owner.request("GET", "api/kernels").json()}
    terminals = {t["name"] for t in owner.request("GET", "api/terminals").json()}
    for b, method, path, body in [
        (carol, "POST", "api/kernels", {"name": "python3"}),
        (carol, "POST", "api/terminals", {}),
        (carol, "PUT", "api/contents/csrf.txt", {"type": "file", "format": "text", "content": "x"}),
        (carol, "PATCH", "api/contents/notes.txt", {"path": "csrf-moved.txt"}),
        (carol, "DELETE", "api/contents/notes.txt", None),
        (
            carol,
            "POST",
            "api/sessions",
            {"path": "csrf.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        ),
        (dave, "PUT", f"{GRANTS}/zed", {"permission": "manage"}),
        (dave, "DELETE", f"{GRANTS}/carol", None),
        (carol, "DELETE", f"{GRANTS}/carol", None),
    ]:
        r = b.http.request(
            method, path, content=json.dumps(body) if body is not None else None, headers=headers
        )
        assert r.status_code in (403, 404), (method, path, r.status_code)
    root = box["server"].root
    assert (
        (root / "notes.txt").exists()
        and not (root / "csrf.txt").exists()
        and not (root / "csrf-moved.txt").exists()
    )
    assert {k["id"] for k in owner.request("GET", "api/kernels").json()} <= kernels
    assert {t["name"] for t in owner.request("GET", "api/terminals").json()} <= terminals
    assert carol.request("GET", f"{API}/me").json()["guest"]["permission"] == "edit"


def test_a_foreign_page_cannot_open_a_guests_kernel_or_terminal(box):
    owner, carol = box["browsers"]["owner"], box["browsers"]["edit"]
    kernel = owner.request("POST", "api/kernels", {"name": "python3"}).json()["id"]
    terminal = owner.request("POST", "api/terminals", {}).json()["name"]
    jar = "; ".join(f"{k}={v}" for k, v in carol.http.cookies.items())
    try:
        for path in (
            f"api/kernels/{kernel}/channels",
            f"terminals/websocket/{terminal}",
            "api/events/subscribe",
        ):
            for origin in (
                "http://evil.example",
                f"http://127.0.0.1:{box['server'].port + 1}",
                "null",
            ):
                with pytest.raises(websocket.WebSocketBadStatusException):
                    websocket.create_connection(
                        f"ws://127.0.0.1:{box['server'].port}/{path}",
                        cookie=jar,
                        origin=origin,
                        timeout=10,
                    ).close()
        ws = carol.websocket(f"api/kernels/{kernel}/channels")  # the same origin works
        assert execute(ws) == "42"
        ws.close()
    finally:
        owner.request("DELETE", f"api/kernels/{kernel}")
        owner.request("DELETE", f"api/terminals/{terminal}")


# -- 6. nothing outlives revoking, expiry or a new link ---------------------------------------


def _wait_closed(ws, within):
    ws.settimeout(within)
    start = time.monotonic()
    try:
        while True:
            if ws.recv() in ("", b"") or not ws.connected:
                break
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass
    except websocket.WebSocketTimeoutException:
        raise AssertionError(f"still open after {within} s") from None
    return time.monotonic() - start


def _wait_until(predicate, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_expiry_closes_sockets_and_stops_what_the_guest_started(box):
    alice, owner = box["server"], box["browsers"]["owner"]
    expires = datetime.now(timezone.utc) + timedelta(seconds=6)
    pat = browser(alice, share(alice, "pat", "edit", expires_at=expires.isoformat()))
    mine = owner.request("POST", "api/kernels", {"name": "python3"}).json()["id"]
    hers = pat.request("POST", "api/kernels", {"name": "python3"}).json()["id"]
    terminal = pat.request("POST", "api/terminals", {}).json()["name"]
    sockets = [
        pat.websocket(f"api/kernels/{mine}/channels"),
        pat.websocket(f"terminals/websocket/{terminal}"),
        pat.websocket("api/events/subscribe"),
    ]
    left = (expires - datetime.now(timezone.utc)).total_seconds()
    assert left > 0.5, "the setup took too long"
    for ws in sockets:
        _wait_closed(ws, within=left + 3)
    assert pat.request("GET", "api/contents").status_code in REFUSED
    assert _wait_until(
        lambda: (
            hers not in {k["id"] for k in owner.request("GET", "api/kernels").json()}
            and terminal not in {t["name"] for t in owner.request("GET", "api/terminals").json()}
        ),
        10,
    )
    assert mine in {k["id"] for k in owner.request("GET", "api/kernels").json()}
    owner.request("DELETE", f"api/kernels/{mine}")


def test_a_new_link_closes_the_old_cookies_sockets(box):
    alice, owner = box["server"], box["browsers"]["owner"]
    quin = browser(alice, share(alice, "quin", "edit"))
    kernel = owner.request("POST", "api/kernels", {"name": "python3"}).json()["id"]
    ws = quin.websocket(f"api/kernels/{kernel}/channels")
    assert execute(ws) == "42"
    assert alice.post("/sessions/current/grants/quin/link").status_code == 201
    assert _wait_closed(ws, within=2.0) < 2.0
    assert quin.request("GET", "api/contents").status_code in REFUSED
    assert _ws_refused(quin, f"api/kernels/{kernel}/channels") is not None
    owner.request("DELETE", f"api/kernels/{kernel}")
    assert alice.delete("/sessions/current/grants/quin").status_code == 204


def test_a_kernel_the_guest_swapped_in_is_stopped_on_revoke(box):
    alice, owner = box["server"], box["browsers"]["owner"]
    ivy = browser(alice, share(alice, "ivy", "edit"))
    session = ivy.request(
        "POST",
        "api/sessions",
        {"path": "ivy.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
    ).json()
    r = ivy.request("PATCH", f"api/sessions/{session['id']}", {"kernel": {"name": "python3"}})
    assert r.status_code == 200
    swapped = r.json()["kernel"]["id"]
    assert swapped != session["kernel"]["id"]
    assert alice.delete("/sessions/current/grants/ivy").status_code == 204
    stopped = _wait_until(
        lambda: swapped not in {k["id"] for k in owner.request("GET", "api/kernels").json()}, 6
    )
    if not stopped:
        owner.request("DELETE", f"api/sessions/{session['id']}")
    assert stopped


# -- 7. a manager stays a manager ---------------------------------------------------------------


def test_a_manager_cannot_take_over_a_grant_by_sharing_it_again(box):
    alice, dave = box["server"], box["browsers"]["manage"]
    kim = browser(alice, share(alice, "kim", "edit"))
    assert dave.request("POST", f"{GRANTS}/kim/link").status_code == 403  # the direct way is closed
    dave.request("PUT", f"{GRANTS}/kim", {"permission": "edit"})  # "nothing changes"
    r = dave.request("POST", f"{GRANTS}/kim/link")
    taken = (
        r.status_code == 201
        and browser(alice, r.json()["link"]).request("GET", f"{API}/me").json()["username"] == "kim"
    )
    assert not taken, "dave signed in as kim"
    assert kim.request("GET", "api/contents").status_code == 200


def test_a_manager_cannot_take_over_a_grant_by_revoking_and_sharing_again(box):
    alice, dave = box["server"], box["browsers"]["manage"]
    browser(alice, share(alice, "lee", "edit"))
    assert dave.request("DELETE", f"{GRANTS}/lee").status_code == 204
    r = dave.request("PUT", f"{GRANTS}/lee", {"permission": "edit"})
    link = r.json().get("link") if r.status_code in (200, 201) else None
    taken = (
        link is not None
        and browser(alice, link).request("GET", f"{API}/me").json()["username"] == "lee"
    )
    assert not taken, "dave signed in as lee"


def test_a_manager_stays_below_the_owner(box):
    alice, dave, carol = box["server"], box["browsers"]["manage"], box["browsers"]["edit"]
    for method, path, body, codes in [
        ("PUT", f"{GRANTS}/alice", {"permission": "manage"}, (403, 409)),
        ("PUT", f"{GRANTS}/dave", {"permission": "manage"}, (403, 409)),
        ("PUT", f"{GRANTS}/zed", {"permission": "owner"}, (400,)),
        ("PUT", f"{GRANTS}/user:alice", {"permission": "view"}, (403, 409)),
        ("POST", f"{GRANTS}/dave/link", None, (403,)),
        ("POST", f"{GRANTS}/bob/link", None, (403,)),
        ("DELETE", f"{GRANTS}/alice", None, (403, 404)),
        ("DELETE", f"{GRANTS}/carol?rekey=true", None, (400, 403)),
        ("DELETE", f"{API}/sessions/current", None, (403,)),
        ("PATCH", f"{API}/sessions/current", {"name": "dave's now"}, (400, 403)),
        ("PATCH", f"{API}/sessions/current", {"spec": {"url": "http://evil.example/"}}, (400, 403)),
        ("PUT", f"{API}/images/{box['image']}/grants/dave", {"permission": "manage"}, (403, 404)),
        (
            "PUT",
            f"{API}/sessions/{box['session']}/grants/zed",
            {"permission": "manage"},
            (403, 404),
        ),
    ]:
        r = dave.request(method, path, body)
        assert r.status_code in codes, (method, path, r.status_code, r.text[:200])
    assert alice.get("/sessions/current").json()["spec"]["url"] != "http://evil.example/"
    assert carol.request("GET", f"{API}/me").json()["guest"]["permission"] == "edit"
    # an edit guest neither shares nor revokes
    assert carol.request("PUT", f"{GRANTS}/zed", {"permission": "view"}).status_code == 403
    assert carol.request("DELETE", f"{GRANTS}/bob").status_code == 403
    assert carol.request("GET", f"{GRANTS}").status_code == 403
    # and reads only the history rows about herself (issue 15): no one else's grants or sign-ins
    history = carol.request("GET", f"{API}/sessions/current/history")
    assert history.status_code == 200, history.text
    assert {e["principal"] for e in history.json()["items"]} <= {"user:carol"}, history.text


# -- 8. a guest credential works in its own container only -----------------------------------


def test_a_guest_of_another_container_of_alice_gets_nothing_here(box, tmp_path):
    alice = box["server"]
    other = _start(box["work"], root=tmp_path / "other")
    try:
        other_session = other.get("/sessions/current").json()["id"]
        assert other_session != box["session"]
        gina_link = share(other, "gina", "manage")
        gina = browser(other, gina_link)
        assert gina.request("GET", "api/contents").status_code == 200
        # her link, opened here
        here = browser(alice)
        assert here.http.get(
            gina_link.replace(f":{other.port}/", f":{alice.port}/")
        ).status_code in (403, 429)
        # her cookie, sent here as it is, under this container's name, with either Host
        value = next(
            v for k, v in gina.http.cookies.items() if k.startswith("jupyter-share-guest-")
        )
        for name in (
            f"jupyter-share-guest-{other_session}",
            f"jupyter-share-guest-{box['session']}",
        ):
            for host in (f"127.0.0.1:{alice.port}", f"127.0.0.1:{other.port}", "localhost"):
                r = httpx.get(
                    f"{alice.url}api/contents", headers={"Cookie": f"{name}={value}", "Host": host}
                )
                assert r.status_code in REFUSED + (404,), (name, host, r.status_code)
        # alice's other container is not reachable through this one's share API, even for a manager here
        dave = box["browsers"]["manage"]
        assert dave.request("GET", f"{API}/sessions/{other_session}/grants").status_code in (
            403,
            404,
        )
        assert dave.request(
            "PUT", f"{API}/sessions/{other_session}/grants/zed", {"permission": "view"}
        ).status_code in (403, 404)
    finally:
        other.stop()


def test_a_second_server_in_the_same_folder_takes_no_cookie_of_the_first(box):
    """Same folder, same store: the same container (session) and the same cookie secret file;
    the guest cookie is signed with the process's own secret."""
    alice = box["server"]
    twin = wait_ready(
        start_server(
            "alice",
            f"sqlite:///{box['work'] / 'share.db'}",
            box["work"],
            users=USERS,
            root=alice.root,
        )
    )
    try:
        assert twin.get("/sessions/current").json()["id"] == box["session"]
        jar = "; ".join(f"{k}={v}" for k, v in box["browsers"]["edit"].http.cookies.items())
        assert httpx.get(f"{twin.url}api/contents", headers={"Cookie": jar}).status_code in REFUSED
        assert httpx.get(f"{twin.url}{API}/me", headers={"Cookie": jar}).status_code in REFUSED
    finally:
        twin.stop()


class _CookieTrap:
    """Any server of a neighbour on the same host (another port): records the cookies that
    browsers send it."""

    def __init__(self):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.headers.get("Cookie", ""))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"hi")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.xfail(
    strict=True,
    reason="HOLE (deployment): cookies are not scoped by port; a guest visiting any "
    "neighbour's server on the same host name hands it the guest cookie, which works here as that guest",
)
def test_a_neighbours_server_cannot_replay_a_guests_cookie(box):
    trap = _CookieTrap()
    try:
        carol = box["browsers"]["edit"]
        carol.http.get(trap.url)  # carol opens a neighbour's container (their link, their server)
        stolen = trap.seen[-1]
        r = httpx.get(f"{box['server'].url}api/contents", headers={"Cookie": stolen})
        assert r.status_code in REFUSED
    finally:
        trap.close()


@pytest.mark.xfail(
    strict=True,
    reason="HOLE (jupyter_server, made likely by sharing): the owner's login cookie is "
    "sent to a neighbour's server on the same host when she opens their link; it is the owner here",
)
def test_a_neighbours_server_cannot_replay_the_owners_login_cookie(box):
    alice = box["server"]
    owner = httpx.Client(base_url=alice.url, follow_redirects=False, timeout=30)
    owner.get(f"login?token={alice.token}")
    assert any(k.startswith("username-") for k in owner.cookies.keys())
    trap = _CookieTrap()
    try:
        owner.get(trap.url)  # alice opens a neighbour's personal link
        r = httpx.get(f"{alice.url}{API}/images", headers={"Cookie": trap.seen[-1]})
        assert r.status_code in REFUSED
    finally:
        trap.close()


# -- 9. the rate limit ------------------------------------------------------------------------


def test_nobody_locks_a_valid_link_out(box):
    alice = box["server"]
    link = share(alice, "hank", "view")
    prowler = browser(alice)
    base = link.rsplit("/", 1)[0]
    wrong = [
        link[:-2] + "zz",
        base + "/0000000000000000.x",
        base + "/" + "a" * 200,
        link.rsplit(".", 1)[0],
        box["links"]["revoked"],
        box["links"]["expired"],
    ]
    codes = [
        prowler.http.get(
            wrong[i % len(wrong)], headers={"X-Forwarded-For": f"10.0.0.{i}"}
        ).status_code
        for i in range(15)
    ]
    assert 429 in codes and 302 not in codes
    assert prowler.http.get(link).status_code == 302
    assert browser(alice).http.get(link).status_code == 302
    assert alice.delete("/sessions/current/grants/hank").status_code == 204
