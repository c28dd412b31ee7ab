/**
 * The neighbour's side (issue 14): a view guest's JupyterLab is read-only and
 * starts no kernel; a raise to edit makes it editable without a reload; the
 * end of access shows a page that says so.
 */
import { chromium, expect, test } from '@playwright/test';

import { LAUNCH_OPTIONS } from '../chromium';
import {
  keepScreenshot,
  pageOf,
  putNotebook,
  ShareClient,
  servers,
  typeInFirstCell
} from './fixtures';

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
    await expect(banner).toContainText(
      "You are in alice's container, view only",
      {
        timeout: 60000
      }
    );
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
      link.replace(
        /jupyter-share\/link\/.*$/,
        'lab/tree/watched-by-carol.ipynb'
      )
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

test('a view guest asks for edit, alice approves from her notification and he runs a cell without a reload; a denial is told', async ({}, testInfo) => {
  test.setTimeout(240000); // two JupyterLabs, a kernel started on a busy machine
  const alice = new ShareClient(servers().alice);
  await putNotebook('asked-to-run.ipynb', 'print(6 * 7)');
  await alice
    .call('DELETE', 'sessions/current/grants/bob')
    .catch(() => undefined);
  const { link } = await alice.call('PUT', 'sessions/current/grants/bob', {
    permission: 'view'
  });

  const alicePage = await pageOf(servers().alice);
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
    await expect(banner).toContainText(
      "You are in alice's container, view only",
      {
        timeout: 60000
      }
    );
    await guest.goto(
      link.replace(/jupyter-share\/link\/.*$/, 'lab/tree/asked-to-run.ipynb')
    );
    const cell = guest.locator('.jp-Cell').first();
    await expect(cell).toBeVisible({ timeout: 60000 });
    await expect(guest.locator('body')).toHaveClass(/jp-share-view-guest/);
    const before = await guest.evaluate(() => performance.timeOrigin);

    // bob asks from his banner.
    await banner.getByRole('button', { name: 'Ask for edit' }).click();
    const dialog = guest.locator('.jp-Dialog');
    await dialog.locator('textarea').fill('to run the analysis');
    await dialog.getByRole('button', { name: 'Ask' }).click();
    await expect(banner).toContainText('You asked for edit');

    // alice's JupyterLab hears of it (its event stream) and offers Approve and Deny.
    await alicePage.bringToFront();
    const toast = alicePage.locator('.Toastify__toast', {
      hasText: 'bob asks for edit on your container: “to run the analysis”'
    });
    await expect(toast).toBeVisible({ timeout: 20000 });
    await expect(toast.getByRole('button', { name: 'Deny' })).toBeVisible();
    await keepScreenshot(alicePage, 'request-notification.png', testInfo);
    await toast.getByRole('button', { name: 'Approve' }).click();

    // bob's page becomes editable in place and he runs the cell.
    await expect(banner).toContainText('you may edit and run code', {
      timeout: 10000
    });
    await expect(
      guest.locator('.Toastify__toast', { hasText: 'alice approved' })
    ).toBeVisible({ timeout: 10000 });
    await expect(guest.locator('body')).not.toHaveClass(/jp-share-view-guest/);
    expect(started).toEqual([]); // nothing was started while he watched
    await guest.bringToFront();
    await cell.locator('.cm-content').click();
    await guest.keyboard.press('Shift+Enter');
    await expect(cell.locator('.jp-OutputArea-output')).toHaveText('42', {
      timeout: 60000
    });
    expect(started.length).toBeGreaterThan(0);
    expect(await guest.evaluate(() => performance.timeOrigin)).toBe(before);

    // alice lowers him to view again: the banner offers edit again, not manage.
    await alice.call('PUT', 'sessions/current/grants/bob', {
      permission: 'view'
    });
    await expect(banner).toContainText('view only', { timeout: 10000 });
    await expect(
      banner.getByRole('button', { name: 'Ask for edit' })
    ).toBeVisible();
    await expect(guest.locator('body')).toHaveClass(/jp-share-view-guest/);

    // He asks again; alice denies; he is told, and nothing changed.
    await banner.getByRole('button', { name: 'Ask for edit' }).click();
    await dialog.getByRole('button', { name: 'Ask' }).click();
    await expect(banner).toContainText('You asked for edit');
    const second = alicePage.locator('.Toastify__toast', {
      hasText: 'bob asks for edit on your container'
    });
    await expect(second).toBeVisible({ timeout: 20000 });
    await second.getByRole('button', { name: 'Deny' }).click();
    await expect(
      guest.locator('.Toastify__toast', {
        hasText: 'alice declined your request for edit'
      })
    ).toBeVisible({ timeout: 10000 });
    await expect(banner).toContainText('view only');
    await expect(
      banner.getByRole('button', { name: 'Ask for edit' })
    ).toBeVisible();
    const grants = await alice.grants('session', 'current');
    expect(grants.find(g => g.principal === 'user:bob')?.permission).toBe(
      'view'
    );
    expect(await guest.evaluate(() => performance.timeOrigin)).toBe(before);
  } finally {
    await browser.close();
    await alicePage.context().browser()!.close();
    await alice
      .call('DELETE', 'sessions/current/grants/bob')
      .catch(() => undefined);
  }
});
