"""The client's exceptions: the server's own classes (`jupyter_share.model`) plus those only a
client meets (no answer, no server found, 401, 405, 5xx), and the one that an answer maps to."""

from __future__ import annotations

import httpx

from ..model import Conflict, Forbidden, InvalidInput, NotFound, ShareError

# The server's own classes (jupyter_share.model): what the service raises is what the client
# raises for the same answer (a 400 is a BadRequest, which is an InvalidInput).


class BadRequest(InvalidInput):
    """400: bad input, e.g. an unknown user (with a "did you mean" hint) or permission."""


class NotSignedIn(ShareError):
    """401: no token, or a token the server does not accept."""

    status = 401
    reason = "Unauthorized"


class MethodNotAllowed(ShareError):
    """405: e.g. creating a session by hand."""

    status = 405
    reason = "Method Not Allowed"


class ServerError(ShareError):
    """5xx: the server failed; its log has the details."""

    status = 500
    reason = "Internal Server Error"


class Unreachable(ShareError):
    """No answer: the server is down, or the URL is wrong."""

    status = None
    reason = None


class NoServerFound(ShareError):
    """No URL was given and none of the ways to find the server worked."""

    status = None
    reason = None


_ERRORS_BY_STATUS = {
    400: BadRequest,
    401: NotSignedIn,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
}


def _error_from_response(response: httpx.Response) -> ShareError:
    status = response.status_code
    message, reason, field = None, response.reason_phrase, None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") if isinstance(body.get("message"), str) else None
        reason = body.get("reason") or reason
        field = body.get("field") if isinstance(body.get("field"), str) else None
    if not message:
        # Not an answer of the share API (a proxy, or a server without the extension).
        message = f"{status} {reason}" + (
            " (is jupyter_share enabled on this server?)" if status == 404 else ""
        )
    cls = _ERRORS_BY_STATUS.get(status, ServerError if status >= 500 else ShareError)
    return cls(message, status=status, reason=reason, field=field)


# -- finding the server ------------------------------------------------------------------------
