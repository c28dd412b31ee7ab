/**
 * The neighbour's side under JupyterHub (issue 14), run by tests/test_ui_hub.py
 * against a real Hub: bob signs in at the Hub and opens alice's JupyterLab
 * through the Hub's share. His JupyterLab is read-only (view), his banner links
 * to his own JupyterLab to ask for more, a raise makes it editable without a
 * reload, and the end of his access shows the page that says so.
 */
import { chromium, expect, test } from '@playwright/test';

import { LAUNCH_OPTIONS } from '../chromium';

interface IHub {
  url: string;
  password: string;
  aliceServer: string;
  aliceToken: string;
}

function hub(): IHub {
  return JSON.parse(process.env.JUPYTER_SHARE_UI_HUB!);
}

/** alice's calls on her own server, with her Hub token. */
async function asAlice(method: string, path: string, body?: unknown) {
  const { aliceServer, aliceToken } = hub();
  const response = await fetch(`${aliceServer}${path}`, {
    method,
    headers: { Authorization: `token ${aliceToken}` },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  expect(response.ok, `${method} ${path}: ${response.status}`).toBe(true);
}

test('bob through the Hub share: read-only, asks from his own JupyterLab, raised without a reload, told when it ends', async () => {
  test.setTimeout(240000);
  const { url, password, aliceServer } = hub();
  await asAlice('PUT', 'api/contents/hub-watched.ipynb', {
    type: 'notebook',
    format: 'json',
    content: {
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
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5
    }
  });
  await asAlice('PUT', 'jupyter-share/api/v1/sessions/current/grants/bob', {
    permission: 'view'
  });

  const browser = await chromium.launch(LAUNCH_OPTIONS);
  try {
    const bob = await browser.newPage();
    const started: string[] = [];
    bob.on('request', request => {
      const target = request.url();
      if (
        request.method() === 'POST' &&
        (target.includes('/api/sessions') || target.includes('/api/kernels'))
      ) {
        started.push(target);
      }
    });
    await bob.goto(`${url}hub/login`);
    await bob.locator('input[name="username"]').fill('bob');
    await bob.locator('input[name="password"]').fill(password);
    await bob.locator('input[name="password"]').press('Enter');
    await bob.waitForURL(/\/hub\/(spawn|home|user)/, { timeout: 60000 });

    await bob.goto(`${aliceServer}lab/tree/hub-watched.ipynb`);
    // The Hub asks bob once to let alice's server know who he is.
    const authorize = bob.getByRole('button', { name: /Authorize/ });
    await Promise.race([
      authorize.waitFor({ timeout: 60000 }),
      bob.locator('#jupyter-share-guest-banner').waitFor({ timeout: 60000 })
    ]);
    if (await authorize.isVisible()) {
      await authorize.click();
    }
    const banner = bob.locator('#jupyter-share-guest-banner');
    await expect(banner).toContainText(
      "You are in alice's container, view only",
      {
        timeout: 60000
      }
    );
    await expect(bob.locator('body')).toHaveClass(/jp-share-view-guest/);
    const ask = banner.locator('a.jp-share-ask-link');
    await expect(ask).toHaveText('Ask for edit in your JupyterLab');
    expect(await ask.getAttribute('href')).toMatch(
      /\/hub\/user-redirect\/lab$/
    );
    await expect(banner.locator('button')).toHaveCount(0);

    const cell = bob.locator('.jp-Cell .cm-content').first();
    await expect(cell).toHaveText('x = 1', { timeout: 60000 });
    await cell.click();
    await bob.keyboard.press('End');
    await bob.keyboard.type(' + 41');
    await bob.waitForTimeout(1000);
    await expect(cell).toHaveText('x = 1');
    expect(started).toEqual([]);
    await expect(bob.locator('.jp-Dialog')).toHaveCount(0);
    const before = await bob.evaluate(() => performance.timeOrigin);

    // Raised to edit: the same page becomes editable; the link offers manage.
    await asAlice('PUT', 'jupyter-share/api/v1/sessions/current/grants/bob', {
      permission: 'edit'
    });
    await expect(banner).toContainText('you may edit and run code', {
      timeout: 15000
    });
    await expect(bob.locator('body')).not.toHaveClass(/jp-share-view-guest/);
    await expect(ask).toHaveText('Ask for manage in your JupyterLab');
    await cell.click();
    await bob.keyboard.press('End');
    await bob.keyboard.type(' + 41');
    await expect(cell).toHaveText('x = 1 + 41');
    expect(await bob.evaluate(() => performance.timeOrigin)).toBe(before);

    // alice ends it: he is told.
    await asAlice('DELETE', 'jupyter-share/api/v1/sessions/current/grants/bob');
    await expect(bob.locator('#jupyter-share-access-ended')).toContainText(
      'alice ended your access to their container',
      { timeout: 15000 }
    );
  } finally {
    await browser.close();
  }
});
