"""Endpoints about access requests: mine, a resource's, and deciding or withdrawing one."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..serialize import grant_json, request_json
from .base import ShareAPIBase


class MyRequestsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        found = await self.call(self.service.requests_for_me)
        self.write_json({key: [request_json(v) for v in views] for key, views in found.items()})


class RequestsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        views = await self.call(
            self.service.requests_on, kind, await self.resource_id(kind, raw_id)
        )
        self.write_json({"items": [request_json(v) for v in views], "total": len(views)})

    @web.authenticated
    @authorized
    async def post(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        self.write_json(
            request_json(await self.call(self.service.ask, kind, rid, self.json_body())), status=201
        )


class RequestEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def post(self, plural: str, raw_id: str, raw_requester: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        with_link = self.is_this_container(kind, rid)
        decided = await self.call(
            self.service.decide, kind, rid, raw_requester, self.json_body(), with_link
        )
        answer: dict = {
            "decision": decided.decision,
            "requester": decided.request.requester,
            "permission": decided.request.permission.label,
        }
        if decided.share:
            answer["grant"] = grant_json(decided.share.grant)
        if decided.share and decided.share.link_token:
            answer["link"] = self.link_url(decided.share.link_token)
        self.write_json(answer)

    @web.authenticated
    @authorized
    async def delete(self, plural: str, raw_id: str, raw_requester: str):
        kind = self.kind(plural)
        await self.call(
            self.service.withdraw, kind, await self.resource_id(kind, raw_id), raw_requester
        )
        self.set_status(204)
        self.finish()
