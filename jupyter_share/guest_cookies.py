"""The cookie that makes a browser a personal link's guest in this container.

Bound three ways, each checked on every request:
- to the container: its name and its signed claim carry the session resource's id, so a
  cookie for another container (another server of the same user, on another port of the same
  host) is nobody here;
- to this server process: it is signed with a secret made at start and kept only in memory
  (not the server's cookie secret, which every server of the OS user shares and a file
  holds), so a server restarted elsewhere, or a copy of the cookie secret, accepts none;
- to the link: the link must still be live (`PersonalLinks`), so revoking, expiry, a new link
  or leaving ends it.
Neither its name nor its check reads the request's Host header.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from tornado import web
from tornado.web import create_signed_value, decode_signed_value

#: How long a guest's signed cookie is accepted; the link is checked on every request anyway.
MAX_AGE_DAYS = 30


@dataclass(frozen=True)
class GuestClaim:
    link_id: str
    username: str
    session_id: str


class GuestCookies:
    def __init__(self) -> None:
        self._secret = secrets.token_hex(32)

    @staticmethod
    def name(session_id: str) -> str:
        return f"jupyter-share-guest-{session_id}"

    def set(self, handler: web.RequestHandler, claim: GuestClaim, path: str) -> None:
        name = self.name(claim.session_id)
        value = json.dumps(
            {"link": claim.link_id, "user": claim.username, "session": claim.session_id}
        )
        handler.set_cookie(
            name,
            create_signed_value(self._secret, name, value),
            path=path,
            httponly=True,
            samesite="Lax",
            secure=handler.request.protocol == "https",
        )

    def read(self, handler: web.RequestHandler, session_id: str) -> GuestClaim | None:
        name = self.name(session_id)
        raw = handler.get_cookie(name)
        if not raw:
            return None
        value = decode_signed_value(self._secret, name, raw, max_age_days=MAX_AGE_DAYS)
        if not value:
            return None
        try:
            data = json.loads(value)
            claim = GuestClaim(str(data["link"]), str(data["user"]), str(data["session"]))
        except (ValueError, KeyError, TypeError):
            return None
        return claim if claim.session_id == session_id else None

    def clear(self, handler: web.RequestHandler, session_id: str, path: str) -> None:
        handler.clear_cookie(self.name(session_id), path=path)
