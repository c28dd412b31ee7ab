"""What a guest (a neighbour signed in by a personal link, or let in by a Hub share) may call in
the owner's container: the one place that decides it.

Default-deny. Every request of a guest is checked, as it is authenticated, against `ROUTES`:
the handler class that tornado chose for it (not the path as written, so encodings, case, `//`
or `..` cannot reach a route under another name) and the HTTP method. A handler that is not
listed, such as one another extension adds later, is refused for every guest.

    view    read files, notebooks, kernelspecs, sessions and saved output; nothing that writes,
            starts or runs anything; of the share API only /me, shared-with-me, leaving and
            asking for more
    edit    what a user does (files, kernels, terminals, documents), but not shutting the server
            down, changing the owner's settings, config or installation (lab build, extensions,
            plugins), nor the server's metrics
    manage  edit, and may share the container with others (each with their own link)

`docs/decisions.md` says what each level trusts a guest with.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from jupyter_core.paths import jupyter_config_dir, jupyter_data_dir, jupyter_runtime_dir
from tornado import web

from ..model import InvalidInput, Permission

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

VIEW, EDIT = Permission.VIEW, Permission.EDIT


@dataclass(frozen=True)
class Guest:
    username: str
    owner: str
    permission: Permission
    #: The personal link (standalone) or `hub:<name>` (a Hub share) the guest came in by.
    link_id: str

    def describe(self) -> str:
        if self.permission == Permission.VIEW:
            return f"{self.owner}'s container, {self.permission.label} only"
        return f"{self.owner}'s container, {self.permission.label}"


#: A further condition on a listed route: why this request is refused, or None.
Check = Callable[[Guest, web.RequestHandler, bool], str | None]


@dataclass(frozen=True)
class Route:
    """A handler class a guest may call: the least permission for reading methods and for
    writing ones (None: never), and an optional further check."""

    handler: str
    read: Permission | None = VIEW
    write: Permission | None = None
    check: Check | None = None


def _share_api(guest: Guest, handler: web.RequestHandler, hub: bool) -> str | None:
    """Of the share API a guest uses /me and shared-with-me, and this container
    (`sessions/current`: its grants when managing, leaving and asking for more at any level);
    the service's rules decide the rest. Under JupyterHub guests share from their own server:
    /me only."""
    name = type(handler).__name__
    if hub or name == "HubProxyHandler":
        me = (
            name == "HubProxyHandler"
            and handler.path_args[:1] == ["me"]
            and handler.request.method == "GET"
        )
        return None if me else "guests share from their own server: this one offers them /me only"
    if name in ("MeHandler", "SharedWithMeHandler"):
        return None
    if name == "DirectoryHandler" and guest.permission >= Permission.MANAGE:
        return None  # the user picker, to share this container onward
    args = handler.path_args
    if len(args) >= 2 and args[0] == "sessions" and args[1] == "current":
        return None
    return "guests share from their own server: this container offers them /me, shared-with-me and its own grants"


def _own_workspace(guest: Guest, handler: web.RequestHandler, hub: bool) -> str | None:
    """A guest's JupyterLab keeps its layout in a workspace of its own (`guest_workspace`);
    the owner's workspaces are theirs."""
    if handler.request.method in READ_METHODS:
        return None
    name = (handler.path_kwargs.get("space_name") or "").strip("/")
    return (
        None
        if name == guest_workspace(guest.username)
        else "the owner's workspaces are theirs: a guest saves only their own"
    )


def _file_path(handler: web.RequestHandler) -> str | None:
    kwargs = handler.path_kwargs
    if "path" in kwargs:
        return kwargs["path"] or ""
    if "tree" in kwargs:  # JupyterLab's /lab/tree/...
        return (kwargs["tree"] or "").removeprefix("/tree")
    return handler.path_args[0] if handler.path_args else None


def _within(path: str, folder: str) -> bool:
    folder = os.path.realpath(folder)
    return path == folder or path.startswith(folder + os.sep)


def _shown_file(guest: Guest, handler: web.RequestHandler, hub: bool) -> str | None:
    """Guests never reach hidden files, nor the server's runtime, data or config folders
    (its token, cookie secret and store live there), whatever `ContentsManager.allow_hidden`
    says and however the path is spelt."""
    path = _file_path(handler)
    if path is None:
        return None
    parts = [p for p in re.split(r"[/\\]+", unquote(path)) if p]
    if any(p.startswith(".") for p in parts):
        return "hidden files are the owner's"
    root = handler.settings.get("server_root_dir") or ""
    full = os.path.realpath(os.path.join(os.path.expanduser(root), *parts))
    for folder in (jupyter_runtime_dir(), jupyter_data_dir(), jupyter_config_dir()):
        if _within(full, folder):
            return "the server's own files are the owner's"
    return None


