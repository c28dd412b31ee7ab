/**
 * Use what was shared (issue 16): bob uses alice's shared image in his own
 * container. The build's progress shows in a notification; once ready, a
 * notebook on the new kernel imports the package that only that environment
 * has. Installs are offline: the image's wheels are written by the test
 * (tests/wheels.py), ipykernel's come from a wheelhouse fetched once.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { TestInfo } from "@playwright/test";

import {
  chooseMenuItem,
  expect,
  openLab,
  openSharingPanel,
  row,
  section,
  servers,
  test,
} from "./fixtures";

const ROOT = path.resolve(__dirname, "..", "..");

/** Write the image's wheels and fetch ipykernel's into the servers' find-links. */
function prepareWheels(): string {
  const workdir = process.env.JUPYTER_SHARE_UI_WORKDIR!;
  const python = process.env.JUPYTER_SHARE_PYTHON || "python3";
  const script = [
    "import sys, platform",
    `sys.path.insert(0, ${JSON.stringify(ROOT)})`,
    "from pathlib import Path",
    "from tests.wheels import kernel_wheelhouse, make_wheel",
    `work = Path(${JSON.stringify(workdir)})`,
    "make_wheel(work / 'wheels', 'caretpkg', '1.2', requires=('caretdep==0.5',), body='ANSWER = 42')",
    "make_wheel(work / 'wheels', 'caretdep', '0.5')",
    "import tempfile",
    "kernel_wheelhouse(Path(tempfile.gettempdir()) / 'jupyter-share-ui-kernel-wheels')",
    "import shutil; shutil.copytree(Path(tempfile.gettempdir()) / 'jupyter-share-ui-kernel-wheels', work / 'kernel-wheels', dirs_exist_ok=True)",
    "print(platform.python_version())",
  ].join("\n");
  return execFileSync(python, ["-c", script], { encoding: "utf-8" }).trim();
}

async function keepScreenshot(
  png: Buffer,
  name: string,
  testInfo: TestInfo,
): Promise<void> {
  await testInfo.attach(name, { body: png, contentType: "image/png" });
  if (process.env.JUPYTER_SHARE_UI_SCREENSHOTS) {
    const docs = path.join(ROOT, "docs", "images");
    fs.mkdirSync(docs, { recursive: true });
    fs.writeFileSync(path.join(docs, name), png);
  }
}

