/**
 * The neighbour's side (issue 14): a view guest's JupyterLab is read-only and
 * starts no kernel; a raise to edit makes it editable without a reload; the
 * end of access shows a page that says so.
 */
import * as fs from 'fs';
import * as path from 'path';

import { chromium, expect, Page, test, TestInfo } from '@playwright/test';

import { LAUNCH_OPTIONS } from '../chromium';
import { ShareClient, servers } from './fixtures';

const NOTEBOOK = {
  cells: [
    {
      cell_type: 'code',
      execution_count: null,
      id: 'first',
      metadata: {},
      outputs: [],
      source: 'x = 1'
    }
  ],
  metadata: {
    kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }
  },
  nbformat: 4,
  nbformat_minor: 5
};

async function putNotebook(path: string, source = 'x = 1'): Promise<void> {
  const alice = servers().alice;
  NOTEBOOK.cells[0].source = source;
  const response = await fetch(`${alice.url}api/contents/${path}`, {
    method: 'PUT',
    headers: { Authorization: `token ${alice.token}` },
    body: JSON.stringify({ type: 'notebook', format: 'json', content: NOTEBOOK })
  });
  expect(response.ok).toBe(true);
}

async function typeInFirstCell(guest: Page, text: string): Promise<void> {
  const editor = guest.locator('.jp-Cell .cm-content').first();
  await editor.click();
  await guest.keyboard.press('End');
  await guest.keyboard.type(text);
}

/** Kept with the test's results; copied into docs/images when asked to. */
async function keepScreenshot(page: Page, name: string, testInfo: TestInfo) {
  const png = await page.screenshot();
  await testInfo.attach(name, { body: png, contentType: 'image/png' });
  fs.writeFileSync(testInfo.outputPath(name), png);
  if (process.env.JUPYTER_SHARE_UI_SCREENSHOTS) {
    const docs = path.resolve(__dirname, '..', '..', 'docs', 'images');
    fs.mkdirSync(docs, { recursive: true });
    fs.writeFileSync(path.join(docs, name), png);
  }
}

test('a view guest watches read-only, is raised to edit without a reload, and is told when access ends', async ({}, testInfo) => {
  const alice = new ShareClient(servers().alice);
  await putNotebook('watched-by-carol.ipynb');
  const { link } = await alice.call('PUT', 'sessions/current/grants/carol', {
    permission: 'view'
  });

  const browser = await chromium.launch(LAUNCH_OPTIONS);
  try {
    const guest = await browser.newPage();
    const started: string[] = [];
    guest.on('request', request => {
      const url = request.url();
      if (
        request.method() === 'POST' &&
        (url.includes('/api/sessions') || url.includes('/api/kernels'))
      ) {
        started.push(url);
      }
    });
    await guest.goto(link);
    const banner = guest.locator('#jupyter-share-guest-banner');
    await expect(banner).toContainText("You are in alice's container, view only", {
      timeout: 60000
    });
    await guest
      .locator('#jupyterlab-splash')
      .waitFor({ state: 'detached', timeout: 60000 });
    // Nothing on screen invites what view refuses.
    await expect(guest.locator('body')).toHaveClass(/jp-share-view-guest/);
    await expect(
      guest.locator('.jp-LauncherCard[data-category="Notebook"]:visible')
    ).toHaveCount(0);
    await expect(
      guest.locator('.jp-LauncherCard[data-category="Other"]:visible')
    ).toHaveCount(0);

    // The notebook opens read-only, and no kernel is asked for.
    await guest.goto(
      link.replace(/jupyter-share\/link\/.*$/, 'lab/tree/watched-by-carol.ipynb')
    );
    await expect(guest.locator('.jp-Cell').first()).toBeVisible({
      timeout: 60000
    });
    await typeInFirstCell(guest, ' + 41');
    await expect(guest.locator('.jp-Cell .cm-content').first()).toHaveText(
      'x = 1'
    );
    await guest.waitForTimeout(1500);
    expect(started).toEqual([]);
    await expect(guest.locator('.jp-Dialog')).toHaveCount(0);
    await keepScreenshot(guest, 'view-guest.png', testInfo);

    // Without jupyter-collaboration, what alice saves reaches carol's open page.
    await putNotebook('watched-by-carol.ipynb', 'saved by alice');
    await expect(guest.locator('.jp-Cell .cm-content').first()).toHaveText(
      'saved by alice',
      { timeout: 15000 }
    );

    // alice raises carol to edit: the same page becomes editable, no reload.
    const before = await guest.evaluate(() => performance.timeOrigin);
    await alice.call('PUT', 'sessions/current/grants/carol', {
      permission: 'edit'
    });
    await expect(banner).toContainText('you may edit and run code', {
      timeout: 10000
    });
    await expect(guest.locator('body')).not.toHaveClass(/jp-share-view-guest/);
    await typeInFirstCell(guest, ' + 41');
    await expect(guest.locator('.jp-Cell .cm-content').first()).toHaveText(
      'saved by alice + 41'
    );
    expect(await guest.evaluate(() => performance.timeOrigin)).toBe(before);

    // alice ends it: carol is told, in place of a dead kernel.
    await alice.call('DELETE', 'sessions/current/grants/carol');
    await expect(guest.locator('#jupyter-share-access-ended')).toContainText(
      'alice ended your access to their container',
      { timeout: 10000 }
    );
    await keepScreenshot(guest, 'guest-access-ended.png', testInfo);
  } finally {
    await browser.close();
  }
});