def _converted_as_text(guest: Guest, handler: web.RequestHandler, hub: bool) -> str | None:
    """A conversion is answered to a guest only as text, which `secret_filter` can read:
    archives and PDFs (a document with images, LaTeX) could carry the server's secrets past it."""
    handler.request._jupyter_share_text_only = True  # type: ignore[attr-defined]
    return _shown_file(guest, handler, hub)


def guest_workspace(username: str) -> str:
    """The JupyterLab workspace of a guest's layout in someone else's container."""
    return f"jupyter-share-guest-{username}"


def _routes(*routes: Route) -> dict[str, Route]:
    return {r.handler: r for r in routes}


#: Every handler a guest may reach, by qualified class name. Anything else is refused.
ROUTES: dict[str, Route] = _routes(
    # jupyter_server: pages and redirects
    Route("jupyter_server.base.handlers.MainHandler"),
    Route("jupyter_server.base.handlers.TrailingSlashHandler"),
    Route("jupyter_server.base.handlers.Template404"),
    Route("jupyter_server.base.handlers.RedirectWithParams"),
    Route("jupyter_server.base.handlers.FileFindHandler"),
    Route("jupyter_server.base.handlers.PublicStaticFileHandler"),
    Route("jupyter_server.base.handlers.AuthenticatedFileHandler", check=_shown_file),
    Route("jupyter_server.view.handlers.ViewHandler", check=_shown_file),
    Route("jupyter_server.kernelspecs.handlers.KernelSpecResourceHandler"),
    Route("jupyter_server.nbconvert.handlers.NbconvertFileHandler", check=_converted_as_text),
    Route(
        "jupyter_server.nbconvert.handlers.NbconvertPostHandler",
        read=VIEW,
        write=EDIT,
        check=_converted_as_text,
    ),
    # jupyter_server: the REST API
    Route("jupyter_server.base.handlers.APIVersionHandler"),
    Route("jupyter_server.services.api.handlers.APIStatusHandler"),
    Route("jupyter_server.services.api.handlers.APISpecHandler"),
    Route("jupyter_server.services.api.handlers.IdentityHandler"),  # PATCH /api/me: never
    Route("jupyter_server.services.api.handlers.PathResolverHandler"),
    Route("jupyter_server.services.config.handlers.ConfigHandler"),  # writes: the owner's
    Route(
        "jupyter_server.services.contents.handlers.ContentsHandler", write=EDIT, check=_shown_file
    ),
    Route(
        "jupyter_server.services.contents.handlers.CheckpointsHandler",
        write=EDIT,
        check=_shown_file,
    ),
    Route(
        "jupyter_server.services.contents.handlers.ModifyCheckpointsHandler",
        write=EDIT,
        check=_shown_file,
    ),
    Route(
        "jupyter_server.services.contents.handlers.TrustNotebooksHandler",
        write=EDIT,
        check=_shown_file,
    ),
    Route("jupyter_server.services.contents.handlers.NotebooksRedirectHandler"),
    Route("jupyter_server.services.kernels.handlers.MainKernelHandler", write=EDIT),
    Route("jupyter_server.services.kernels.handlers.KernelHandler", write=EDIT),
    Route("jupyter_server.services.kernels.handlers.KernelActionHandler", write=EDIT),
    # Websockets are GETs: the least permission is given as `read`.
    Route("jupyter_server.services.kernels.websocket.KernelWebsocketHandler", read=EDIT),
    Route("jupyter_server.services.kernelspecs.handlers.MainKernelSpecHandler"),
    Route("jupyter_server.services.kernelspecs.handlers.KernelSpecHandler"),
    Route("jupyter_server.services.sessions.handlers.SessionRootHandler", write=EDIT),
    Route("jupyter_server.services.sessions.handlers.SessionHandler", write=EDIT),
    Route("jupyter_server.services.nbconvert.handlers.NbconvertRootHandler"),
    Route("jupyter_server.services.security.handlers.CSPReportHandler", write=VIEW),
    Route("jupyter_server.services.events.handlers.EventHandler", read=None, write=EDIT),
    # The server's event stream: the owner's activity, live.
    Route("jupyter_server.services.events.handlers.SubscribeWebsocket", read=EDIT),
    # jupyter-server-terminals
    Route("jupyter_server_terminals.api_handlers.TerminalRootHandler", write=EDIT),
    Route("jupyter_server_terminals.api_handlers.TerminalHandler", write=EDIT),
    Route("jupyter_server_terminals.handlers.TermSocket", read=EDIT),
    # JupyterLab (jupyterlab_server and jupyterlab): pages and read-only listings; settings
    # and the installation (build, extensions, plugins) are the owner's.
    Route("jupyterlab_server.handlers.LabHandler", check=_shown_file),
    Route("jupyterlab_server.handlers.NotFoundHandler"),
    Route("jupyterlab_server.licenses_handler.LicensesHandler"),
    Route("jupyterlab_server.listings_handler.ListingsHandler"),
    Route("jupyterlab_server.settings_handler.SettingsHandler"),
    Route("jupyterlab_server.themes_handler.ThemesHandler"),
    Route("jupyterlab_server.translations_handler.TranslationsHandler"),
    Route(
        "jupyterlab_server.workspaces_handler.WorkspacesHandler", write=VIEW, check=_own_workspace
    ),
    Route("jupyterlab.handlers.announcements.NewsHandler"),
    Route("jupyterlab.handlers.announcements.CheckForUpdateHandler"),
    Route("jupyterlab.handlers.extension_manager_handler.ExtensionHandler"),
    Route("jupyterlab.handlers.plugin_manager_handler.PluginHandler"),
    # jupyter-lsp: language servers run processes
    Route("jupyter_lsp.handlers.LanguageServersHandler"),
    Route("jupyter_lsp.handlers.LanguageServerWebSocketHandler", read=EDIT),
    # jupyter-collaboration: shared documents. A view guest joins a room read-only: the
    # server drops what their socket would change (`readonly_rooms`). Opening a document's
    # session (PUT) only names its room.
    Route("jupyter_server_ydoc.handlers.DocSessionHandler", write=VIEW),
    Route("jupyter_server_ydoc.handlers.YDocWebSocketHandler"),
    Route("jupyter_server_ydoc.handlers.TimelineHandler", read=EDIT, write=EDIT),
    Route("jupyter_server_ydoc.handlers.UndoRedoHandler", read=EDIT, write=EDIT),
    # jupyter_share: the share API (the service's rules decide within it) and link sign-in
    *(
        Route(f"jupyter_share.handlers.{name}", write=VIEW, check=_share_api)
        for name in (
            "MeHandler",
            "DirectoryHandler",
            "SharedWithMeHandler",
            "CollectionHandler",
            "ResourceHandler",
            "GrantsHandler",
            "GrantHandler",
            "LinkReissueHandler",
            "HistoryHandler",
            "EnvironmentHandler",
            "GuestsHandler",
            "RequestsHandler",
            "RequestHandler",
        )
    ),
    Route("jupyter_share.hub.userserver.handlers.HubProxyHandler", check=_share_api),
    Route("jupyter_share.handlers.LinkSignInHandler"),
)