test("bob uses alice’s shared image: progress, then a notebook on its kernel imports its package", async ({
  page,
  alice,
  bob,
}, testInfo) => {
  test.setTimeout(360000);
  const python = prepareWheels();
  const name = `CARET-${Date.now().toString(36)}`;
  const image = await alice.createImage(name, {
    environment: {
      python,
      packages: [
        { name: "caretpkg", version: "1.2" },
        { name: "caretdep", version: "0.5" },
      ],
    },
  });
  await alice.share("image", image.id, "bob", "view");

  await openLab(page, servers().bob);
  await openSharingPanel(page);
  await expect(section(page, "shared")).toContainText(name);
  await row(page, image.id).click({ button: "right" });
  await chooseMenuItem(page, "Use in this container…");

  const dialog = page.locator(".jp-Dialog");
  await expect(dialog.locator(".jp-Dialog-header")).toContainText(
    `Use ${name} (alice) in this container`,
  );
  await expect(dialog.locator(".jp-share-use-plan")).toContainText(
    `Captured with Python ${python}; this container uses Python ${python}.`,
  );
  // Every text the status bar item shows, as it changes (the steps are quick).
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as any).__buildStatusSeen = seen;
    const note = () => {
      const item = document.querySelector(".jp-share-build-status-text");
      const text = item?.textContent ?? "";
      if (text && seen[seen.length - 1] !== text) {
        seen.push(text);
      }
    };
    new MutationObserver(note).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  });
  await dialog.getByRole("button", { name: "Build the kernel" }).click();

  // Progress in the status bar: which build, its step, N/M while installing.
  const status = page.locator(".jp-share-build-status");
  await expect(status).toContainText(
    new RegExp(
      `Building ${name} \\(alice\\): (preparing|resolving|downloading|installing|registering)`,
    ),
  );
  await expect(status.locator("progress")).toHaveCount(1);
  expect(
    Number(await status.locator("progress").getAttribute("value")),
  ).toBeGreaterThan(0);

  // Progress: the notification follows the build's steps, with a progress bar.
  const toast = page.locator(".Toastify__toast").filter({ hasText: name });
  await expect(toast).toContainText(
    /(preparing|resolving|downloading|installing \d+\/\d+|registering) \(\d+%\)/,
  );
  // The README's picture is best taken while installing N/M (not asserted
  // here: the step can be short; the counts are checked below).
  await status
    .getByText(/installing \d+\/\d+/)
    .waitFor({ timeout: 60000 })
    .catch(() => undefined);
  await keepScreenshot(
    await page.screenshot(),
    "use-image-progress.png",
    testInfo,
  );
  // JupyterLab's toast does not draw a notification's `progress` (its own
  // bar is hidden): the message gives the percentage (above), the status bar
  // item draws the bar.

  await expect(toast).toContainText(`Kernel "${name} (alice)" is ready`, {
    timeout: 300000,
  });
  // The item is gone with the build; it had shown the real phases, installing
  // with a count that only grew towards one total (pip's packages as they land).
  await expect(status).toHaveCount(0);
  const seen: string[] = await page.evaluate(
    () => (window as any).__buildStatusSeen,
  );
  const counts = seen
    .map((text) => /installing (\d+)\/(\d+)/.exec(text))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), Number(m[2])]);
  expect(counts.length, seen.join(" | ")).toBeGreaterThan(0);
  const total = counts[0][1];
  expect(total).toBeGreaterThan(2); // the image's 2 packages and ipykernel's
  for (let i = 0; i < counts.length; i++) {
    expect(counts[i][1]).toBe(total);
    expect(counts[i][0]).toBeLessThanOrEqual(total);
    if (i > 0) {
      expect(counts[i][0]).toBeGreaterThanOrEqual(counts[i - 1][0]);
    }
  }
  expect(seen.some((text) => /: (resolving|downloading)/.test(text))).toBe(true);
  // The launcher lists the new kernel.
  await expect(
    page.locator(".jp-LauncherCard", { hasText: `${name} (alice)` }).first(),
  ).toBeVisible();

  await toast.getByRole("button", { name: "Open a notebook" }).click();
  const notebook = page.locator(".jp-NotebookPanel").last();
  await expect(page.locator(".jp-Toolbar-kernelName").last()).toContainText(
    `${name} (alice)`,
    { timeout: 60000 },
  );
  const editor = notebook.locator(".jp-Cell .cm-content").first();
  await editor.click();
  await page.keyboard.type(
    "import caretpkg, sys; print(caretpkg.ANSWER, caretpkg.VERSION)",
  );
  await page.keyboard.press("Shift+Enter");
  await expect(notebook.locator(".jp-OutputArea-output").first()).toContainText(
    "42 1.2",
    { timeout: 60000 },
  );
  await keepScreenshot(
    await page.screenshot(),
    "use-image-kernel.png",
    testInfo,
  );

  // Clean up: the kernel, then its environment and kernelspec together.
  const server = servers().bob;
  const auth = { Authorization: `token ${server.token}` };
  const kernels = await (
    await fetch(`${server.url}api/kernels`, { headers: auth })
  ).json();
  for (const kernel of kernels) {
    await fetch(`${server.url}api/kernels/${kernel.id}`, {
      method: "DELETE",
      headers: auth,
    });
  }
  const built = await bob.call("GET", "environments");
  for (const env of built.items) {
    await bob.call("DELETE", `environments/${env.id}`);
  }
  await alice.call("DELETE", `images/${image.id}`);
});
