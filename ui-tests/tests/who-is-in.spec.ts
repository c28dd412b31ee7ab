/**
 * Who is in alice's container now (issue 15, presence): her Sharing panel
 * shows a guest "in now" as soon as his browser opens his personal link, what
 * he opens, live from the server's event stream, and not after she revokes
 * him from the panel. (After sharing.spec.ts: it starts on an empty store.)
 */
import * as fs from 'fs';
import * as path from 'path';

import { chromium } from '@playwright/test';

import { LAUNCH_OPTIONS } from '../chromium';

import {
  expect,
  openLab,
  openSharingPanel,
  section,
  servers,
  test
} from './fixtures';

test('alice sees her guest in now, what he opens, and revokes him from the panel', async ({
  page,
  alice
}, testInfo) => {
  const { link } = await alice.share('session', 'current', 'carol', 'edit');
  expect(link).toMatch(/\/jupyter-share\/link\//);
  // Sign-ins reach alice by her page's event stream: carol comes in once it is open (else
  // the panel still shows her, from its first read, but no notification can).
  const eventStream = page.waitForEvent('websocket', {
    predicate: ws => ws.url().includes('/api/events/subscribe'),
    timeout: 60000
  });
  await openLab(page, servers().alice);
  await eventStream;
  await openSharingPanel(page);
  const containers = section(page, 'session');
  const carol = containers.locator(
    '.jp-share-presence-guest[data-guest="carol"]'
  );
  await expect(carol).toHaveCount(0); // shared with, but not in

  const guestBrowser = await chromium.launch(LAUNCH_OPTIONS);
  try {
    const guest = await guestBrowser.newPage();
    await guest.goto(link);
    await expect(guest.locator('#jupyter-share-guest-banner')).toContainText(
      "You are in alice's container",
      { timeout: 60000 }
    );
    // In now, without a reload or a poll: the sign-in came as an event.
    await expect(carol).toHaveAttribute('data-in-now', 'true');
    await expect(carol).toContainText('in now');
    await expect(carol.locator('.jp-share-permission')).toHaveText('edit');
    await expect(carol).toHaveAttribute('title', /from 127\.0\.0\.1/);
    // and a notification says it in words
    await expect(
      page.locator('.Toastify__toast', {
        hasText: 'carol signed in to your container'
      })
    ).toBeVisible();

    // carol opens a notebook with a kernel: alice's panel counts it.
    const status = await guest.evaluate(async () => {
      const xsrf = document.cookie.match(/_xsrf=([^;]+)/)?.[1] ?? '';
      const response = await fetch('/api/sessions', {
        method: 'POST',
        headers: { 'X-XSRFToken': decodeURIComponent(xsrf) },
        body: JSON.stringify({
          path: 'carol-notes.ipynb',
          name: 'carol-notes.ipynb',
          type: 'notebook',
          kernel: { name: 'python3' }
        })
      });
      return response.status;
    });
    expect(status).toBe(201);
    await expect(carol.locator('.jp-share-presence-open')).toContainText(
      '1 kernel · 1 document'
    );
    await expect(carol).toHaveAttribute('title', /carol-notes\.ipynb/);

    await page.mouse.move(900, 700);
    const png = await page.screenshot({
      clip: { x: 0, y: 0, width: 720, height: 800 }
    });
    await testInfo.attach('presence.png', {
      body: png,
      contentType: 'image/png'
    });
    fs.writeFileSync(testInfo.outputPath('presence.png'), png);
    if (process.env.JUPYTER_SHARE_UI_SCREENSHOTS) {
      const docs = path.resolve(__dirname, '..', '..', 'docs', 'images');
      fs.mkdirSync(docs, { recursive: true });
      fs.writeFileSync(path.join(docs, 'presence.png'), png);
    }

    // Lower to view, then revoke, right there.
    await carol.getByRole('button', { name: 'Lower carol to view' }).click();
    await expect(carol.locator('.jp-share-permission')).toHaveText('view');
    await carol.getByRole('button', { name: 'Revoke carol' }).click();
    await expect(carol).toHaveCount(0);
    await expect(
      page.locator('.Toastify__toast', {
        hasText: 'carol left your container: their access ended'
      })
    ).toBeVisible();
    expect(
      (await alice.grants('session', 'current')).map(g => g.principal)
    ).not.toContain('user:carol');
  } finally {
    await guestBrowser.close();
  }
});
