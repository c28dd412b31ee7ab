"""No answer to anyone but the owner carries the server's secrets, whatever rendered it.

jupyter_server's templates write the server's token into pages for any signed-in user
(`data-jupyter-api-token`), JupyterLab into its page config, and other extensions may do the
same in pages of their own, error pages and redirects included. Rather than find each
renderer, the last step of every answer (a tornado output transform, ahead of compression)
masks the secrets in the status line's headers and body of every request that the server's
identity provider did not authenticate as the owner: guests and strangers alike.

The mask keeps each secret's length, so a declared Content-Length stays true.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional
from urllib.parse import quote

from tornado import httputil
from tornado.web import OutputTransform

from .auth import is_owner_request

#: Secrets shorter than this are not masked: they could not be secrets, and masking them
#: would mangle ordinary text.
_MIN_SECRET = 16


def _variants(secret: bytes) -> set[bytes]:
    text = secret.decode("latin-1")
    return {secret, quote(text, safe="").encode("latin-1"), quote(text).encode("latin-1")}


class SecretMask:
    """The secrets to mask, read afresh from `source` (a token may be changed by re-keying)."""

    def __init__(self, source: Callable[[], Iterable[Optional[str | bytes]]]):
        self.source = source

    def patterns(self) -> list[bytes]:
        found: set[bytes] = set()
        for secret in self.source():
            if not secret:
                continue
            raw = secret.encode() if isinstance(secret, str) else bytes(secret)
            if len(raw) >= _MIN_SECRET:
                found |= _variants(raw)
        return sorted(found, key=len, reverse=True)

    def mask(self, data: bytes, patterns: list[bytes]) -> bytes:
        for pattern in patterns:
            if pattern in data:
                data = data.replace(pattern, b"*" * len(pattern))
        return data


def secret_filter(mask: SecretMask) -> type:
    """An output transform class that masks `mask`'s secrets for every request not made by
    the owner."""

    class SecretFilter(OutputTransform):
        def __init__(self, request: httputil.HTTPServerRequest):
            super().__init__(request)
            self.request = request
            self.patterns: list[bytes] = []

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            if is_owner_request(self.request):
                return status_code, headers, chunk
            self.patterns = mask.patterns()
            pairs = list(headers.get_all())
            masked = [(n, mask.mask(v.encode("latin-1"), self.patterns).decode("latin-1")) for n, v in pairs]
            if masked != pairs:
                headers.clear()
                for name, value in masked:
                    headers.add(name, value)
            return status_code, headers, mask.mask(chunk, self.patterns)

        def transform_chunk(self, chunk, finishing):
            return mask.mask(chunk, self.patterns) if self.patterns else chunk

    return SecretFilter
