"""Re-keying this server: a new token and a new cookie secret, so that nothing a departed edit
guest could have copied (edit runs code as the owner: the runtime files, the cookie secret
file and the process's environment are all readable to them) still opens the server.

The owner's browser keeps its session: the answer that re-keys sets the owner's login cookie
anew, signed with the new secret. Every other login cookie and token stops working; the
runtime files (`jupyter server list`, the browser-open file) are rewritten with the new token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from base64 import encodebytes
from typing import Any

from jupyter_core.paths import secure_write
from tornado import web


def rekey(serverapp: Any, handler: web.RequestHandler) -> None:
    """Give `serverapp` a new token and cookie secret; keep `handler`'s user signed in."""
    provider = serverapp.identity_provider
    key = encodebytes(os.urandom(32))
    if serverapp.cookie_secret_file and os.path.exists(serverapp.cookie_secret_file):
        with secure_write(serverapp.cookie_secret_file, True) as f:
            f.write(key)
    # As jupyter_server derives it from the file's key (ServerApp._default_cookie_secret).
    digest = hmac.new(key, digestmod=hashlib.sha256)
    digest.update(serverapp.password.encode())
    cookie_secret = provider.cookie_secret_hook(digest).digest()
    serverapp.cookie_secret = cookie_secret
    serverapp.web_app.settings["cookie_secret"] = cookie_secret
    if provider.token:
        provider.token = secrets.token_hex(24)
    serverapp.write_server_info_file()
    if getattr(serverapp, "open_browser", False) or os.path.exists(
        getattr(serverapp, "browser_open_file", "")
    ):
        serverapp.write_browser_open_files()
    if handler.current_user is not None:
        provider.set_login_cookie(handler, handler.current_user)
