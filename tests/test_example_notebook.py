"""examples/share-from-a-notebook.ipynb, run cell by cell by nbclient in a kernel that a real
`jupyter server` started through its REST API, as JupyterLab does: `ShareClient()` with no
arguments finds that server, and the panels build there and work."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import nbformat
import pytest
from jupyter_client.asynchronous import AsyncKernelClient
from nbclient import NotebookClient

from .servers import running_servers

# Starts real servers, and runs the example notebook's kernel.
pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).parent.parent / "examples" / "share-from-a-notebook.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("notebook")
    with running_servers(["alice", "bob"], f"sqlite:///{workdir / 'share.db'}", workdir) as servers:
        yield servers


class ServerKernel:
    """A kernel started by a server's REST API (POST /api/kernels), and nbclient attached to
    it through the connection file in the server's runtime dir."""

    def __init__(self, server, notebook: nbformat.NotebookNode):
        self.server = server
        self.http = httpx.Client(
            base_url=server.url, headers={"Authorization": f"token {server.token}"}, timeout=60
        )
        self.notebook = notebook
        self.runner = NotebookClient(notebook, timeout=60, allow_errors=False)
        self.kernel_id = None

    async def __aenter__(self) -> ServerKernel:
        r = self.http.post("api/kernels", json={"name": "python3"})
        assert r.status_code == 201, r.text
        self.kernel_id = r.json()["id"]
        connection_file = self.server.root / ".runtime" / f"kernel-{self.kernel_id}.json"
        kc = AsyncKernelClient(connection_file=str(connection_file))
        kc.load_connection_file()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        self.runner.kc = kc
        return self

    async def run(self, index: int) -> nbformat.NotebookNode:
        """Run the notebook's cell `index`; nbclient raises CellExecutionError on an error."""
        cell = self.notebook.cells[index]
        await self.runner.async_execute_cell(cell, index)
        return cell

    async def run_code(self, source: str) -> nbformat.NotebookNode:
        self.notebook.cells.append(nbformat.v4.new_code_cell(source))
        return await self.run(len(self.notebook.cells) - 1)

    async def __aexit__(self, *exc) -> None:
        self.runner.kc.stop_channels()
        self.http.delete(f"api/kernels/{self.kernel_id}")
        self.http.close()


def stdout(cell) -> str:
    return "".join(
        o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout"
    )


def shown(cell) -> dict:
    """The display data of the cell's result (execute_result or display_data)."""
    results = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
    assert len(results) == 1, cell.outputs
    return results[0]["data"]


def example_cell(cells: list, containing: str):
    """The one code cell whose source has `containing`."""
    matches = [c for c in cells if c.cell_type == "code" and containing in c.source]
    assert len(matches) == 1, containing
    return matches[0]


def test_the_example_notebook_in_a_kernel_of_a_real_server(pair):
    alice, bob = pair["alice"], pair["bob"]
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        assert cell.cell_type != "code" or not cell.outputs, "the example is kept without outputs"
    # The example's own cells (they get their outputs in place); the test appends more.
    example = list(notebook.cells)

    async def in_alices_kernel():
        async with ServerKernel(alice, notebook) as kernel:
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type == "code":
                    await kernel.run(index)
            # What a click does in the browser, done here in the same kernel.
            shared = await kernel.run_code(
                "panel = SharePanel()\n"
                "panel.principal_input.value = 'bob'\n"
                "panel.share_button.click()\n"
                "print(panel.status_text)\n"
                "print(panel.personal_link.layout.display is None)"
            )
            kernel.runner.set_widgets_metadata()
            return shared

    shared = asyncio.run(in_alices_kernel())

    # ShareClient() found its server by JPY_PARENT_PID and the server's runtime file.
    found = example_cell(example, "share = ShareClient()")
    assert (
        stdout(found).strip()
        == f"ShareClient(url='{alice.url}') found through the runtime file of server pid {alice.process.pid}"
    )
    assert "'username': 'alice'" in shown(found)["text/plain"]

    # SharePanel() built there: a live widget, with a static fallback for a saved notebook.
    session = alice.get("/sessions/current").json()
    panel_data = shown(example_cell(example, "SharePanel()"))
    assert panel_data["text/plain"].splitlines() == [
        f"SharePanel: container '{session['name']}' of alice",
        "  not shared",
    ]
    assert "<p>Not shared.</p>" in panel_data["text/html"]
    state = notebook.metadata["widgets"][WIDGET_STATE]["state"]
    assert state[panel_data[WIDGET_VIEW]["model_id"]]["model_name"] == "VBoxModel"

    shown_shared = shown(example_cell(example, "SharedWithMe()"))
    assert shown_shared["text/plain"] == "SharedWithMe: nothing shared"
    shown_image = shown(example_cell(example, "ImagePanel()"))
    assert shown_image["text/plain"] == "ImagePanel: create an image from this container"

    refused = example_cell(example, "except ShareError")
    assert (
        stdout(refused).strip().startswith("BadRequest - unknown user 'bobb', did you mean 'bob'?")
    )

    # The click in the kernel shared the container with bob, and gave the personal link.
    assert stdout(shared).splitlines() == ["Shared with bob (view)", "True"]
    grants = alice.get("/sessions/current/grants").json()["items"]
    assert [(g["principal"], g["permission"]) for g in grants] == [("user:bob", "view")]

    # bob, in a notebook on his own server, sees it.
    async def in_bobs_kernel():
        bobs = nbformat.v4.new_notebook()
        async with ServerKernel(bob, bobs) as kernel:
            return await kernel.run_code(
                "import json\n"
                "from jupyter_share.widgets import SharedWithMe\n"
                "listed = SharedWithMe()\n"
                "print(listed.client.found_by)\n"
                "print(json.dumps([(r['kind'], r['name'], r['owner'], r['access']) for r in listed.items]))"
            )

    listed = stdout(asyncio.run(in_bobs_kernel())).splitlines()
    assert listed[0] == f"the runtime file of server pid {bob.process.pid}"
    assert json.loads(listed[1]) == [["session", session["name"], "alice", "view"]]