#: Handlers where a guest is nobody: signing in with the server's own credentials, and out.
ANONYMOUS_FOR_GUESTS = frozenset(
    {
        "jupyter_server.auth.login.LoginFormHandler",
        "jupyter_server.auth.login.LoginHandler",
        "jupyter_server.auth.logout.LogoutHandler",
    }
)


def handler_name(handler_class: type) -> str:
    return f"{handler_class.__module__}.{handler_class.__qualname__}"


def refusal(guest: Guest, handler: web.RequestHandler, hub: bool = False) -> str | None:
    """Why `guest` may not make this request, or None if it may go on."""
    route = ROUTES.get(handler_name(type(handler)))
    if route is None:
        return "guests may not use this part of the server"
    method = (handler.request.method or "").upper()
    need = (
        route.read if method in READ_METHODS else route.write if method in _WRITE_METHODS else None
    )
    if need is None:
        return "only the owner may do this"
    if guest.permission < need:
        return "view only: you cannot change or run anything here"
    return route.check(guest, handler, hub) if route.check else None


def building_refused(guest: Guest | None) -> str | None:
    """Environments are built in the owner's container, with the owner's rights: never by a
    guest, at any level, whatever `ROUTES` lists (it lists no environment handler either)."""
    return None if guest is None else "guests may not build environments in the owner's container"


def guest_permission(access: str | None) -> Permission | None:
    """What a user may do as a guest in a container, from the service's answer about their
    access to it (`ShareService.guest_access`: "owner", a permission's label, or None): its
    owner is no guest, and anything else unexpected lets nobody in."""
    if access is None:
        return None
    try:
        return Permission.parse(access)
    except InvalidInput:  # "owner", or anything unexpected
        return None


def may_change_documents(permission: Permission | None) -> bool:
    """Whether a guest holding `permission` now may change a shared document live (a room of
    jupyter-collaboration): edit and above; view guests only watch."""
    return permission is not None and permission >= EDIT


def refused_on_socket(guest: Guest, handler_class: type) -> bool:
    """Whether an open websocket of `handler_class` may no longer be held by `guest`."""
    route = ROUTES.get(handler_name(handler_class))
    return route is None or route.read is None or guest.permission < route.read
