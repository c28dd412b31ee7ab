/**
 * Fixtures and helpers of the UI tests: the servers, a REST client per user
 * (as a neighbour's script would call it), and the Sharing panel's parts.
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  chromium,
  expect,
  Locator,
  Page,
  test as base,
  TestInfo
} from '@playwright/test';

import { LAUNCH_OPTIONS } from '../chromium';

/** One running JupyterLab of one user (see global-setup.ts). */
export interface IServer {
  username: string;
  url: string;
  token: string;
}

export function servers(): { alice: IServer; bob: IServer } {
  const raw = process.env.JUPYTER_SHARE_UI_SERVERS;
  if (!raw) {
    throw new Error(
      'JUPYTER_SHARE_UI_SERVERS is not set: run through playwright.config.ts'
    );
  }
  return JSON.parse(raw);
}

/** A resource as the REST API answers it. */
export interface IResource {
  id: string;
  kind: 'image' | 'formation' | 'session';
  name: string;
  owner: string;
  shared: boolean;
  share_count: number | null;
  [key: string]: any;
}

/** The share REST API of one server, called with its user's token. */
export class ShareClient {
  constructor(readonly server: IServer) {}

  async call(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(
      `${this.server.url}jupyter-share/api/v1/${path}`,
      {
        method,
        headers: { Authorization: `token ${this.server.token}` },
        body: body === undefined ? undefined : JSON.stringify(body)
      }
    );
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${path}: ${response.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
  }

  createImage(
    name: string,
    spec: object = { reference: 'docker.io/library/python:3.12' }
  ): Promise<IResource> {
    return this.call('POST', 'images', { name, spec });
  }

  createFormation(name: string, spec: object): Promise<IResource> {
    return this.call('POST', 'formations', { name, spec });
  }

  share(
    kind: string,
    id: string,
    principal: string,
    permission = 'view',
    expiresAt: string | null = null
  ): Promise<any> {
    return this.call(
      'PUT',
      `${kind}s/${id}/grants/${encodeURIComponent(principal)}`,
      {
        permission,
        expires_at: expiresAt
      }
    );
  }

  async grants(kind: string, id: string): Promise<any[]> {
    return (await this.call('GET', `${kind}s/${id}/grants`)).items;
  }

  get(kind: string, id: string): Promise<IResource> {
    return this.call('GET', `${kind}s/${id}`);
  }

  /** Delete every image and formation of this user. */
  async deleteAll(): Promise<void> {
    for (const kind of ['images', 'formations']) {
      const page = await this.call('GET', `${kind}?scope=owned&limit=1000`);
      for (const r of page.items) {
        await this.call('DELETE', `${kind}/${r.id}`);
      }
    }
  }
}

/** Open a user's JupyterLab in a fresh workspace. */
export async function openLab(page: Page, server: IServer): Promise<void> {
  // Chromium's headless windows take the focus in turns: keys go to the front one.
  await page.bringToFront();
  await page.goto(`${server.url}lab?reset&token=${server.token}`);
  await page
    .locator('#jupyterlab-splash')
    .waitFor({ state: 'detached', timeout: 60000 });
  await page.locator('.jp-SideBar li[data-id="jupyter-share-panel"]').waitFor();
  // The lab activates its launcher a moment after the splash: until then it
  // may take the keyboard focus from whatever a test focused.
  await page.waitForFunction(
    () => document.activeElement?.closest('.jp-Launcher'),
    null,
    {
      timeout: 30000
    }
  );
}

/** Open the Sharing panel and wait until it has loaded. */
export async function openSharingPanel(page: Page): Promise<Locator> {
  const tab = page.locator('.jp-SideBar li[data-id="jupyter-share-panel"]');
  if ((await tab.getAttribute('aria-selected')) !== 'true') {
    await tab.click();
  }
  const panel = page.locator('#jupyter-share-panel');
  await expect(panel).toBeVisible();
  await expect(panel.locator('[aria-busy="true"]')).toHaveCount(0);
  return panel;
}

/** A section of the panel: `image`, `formation`, `session` or `shared`. */
export function section(page: Page, source: string): Locator {
  return page.locator(`#jupyter-share-panel [data-share-section="${source}"]`);
}

/** The row of a resource in the panel. */
export function row(page: Page, id: string): Locator {
  return page.locator(`#jupyter-share-panel [data-resource-id="${id}"]`);
}

/** Choose an item of the open menu by its label. */
export async function chooseMenuItem(
  page: Page,
  label: string | RegExp
): Promise<void> {
  await page
    .locator('.lm-Menu .lm-Menu-item')
    .filter({ has: page.locator('.lm-Menu-itemLabel', { hasText: label }) })
    .first()
    .click();
}

/** Run a command from the command palette by its label. */
export async function runFromPalette(page: Page, label: string): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const input = page.locator('.jp-ModalCommandPalette input');
  await input.fill(label);
  await expect(
    page.locator(
      '.jp-ModalCommandPalette .lm-CommandPalette-item.lm-mod-active'
    )
  ).toContainText(label);
  await input.press('Enter');
}

