"""No answer to anyone but the owner carries the server's secrets, whatever rendered it.

jupyter_server's templates write the server's token into pages for any signed-in user
(`data-jupyter-api-token`), JupyterLab into its page config, and other extensions may do the
same in pages of their own, error pages and redirects included. Rather than find each
renderer, the last step of every answer (a tornado output transform, ahead of compression)
masks the secrets in the headers and body of every request that the server's identity
provider did not authenticate as the owner: guests and strangers alike.

What it reads: text as sent (raw and URL-quoted forms), across the chunks of a streamed
answer, and the base64 `content` of a contents API answer (decoded, masked, encoded again).
What it cannot read, it refuses where it can: a conversion (nbconvert) answered as an
archive or a PDF to a guest (`guests._converted_as_text`). Files a guest may read are
otherwise served as they are: `docs/decisions.md` says what that means.

The mask keeps each secret's length, so a declared Content-Length stays true.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from urllib.parse import quote

from tornado import httputil
from tornado.web import OutputTransform

from .auth import is_owner_request

#: Secrets shorter than this are not masked: masking them would mangle ordinary text. The
#: extension warns at start about a token this short; templates get no token for a guest's
#: request whatever its length (`guest_door.GuestDoor.admit`).
MIN_SECRET = 8

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/x-ipynb+json",
    "application/xml",
    "image/svg+xml",
)


def _variants(secret: bytes) -> set[bytes]:
    text = secret.decode("latin-1")
    return {secret, quote(text, safe="").encode("latin-1"), quote(text).encode("latin-1")}


class SecretMask:
    """The secrets to mask, read afresh from `source` (a token may be changed by re-keying)."""

    def __init__(self, source: Callable[[], Iterable[str | bytes | None]]):
        self.source = source

    def patterns(self) -> list[bytes]:
        found: set[bytes] = set()
        for secret in self.source():
            if not secret:
                continue
            raw = secret.encode() if isinstance(secret, str) else bytes(secret)
            if len(raw) >= MIN_SECRET:
                found |= _variants(raw)
        return sorted(found, key=len, reverse=True)

    @staticmethod
    def mask(data: bytes, patterns: list[bytes]) -> bytes:
        for pattern in patterns:
            if pattern in data:
                data = data.replace(pattern, b"*" * len(pattern))
        return data

    def mask_contents_model(self, body: bytes, patterns: list[bytes]) -> bytes:
        """A contents API answer with base64 content: mask the decoded bytes."""
        if b'"base64"' not in body or not body.lstrip().startswith(b"{"):
            return body
        try:
            model = json.loads(body)
            content = model.get("content") if isinstance(model, dict) else None
            if model.get("format") != "base64" or not isinstance(content, str):
                return body
            raw = base64.b64decode(content)
        except (ValueError, binascii.Error, AttributeError):
            return body
        masked = self.mask(raw, patterns)
        if masked == raw:
            return body
        encoded = base64.encodebytes(masked) if "\n" in content else base64.b64encode(masked)
        model["content"] = encoded.decode("ascii")
        return json.dumps(model).encode()


def _is_text(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower().startswith(_TEXT_TYPES)


def secret_filter(mask: SecretMask) -> type:
    """An output transform class that masks `mask`'s secrets for every request not made by
    the owner."""

    class SecretFilter(OutputTransform):
        def __init__(self, request: httputil.HTTPServerRequest):
            super().__init__(request)
            self.request = request
            self.patterns: list[bytes] = []
            self.tail = b""  # the end of the last chunk, held back: a secret may straddle two
            self.replaced: bytes | None = None  # a refusal sent instead of a streamed body

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            if is_owner_request(self.request):
                return status_code, headers, chunk
            self.patterns = mask.patterns()
            pairs = list(headers.get_all())
            masked = [
                (n, mask.mask(v.encode("latin-1"), self.patterns).decode("latin-1"))
                for n, v in pairs
            ]
            if masked != pairs:
                headers.clear()
                for name, value in masked:
                    headers.add(name, value)
            if (
                status_code < 300
                and getattr(self.request, "_jupyter_share_text_only", False)
                and not _is_text(headers.get("Content-Type", ""))
            ):
                body = json.dumps(
                    {"message": "a guest gets conversions as text only", "reason": "Forbidden"}
                ).encode()
                headers["Content-Type"] = "application/json"
                headers.pop("Content-Disposition", None)
                if finishing:
                    headers["Content-Length"] = str(len(body))
                    return 403, headers, body
                headers.pop("Content-Length", None)
                self.replaced = body
                return 403, headers, b""
            if finishing:
                chunk = mask.mask(mask.mask_contents_model(chunk, self.patterns), self.patterns)
                if "Content-Length" in headers:
                    headers["Content-Length"] = str(len(chunk))
                return status_code, headers, chunk
            return status_code, headers, self._stream(chunk, finishing)

        def _stream(self, chunk: bytes, finishing: bool) -> bytes:
            if self.replaced is not None:  # refused above: the rest of the body is dropped
                out, self.replaced = (self.replaced, b"") if finishing else (b"", self.replaced)
                return out
            data = mask.mask(self.tail + chunk, self.patterns)
            if finishing or not self.patterns:
                self.tail = b""
                return data
            keep = max(len(p) for p in self.patterns) - 1
            self.tail = data[-keep:] if keep else b""
            return data[:-keep] if keep else data

        def transform_chunk(self, chunk, finishing):
            if is_owner_request(self.request) or (
                not self.patterns and not self.tail and self.replaced is None
            ):
                return chunk
            return self._stream(chunk, finishing)

    return SecretFilter
