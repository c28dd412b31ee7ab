"""Formations launched as servers of the caller's on this machine, and stopped."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import contract
from ..contract import bodies
from ..model import Kind
from ..serialize import resource_json
from .base import ShareAPIBase


class LaunchEndpoint(ShareAPIBase):
    """Launch a formation on this machine: a new server of the caller's, listed as their own
    container (201), or once its image's environment is built (202)."""

    @web.authenticated
    @authorized
    async def post(self, raw_id: str):
        body = self.json_body()
        # Optional: {} or {"name": ...}; checked before anything is looked up.
        name = contract.parse(bodies.LaunchRequest, body).name if body is not None else None
        launcher = self.launcher
        formation, image = await self.call(self.service.formation_to_launch, raw_id)
        answer, status = await self.run(launcher.launch, self.username, formation, image, name)
        self.write_json(answer, status=status)


class StopEndpoint(ShareAPIBase):
    """Stop a container this server launched (its owner only)."""

    @web.authenticated
    @authorized
    async def post(self, plural: str, raw_id: str):
        if self.request.body:  # optional; when sent, an empty JSON object
            contract.parse(bodies.StopRequest, self.json_body())
        launcher = self.launcher
        container = await self.call(self.service.container_to_stop, await self.session_id(raw_id))
        await self.run(launcher.stop, self.username, container)
        self.write_json(
            resource_json(await self.call(self.service.view, Kind.SESSION, container.id))
        )
