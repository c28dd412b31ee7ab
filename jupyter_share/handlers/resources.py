"""Endpoints about the caller and resources: me, the directory, lists, one resource, its
history and who is in a container now."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..model import Kind
from ..serialize import audit_json, history_csv, me_json, page_json, resource_json
from .base import ShareAPIBase


class MeEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        found = await self.call(self.service.me)
        self.write_json(
            me_json(
                found["username"],
                found["groups"],
                self.display_name,
                self.mode,
                guest=await self.guest_banner(),
            )
        )


class DirectoryEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        self.write_json(
            await self.call(self.service.search_directory, self.get_query_argument("q", ""))
        )


class SharedWithMeEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        await self.finish_page(
            "shared-with-me",
            self.service.shared_with_me,
            self.get_query_argument("kind", None),
            self.get_query_argument("offset", None),
            self.get_query_argument("limit", None),
        )


class CollectionEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str):
        await self.finish_page(
            "list",
            self.service.list,
            self.kind(plural),
            self.get_query_argument("scope", "all"),
            self.get_query_argument("offset", None),
            self.get_query_argument("limit", None),
        )

    @web.authenticated
    @authorized
    async def post(self, plural: str):
        kind = self.kind(plural)
        self.service.check_creatable(kind)  # before the body is read, as it was
        view = await self.call(self.service.create, kind, self.json_body())
        self.set_header("Location", self.request.path.rstrip("/") + "/" + view.resource.id)
        self.write_json(resource_json(view), status=201)


class ResourceEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        self.write_json(
            resource_json(
                await self.call(self.service.view, kind, await self.resource_id(kind, raw_id))
            )
        )

    @web.authenticated
    @authorized
    async def patch(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        rid = await self.resource_id(kind, raw_id)
        self.write_json(
            resource_json(await self.call(self.service.update, kind, rid, self.json_body()))
        )

    @web.authenticated
    @authorized
    async def delete(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        await self.call(self.service.delete, kind, await self.resource_id(kind, raw_id))
        self.set_status(204)
        self.finish()


class HistoryEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        kind = self.kind(plural)
        fmt = self.service.history_format(self.get_query_argument("format", None))
        page = await self.call(
            self.service.history,
            kind,
            await self.resource_id(kind, raw_id),
            self.get_query_argument("offset", None),
            self.get_query_argument("limit", None),
            self.get_query_arguments("person") or None,
            self.get_query_arguments("action") or None,
            fmt,
        )
        if fmt == "csv":
            self.set_header("Content-Disposition", 'attachment; filename="history.csv"')
            self.finish_text(history_csv(page.items), "text/csv; charset=UTF-8")
            return
        self.write_json(page_json(page, audit_json))


class GuestsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, plural: str, raw_id: str):
        rid = await self.session_id(raw_id)
        # The rule first (owner and managers; 404 for whoever cannot see it), then the memory.
        await self.call(self.service.guests_in, Kind.SESSION, rid, [])
        items = await self.guests_now(rid)
        self.write_json({"items": items, "total": len(items)})