/**
 * A page of another user, in a browser of its own (its own cookies and its own
 * window focus: keys typed to one user's page never go to the other's).
 * Close it with `page.context().browser()!.close()`.
 */
export async function pageOf(server: IServer): Promise<Page> {
  const browser = await chromium.launch(LAUNCH_OPTIONS);
  const page = await browser.newPage({
    viewport: { width: 1280, height: 800 }
  });
  watchConsole(page, `${server.username}: `);
  await openLab(page, server);
  return page;
}

/** Console errors and page errors seen in the current test. */
const seenErrors: string[] = [];

/** Console messages that a test expects (e.g. the browser's report of a refused request). */
const expectedErrors: RegExp[] = [];

export function expectConsoleError(pattern: RegExp): void {
  expectedErrors.push(pattern);
}

function watchConsole(page: Page, prefix = ''): void {
  page.on('console', message => {
    if (message.type() === 'error') {
      seenErrors.push(`${prefix}${message.text()}`);
    }
  });
  page.on('pageerror', error =>
    seenErrors.push(`${prefix}page error: ${error.message}`)
  );
}

export const test = base.extend<{
  alice: ShareClient;
  bob: ShareClient;
  noConsoleErrors: void;
}>({
  alice: async ({}, use) => use(new ShareClient(servers().alice)),
  bob: async ({}, use) => use(new ShareClient(servers().bob)),
  noConsoleErrors: [
    async ({ page }, use) => {
      seenErrors.length = 0;
      expectedErrors.length = 0;
      watchConsole(page);
      await use();
      const unexpected = seenErrors.filter(
        e => !expectedErrors.some(p => p.test(e))
      );
      expect(unexpected, 'console errors').toEqual([]);
    },
    { auto: true }
  ]
});

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
    kernelspec: {
      name: 'python3',
      display_name: 'Python 3',
      language: 'python'
    }
  },
  nbformat: 4,
  nbformat_minor: 5
};

/** Put a one-cell notebook in alice's folder (over the old one). */
export async function putNotebook(
  file: string,
  source = 'x = 1'
): Promise<void> {
  const alice = servers().alice;
  NOTEBOOK.cells[0].source = source;
  const response = await fetch(`${alice.url}api/contents/${file}`, {
    method: 'PUT',
    headers: { Authorization: `token ${alice.token}` },
    body: JSON.stringify({
      type: 'notebook',
      format: 'json',
      content: NOTEBOOK
    })
  });
  expect(response.ok).toBe(true);
}

/** Kept with the test's results; copied into docs/images when asked to. */
export async function keepScreenshot(
  page: Page,
  name: string,
  testInfo: TestInfo
) {
  const png = await page.screenshot();
  await testInfo.attach(name, { body: png, contentType: 'image/png' });
  fs.writeFileSync(testInfo.outputPath(name), png);
  if (process.env.JUPYTER_SHARE_UI_SCREENSHOTS) {
    const docs = path.resolve(__dirname, '..', '..', 'docs', 'images');
    fs.mkdirSync(docs, { recursive: true });
    fs.writeFileSync(path.join(docs, name), png);
  }
}

/** Click the first cell's editor and type at the end of its first line. */
export async function typeInFirstCell(
  guest: Page,
  text: string
): Promise<void> {
  const editor = guest.locator('.jp-Cell .cm-content').first();
  await editor.click();
  await guest.keyboard.press('End');
  await guest.keyboard.type(text);
}

export { expect };
