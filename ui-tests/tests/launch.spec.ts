/**
 * Launch a formation on one machine (issue 16): bob launches alice's shared
 * formation from his panel; what a local server cannot honour is shown as not
 * applied, and the new server appears under his Containers as a second local
 * container of his own, which he stops from the panel.
 */
import {
  expect,
  openLab,
  openSharingPanel,
  row,
  section,
  servers,
  test,
} from "./fixtures";

test("bob launches alice’s shared formation as a second container of his", async ({
  page,
  alice,
  bob,
}) => {
  test.setTimeout(180000);
  const name = `lab-${Date.now().toString(36)}`;
  const formation = await alice.createFormation(name, {
    image: "docker.io/library/python:3.12",
    cpu: 2,
    memory: "4G",
    env: { MY_COURSE: "stats", PYTHONPATH: "/tmp/elsewhere" },
  });
  await alice.share("formation", formation.id, "bob", "view");

  await openLab(page, servers().bob);
  await openSharingPanel(page);
  await expect(section(page, "shared")).toContainText(name);
  const containers = section(page, "session");
  await expect(containers.locator(".jp-share-row")).toHaveCount(1);

  await row(page, formation.id).getByRole("button", { name: "Launch" }).click();

  const toast = page.locator(".Toastify__toast").filter({ hasText: name });
  await expect(toast).toContainText("Launched", { timeout: 120000 });
  await expect(toast).toContainText(
    "Not applied here: cpu, memory, image, env.PYTHONPATH.",
  );
  // In full, with values and reasons, one click away.
  await toast.getByRole("button", { name: "Not applied…" }).click();
  const dialog = page.locator(".jp-Dialog");
  for (const field of [
    "cpu 2",
    "memory 4G",
    "image docker.io/library/python:3.12",
    "env.PYTHONPATH",
  ]) {
    await expect(dialog.locator(".jp-share-not-applied")).toContainText(field);
  }
  await expect(dialog).toContainText("no limit is set");
  await dialog.getByRole("button", { name: "Close" }).click();

  // The second local container, his own, in his panel.
  await expect(containers.locator(".jp-share-row")).toHaveCount(2);
  const launched = containers.locator(".jp-share-row", { hasText: name });
  await expect(launched).toHaveAttribute("data-share-access", "owner");
  const id = (await launched.getAttribute("data-resource-id"))!;
  const container = await bob.get("session", id);
  expect(container.owner).toBe("bob");
  expect(container.spec.launched_from).toBe(`formation:${formation.id}`);

  // Stopped from the panel: the row says so.
  await launched.getByRole("button", { name: "Stop" }).click();
  await expect(launched.locator(".jp-share-state")).toHaveText("stopped", {
    timeout: 30000,
  });
  expect((await bob.get("session", id)).spec.state).toBe("stopped");

  await bob.call("DELETE", `sessions/${id}`);
  await alice.call("DELETE", `formations/${formation.id}`);
});
