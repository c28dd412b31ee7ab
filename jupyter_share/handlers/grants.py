"""Endpoints about grants: list, share, revoke (optionally re-keying the container) and
re-issue a personal link."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from tornado import web

from ..model import InvalidInput
from ..serialize import grant_json
from .base import ShareAPIBase


class GrantsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        grants = await self.call(self.service.grants, kind, await self.resource_id(kind, raw_id))
        self.write_json({"items": [grant_json(g) for g in grants], "total": len(grants)})


class GrantEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def put(self, plural: str, raw_id: str, raw_principal: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        with_link = self.is_this_container(kind, rid)
        result = await self.call(
            self.service.share, kind, rid, raw_principal, self.json_body(), with_link
        )
        answer = grant_json(result.grant)
        if result.link_token:
            # Shown this once: only the secret's hash is kept.
            answer["link"] = self.link_url(result.link_token)
        self.write_json(answer, status=201 if result.created else 200)

    @web.authenticated
    @authorized
    async def delete(self, plural: str, raw_id: str, raw_principal: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        rekey = await self.call(
            self.service.check_rekey, kind, rid, self.get_query_argument("rekey", None)
        )
        if rekey and not await ensure_async(self.can_rekey(kind, rid)):
            raise InvalidInput(
                "a container is re-keyed by its own server: ask it there", field="rekey"
            )
        await self.call(self.service.revoke, kind, rid, raw_principal)
        if rekey:
            answer = await ensure_async(self.rekey())
            self.write_json(
                {"rekeyed": True, **(answer if isinstance(answer, dict) else {"message": answer})}
            )
            return
        self.set_status(204)
        self.finish()


class LinkReissueEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def post(self, plural: str, raw_id: str, raw_principal: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        with_link = self.is_this_container(kind, rid)
        token = await self.call(self.service.reissue_link, kind, rid, raw_principal, with_link)
        self.write_json({"link": self.link_url(token)}, status=201)
