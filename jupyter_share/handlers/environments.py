"""Endpoints about environments: an image's environment file, using an image here and the
builds of environments in the container answering."""

from __future__ import annotations

from typing import cast

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from .. import contract
from ..contract import bodies
from .base import API_PREFIX, ShareAPIBase
from .standalone import ShareAPIHandler


class EnvironmentEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, raw_id: str):
        filename, content_type, text = await self.call(
            self.service.environment_file, raw_id, self.get_query_argument("format", "requirements")
        )
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.finish_text(text, content_type)


class UseImageEndpoint(ShareAPIBase):
    """Use an image here: GET what would be built (Python captured and used, packages,
    what stands in the way), POST to build it (202; 200 when it is built or being built)."""

    @web.authenticated
    @authorized
    async def get(self, raw_id: str):
        image = await self.image_to_use(raw_id)
        self.write_json(await self.run(self.environments.plan_json, image, self.username))

    @web.authenticated
    @authorized
    async def post(self, raw_id: str):
        if self.request.body:  # optional; when sent, an empty JSON object
            contract.parse(bodies.UseImageRequest, self.json_body())
        image = await self.image_to_use(raw_id)
        environment, started = await self.run(self.environments.use, image, self.username)
        # Built by a Jupyter server (`environments` refuses elsewhere): it has a base_url.
        base_url = cast(ShareAPIHandler, self).base_url
        self.set_header(
            "Location", url_path_join(base_url, API_PREFIX, "environments", environment["id"])
        )
        self.write_json(environment, status=202 if started else 200)


class BuiltEnvironmentsEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self):
        items = await self.run(self.environments.list, self.username)
        self.write_json({"items": items, "total": len(items)})


class BuiltEnvironmentEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, env_id: str):
        self.write_json(await self.run(self.environments.get, self.username, env_id))

    @web.authenticated
    @authorized
    async def delete(self, env_id: str):
        await self.run(self.environments.remove, self.username, env_id)
        self.set_status(204)
        self.finish()


class BuiltEnvironmentCancelEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def post(self, env_id: str):
        self.write_json(await self.run(self.environments.cancel, self.username, env_id))


class BuiltEnvironmentLogEndpoint(ShareAPIBase):
    @web.authenticated
    @authorized
    async def get(self, env_id: str):
        text = await self.run(self.environments.log, self.username, env_id)
        self.finish_text(text, "text/plain; charset=UTF-8")
