"""The rules that surfaces ask instead of deciding (issue 13, "One rulebook"): each answered
by the service layer, here in-process, as handlers, the user server, the spawner hooks and
the store use them."""

from __future__ import annotations

import pytest

from jupyter_share.contract.values import quantity_bytes
from jupyter_share.directory import StandaloneDirectory
from jupyter_share.model import (
    NEW_RESOURCE_ID,
    Kind,
    Permission,
    ShareError,
    is_resource_id,
    new_resource_id,
    utcnow,
)
from jupyter_share.service import ShareService, holds, recorded_action
from jupyter_share.service.guests import guest_permission
from jupyter_share.store import SQLStore


@pytest.fixture
def service():
    store = SQLStore("sqlite://")
    yield ShareService(store, StandaloneDirectory(store=store, users=["bob"], groups={}))
    store.close()


@pytest.mark.parametrize(
    "method, path, status, answer, recorded",
    [
        ("POST", "images", 201, {"id": "x"}, (Kind.IMAGE, "create")),
        ("PATCH", "formations/x", 200, {}, (Kind.FORMATION, "update")),
        ("DELETE", "images/x", 204, {}, (Kind.IMAGE, "delete")),
        ("PUT", "sessions/x/grants/user:bob", 201, {}, (Kind.SESSION, "share")),
        ("PUT", "sessions/x/grants/user:bob", 200, {}, (Kind.SESSION, "change")),
        ("DELETE", "images/x/grants/group:lab", 204, {}, (Kind.IMAGE, "revoke")),
        ("POST", "sessions/x/grants/bob/link", 201, {}, (Kind.SESSION, "relink")),
        ("POST", "images/x/requests", 201, {}, (Kind.IMAGE, "ask")),
        ("DELETE", "images/x/requests/bob", 204, {}, (Kind.IMAGE, "withdraw")),
        ("POST", "images/x/requests/bob", 200, {"decision": "approve"}, (Kind.IMAGE, "approve")),
        ("POST", "images/x/requests/bob", 200, {"decision": "deny"}, (Kind.IMAGE, "deny")),
        ("POST", "me", 200, {}, None),
        ("GET", "shared-with-me", 200, {}, None),
    ],
)
def test_the_action_of_a_carried_call_is_the_one_the_rules_record(
    method, path, status, answer, recorded
):
    assert recorded_action(method, path, status, answer) == recorded


def test_a_created_container_is_refused_as_405_before_anything_is_read(service):
    with pytest.raises(ShareError) as refused:
        service.check_creatable(Kind.SESSION)
    assert refused.value.status == 405 and refused.value.field == "kind"
    service.check_creatable(Kind.IMAGE)  # images and formations are made by hand
    with pytest.raises(ShareError) as refused:
        service.create("alice", Kind.SESSION, {"name": "x"})
    assert refused.value.status == 405


def test_personal_links_open_only_the_container_answering(service):
    asked = []

    def here() -> str:
        asked.append(True)
        return "c0ffee"

    assert service.links_open_here(Kind.SESSION, "c0ffee", here)
    assert not service.links_open_here(Kind.SESSION, "other", here)
    assert not service.links_open_here(Kind.IMAGE, "c0ffee", here)
    assert not service.links_open_here(Kind.SESSION, "c0ffee", None)  # under JupyterHub
    assert len(asked) == 2  # never asked (and so never made) about anything but a container
    with pytest.raises(ShareError) as refused:
        service.reissue_link("alice", Kind.SESSION, "c0ffee", "bob", with_link=False)
    assert refused.value.status == 400 and "container they open" in refused.value.message


def test_a_guest_permission_comes_from_the_access_the_service_answered():
    assert guest_permission("view") == Permission.VIEW
    assert guest_permission("manage") == Permission.MANAGE
    assert guest_permission("owner") is None  # the owner is no guest
    assert guest_permission(None) is None
    assert guest_permission("admin") is None


def test_holds_orders_access_as_the_rules_do():
    assert holds("owner", "manage") and holds("manage", "manage")
    assert not holds("edit", "manage") and not holds(None, "view")


def test_one_id_format_and_one_size_format():
    made = new_resource_id()
    assert NEW_RESOURCE_ID.match(made) and is_resource_id(made)
    assert is_resource_id("my_old-id") and not NEW_RESOURCE_ID.match("my_old-id")
    assert not is_resource_id("../x") and not is_resource_id("x" * 33)
    assert quantity_bytes("1.5Gi") == 1536 * 1024**2 and quantity_bytes("512M") == 512 * 1024**2
    assert quantity_bytes("1073741824") == 1024**3
    for bad in ("512i", "4GB", "", None, 4):
        assert quantity_bytes(bad) is None


def test_the_store_writes_the_entries_it_is_given(service):
    """What a new and a changed grant, an expiry and a purge record is the service's choice."""
    image = service.create("alice", Kind.IMAGE, {"name": "i", "spec": {"reference": "busybox"}})
    rid = image.resource.id
    service.share("alice", Kind.IMAGE, rid, "bob", {"permission": "view"})
    service.share("alice", Kind.IMAGE, rid, "bob", {"permission": "edit"})
    actions = [e.action for e in service.history("alice", Kind.IMAGE, rid).items]
    assert actions == ["create", "share", "change"]
    assert service.store.purge_history(utcnow(), keep_last=("share",)) == 2
    assert [e.action for e in service.history("alice", Kind.IMAGE, rid).items] == ["share"]


def test_guests_never_build_environments_whatever_the_routes_say():
    from jupyter_share.service.guests import Guest, building_refused

    assert building_refused(None) is None  # the owner
    for permission in Permission:
        guest = Guest("bob", "alice", permission, "link")
        assert "guests may not build environments" in (building_refused(guest) or "")
