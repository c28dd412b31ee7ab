/**
 * The Sharing panel in a real JupyterLab, as alice and bob use it: neighbours
 * on one store, each with their own server (see global-setup.ts).
 *
 * The tests of this file run in order on one pair of servers: the first sees
 * the empty store.
 */
import * as fs from 'fs';
import * as path from 'path';

import { chromium } from '@playwright/test';

import { LAUNCH_OPTIONS } from '../chromium';

import {
  chooseMenuItem,
  expect,
  expectConsoleError,
  openLab,
  openSharingPanel,
  pageOf,
  row,
  runFromPalette,
  section,
  servers,
  test
} from './fixtures';

/** The browser's own report of a request the server refused on purpose. */
const REFUSED =
  /Failed to load resource: the server responded with a status of 40[0-9]/;

test('the Sharing panel opens with its sections and empty states', async ({
  page
}) => {
  await openLab(page, servers().alice);
  const panel = await openSharingPanel(page);

  await expect(panel.locator('.jp-share-panel-heading')).toHaveText('Sharing');
  for (const title of [
    'Images',
    'Formations',
    'Containers',
    'Shared with me'
  ]) {
    await expect(
      panel.locator('.jp-AccordionPanel-title', { hasText: title })
    ).toBeVisible();
  }
  await expect(section(page, 'image')).toContainText('No images yet');
  await expect(section(page, 'formation')).toContainText('No formations yet');
  await expect(section(page, 'shared')).toContainText(
    'Nothing shared with you yet'
  );
  // This container is registered and marked as such.
  await expect(section(page, 'session').locator('.jp-share-row')).toHaveCount(
    1
  );
  await expect(
    section(page, 'session').locator('.jp-share-row-note')
  ).toHaveText('this container');
});

test('an owned shared image shows the grey badge with its count and who holds it', async ({
  page,
  alice
}) => {
  const image = await alice.createImage('CARET', {
    reference: 'rocker/caret:4.4'
  });
  await alice.share('image', image.id, 'bob', 'view');
  await alice.share('image', image.id, 'group:class-2026', 'edit');
  const plain = await alice.createImage('python-base');

  await openLab(page, servers().alice);
  await openSharingPanel(page);

  const badge = row(page, image.id).locator('.jp-share-badge');
  await expect(badge).toHaveText('2');
  await expect(row(page, plain.id).locator('.jp-share-badge')).toHaveCount(0);
  // Grey: the theme's third layout colour.
  const [background, grey] = await badge.evaluate(node => {
    const probe = document.createElement('div');
    probe.style.background = 'var(--jp-layout-color3)';
    document.body.appendChild(probe);
    const expected = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return [getComputedStyle(node).backgroundColor, expected];
  });
  expect(background).toBe(grey);
  // Who holds access is read when someone looks.
  await row(page, image.id).hover();
  await expect(badge).toHaveAttribute(
    'title',
    'Shared with bob (view), group class-2026 (edit)'
  );
  await expect(row(page, image.id)).toHaveAttribute(
    'aria-label',
    /Shared with bob \(view\)/
  );
});

test('a change made through this server shows at once (its event stream)', async ({
  page,
  alice
}) => {
  await openLab(page, servers().alice);
  await openSharingPanel(page);
  // Owned lists are not polled: only the server's event refreshes them this fast.
  const image = await alice.createImage('from-a-script');
  await expect(row(page, image.id)).toBeVisible({ timeout: 3000 });
  await alice.share('image', image.id, 'bob', 'view');
  await expect(row(page, image.id).locator('.jp-share-badge')).toHaveText('1', {
    timeout: 3000
  });
  await alice.call('DELETE', `images/${image.id}`);
  await expect(row(page, image.id)).toHaveCount(0, { timeout: 3000 });
});

test('share through the dialog, change the permission, revoke', async ({
  page,
  alice
}) => {
  const image = await alice.createImage('dialog-image');
  await openLab(page, servers().alice);
  await openSharingPanel(page);

  await row(page, image.id).click({ button: 'right' });
  await chooseMenuItem(page, 'Share…');
  const dialog = page.locator('.jp-share-dialog');
  await expect(dialog.locator('.jp-Dialog-header')).toContainText(
    'Share image “dialog-image”'
  );
  await expect(dialog.locator('.jp-share-access-empty')).toHaveText(
    'Not shared with anyone yet.'
  );

  // The principal input completes users and groups from the directory.
  const principal = dialog.locator('input[name="principal"]');
  await expect(principal).toBeFocused();
  await principal.fill('b');
  const suggestion = dialog.locator('.jp-share-suggestion[data-value="bob"]');
  await expect(suggestion).toBeVisible();
  await principal.fill('cla');
  await expect(
    dialog.locator('.jp-share-suggestion[data-value="group:class-2026"]')
  ).toBeVisible();
  await principal.fill('b');
  await suggestion.click();
  await expect(principal).toHaveValue('bob');
  await dialog.locator('select[name="permission"]').selectOption('edit');
  await dialog.getByRole('button', { name: 'Share', exact: true }).click();

  const bobRow = dialog.locator(
    '.jp-share-access-row[data-principal="user:bob"]'
  );
  await expect(bobRow.locator('select')).toHaveValue('edit');
  await expect(dialog.locator('[role="status"]')).toContainText(
    'Shared with bob (edit'
  );
  await expect(principal).toHaveValue('');
  // The panel refreshes behind the dialog (the server's event).
  await expect(row(page, image.id).locator('.jp-share-badge')).toHaveText('1');

  // Change: the access list and the server agree.
  await bobRow.locator('select').selectOption('manage');
  await expect(dialog.locator('[role="status"]')).toContainText(
    'bob now has manage access'
  );
  expect(
    (await alice.grants('image', image.id)).map(g => g.permission)
  ).toEqual(['manage']);

  // Revoke.
  await bobRow.getByRole('button', { name: 'Revoke bob' }).click();
  await expect(bobRow).toHaveCount(0);
  await expect(dialog.locator('.jp-share-access-empty')).toBeVisible();
  expect(await alice.grants('image', image.id)).toEqual([]);

  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row(page, image.id).locator('.jp-share-badge')).toHaveCount(0);
});

test('a refusal shows the server’s message in the dialog and keeps what was typed', async ({
  page,
  alice
}) => {
  expectConsoleError(REFUSED);
  const image = await alice.createImage('refused-image');
  await openLab(page, servers().alice);
  await openSharingPanel(page);

  await row(page, image.id).dblclick();
  const dialog = page.locator('.jp-share-dialog');
  const principal = dialog.locator('input[name="principal"]');
  await principal.fill('nobody');
  await dialog.locator('select[name="permission"]').selectOption('manage');
  await dialog.locator('input[name="expires"]').fill('2030-01-31');
  await principal.press('Enter');

  const error = dialog.locator('.jp-share-error');
  await expect(error).toContainText('nobody');
  // Nothing is lost: the dialog is open with what was typed.
  await expect(principal).toHaveValue('nobody');
  await expect(principal).toHaveAttribute('aria-invalid', 'true');
  await expect(dialog.locator('select[name="permission"]')).toHaveValue(
    'manage'
  );
  await expect(dialog.locator('input[name="expires"]')).toHaveValue(
    '2030-01-31'
  );

  // Sharing with oneself is a conflict; the server says why.
  await principal.fill('alice');
  await dialog.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(error).toContainText(/alice/);
  await expect(dialog).toBeVisible();

  // Corrected, it goes through with the expiry.
  await principal.fill('carol');
  await principal.press('Enter');
  const carolRow = dialog.locator(
    '.jp-share-access-row[data-principal="user:carol"]'
  );
  await expect(carolRow).toContainText('until 2030-01-31');
  await expect(error).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
});

test('bob shares an image: alice sees it under Shared with me, with a notification', async ({
  page,
  bob
}) => {
  await openLab(page, servers().alice);
  await openSharingPanel(page);
  // Bob, on his own server, through its REST API.
  const image = await bob.createImage('tensorflow-gpu', {
    reference: 'tensorflow/tensorflow:2.17.0-gpu'
  });
  await bob.share('image', image.id, 'alice', 'view', '2031-01-31T12:00:00Z');

  // Alice's panel looks again every pollInterval (5 s in these tests).
  const toast = page.locator('.Toastify__toast', {
    hasText: 'bob shared image tensorflow-gpu with you'
  });
  await expect(toast).toBeVisible({ timeout: 20000 });
  const shared = section(page, 'shared').locator(
    `[data-resource-id="${image.id}"]`
  );
  await expect(shared).toBeVisible();
  await expect(shared.locator('.jp-share-row-owner')).toHaveText('bob');
  await expect(shared.locator('.jp-share-permission')).toHaveText('view');
  await expect(shared.locator('.jp-share-row-expiry')).toHaveText(
    'until 2031-01-31'
  );
  await expect(shared.locator('.jp-share-row-icon')).toHaveAttribute(
    'title',
    'image'
  );

  // The notification's action shows it in the panel.
  await toast.getByRole('button', { name: 'Show' }).click();
  await expect(shared).toBeFocused();
});

test('alice creates an image with the toolbar form and shares it; bob’s lab shows it', async ({
  page
}) => {
  const bobPage = await pageOf(servers().bob);
  await openSharingPanel(bobPage);

  await openLab(page, servers().alice);
  await openSharingPanel(page);
  await page
    .locator('#jupyter-share-panel .jp-Toolbar')
    .getByText('Image')
    .click();
  const form = page.locator('.jp-share-dialog');
  await expect(form.locator('.jp-Dialog-header')).toHaveText('Create image');
  await form.locator('input[name="name"]').fill('CARET-2026');
  await expect(form.locator('input[name="capture"]')).toBeChecked();
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toHaveCount(0, { timeout: 30000 });
  const created = section(page, 'image').locator('.jp-share-row', {
    hasText: 'CARET-2026'
  });
  await expect(created).toBeFocused();
  await expect(created.locator('.jp-share-row-detail')).toContainText(
    'packages'
  );

  await created.click({ button: 'right' });
  await chooseMenuItem(page, 'Share…');
  const dialog = page.locator('.jp-share-dialog');
  await dialog.locator('input[name="principal"]').fill('bob');
  await dialog.locator('input[name="principal"]').press('Enter');
  await expect(
    dialog.locator('.jp-share-access-row[data-principal="user:bob"]')
  ).toBeVisible();
  await dialog.getByRole('button', { name: 'Done' }).click();

  await expect(
    bobPage.locator('.Toastify__toast', {
      hasText: 'alice shared image CARET-2026 with you'
    })
  ).toBeVisible({ timeout: 20000 });
  await expect(
    section(bobPage, 'shared').locator('.jp-share-row', {
      hasText: 'CARET-2026'
    })
  ).toContainText('from alice');
  await bobPage.context().browser()!.close();
});

test('palette: share this container, create an image from it, show what is shared', async ({
  page,
  bob
}) => {
  const formation = await bob.createFormation('gpu-small', {
    image: 'docker.io/library/python:3.12',
    gpu: 1
  });
  await bob.share('formation', formation.id, 'group:staff', 'view');
  await openLab(page, servers().alice);

  await runFromPalette(page, 'Share this container…');
  const dialog = page.locator('.jp-share-dialog');
  await expect(dialog.locator('.jp-Dialog-header')).toContainText(
    'Share container'
  );
  await dialog.locator('input[name="principal"]').fill('bob');
  await dialog.locator('select[name="permission"]').selectOption('view');
  await dialog.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(
    dialog.locator('.jp-share-access-row[data-principal="user:bob"]')
  ).toBeVisible();
  // A standalone container grant comes with bob's personal link, shown once with a copy button.
  const link = dialog.locator('.jp-share-link input[name="link"]');
  await expect(link).toHaveValue(/^http.*\/jupyter-share\/link\/[0-9a-f]+\./);
  await expect(
    dialog.getByRole('button', { name: 'Copy the link' })
  ).toBeVisible();
  const personalLink = await link.inputValue();
  await dialog.getByRole('button', { name: 'Done' }).click();

  // bob opens it in a browser of his own: he is bob, in alice's container, and
  // told so; a guest shares from his own server, so no Sharing panel here.
  const guestBrowser = await chromium.launch(LAUNCH_OPTIONS);
  try {
    const guest = await guestBrowser.newPage();
    await guest.goto(personalLink);
    await expect(
      guest.locator('#jupyter-share-guest-banner .jp-share-guest-banner-text')
    ).toHaveText("You are in alice's container, view only",
      { timeout: 60000 }
    );
    await expect(
      guest.locator('.jp-SideBar li[data-id="jupyter-share-panel"]')
    ).toHaveCount(0);
    const me = await guest.evaluate(() =>
      fetch('/api/me').then(r => r.json())
    );
    expect(me.identity.username).toBe('bob');
  } finally {
    await guestBrowser.close();
  }

  await runFromPalette(page, 'Create image from this container…');
  const form = page.locator('.jp-share-dialog');
  await expect(form.locator('.jp-Dialog-header')).toHaveText(
    'Create image from this container'
  );
  await form.locator('input[name="name"]').fill('from-palette');
  await form.locator('input[name="name"]').press('Enter');
  await expect(form).toHaveCount(0, { timeout: 30000 });
  await expect(
    section(page, 'image').locator('.jp-share-row', { hasText: 'from-palette' })
  ).toBeFocused();
  // The container row now carries the badge of bob's grant.
  await expect(section(page, 'session').locator('.jp-share-badge')).toHaveText(
    '1'
  );

  await page.locator('.jp-SideBar li[data-id="filebrowser"]').click();
  await runFromPalette(page, 'Show what is shared with me');
  await expect(page.locator('#jupyter-share-panel')).toBeVisible();
  await expect(
    section(page, 'shared').locator('.jp-share-row').first()
  ).toBeFocused();
});

test('edit on a container says what it trusts the neighbour with; revoking it offers to re-key', async ({
  page
}) => {
  await openLab(page, servers().alice);
  await runFromPalette(page, 'Share this container…');
  const dialog = page.locator('.jp-share-dialog');
  await dialog.locator('input[name="principal"]').fill('dave');
  const permission = dialog.locator('select[name="permission"]');
  await permission.selectOption('view');
  await expect(dialog.locator('.jp-share-trust')).toHaveCount(0);
  await permission.selectOption('edit');
  // Said before granting, not after.
  await expect(dialog.locator('.jp-share-trust')).toContainText(
    'Edit runs code as you in this container'
  );
  await dialog.getByRole('button', { name: 'Share', exact: true }).click();
  const daveRow = dialog.locator(
    '.jp-share-access-row[data-principal="user:dave"]'
  );
  await expect(daveRow.locator('select')).toHaveValue('edit');

  await daveRow.getByRole('button', { name: 'Revoke dave' }).click();
  const confirm = dialog.getByRole('group', { name: 'Revoke dave' });
  await expect(confirm).toContainText('Re-keying gives this server a new token');
  await expect(
    confirm.getByRole('button', { name: 'Revoke and re-key' })
  ).toBeVisible();
  // Plain revoke here: re-keying would change the token the other tests use
  // (tests/test_guest_attacks.py re-keys a server of its own).
  await confirm.getByRole('button', { name: 'Revoke', exact: true }).click();
  await expect(daveRow).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Done' }).click();
});

test('keyboard: arrows move between rows, Enter shares, Shift+F10 opens the row menu', async ({
  page,
  alice
}) => {
  await alice.createImage('keyboard-1');
  await alice.createImage('keyboard-2');
  await openLab(page, servers().alice);
  await openSharingPanel(page);
  const rows = section(page, 'image').locator('.jp-share-row');
  await expect(rows).not.toHaveCount(0);
  await expect(
    section(page, 'image').getByRole('listbox', { name: 'Images' })
  ).toBeVisible();

  // Opening the panel gives it the keyboard; an arrow enters the first list.
  await expect(page.locator('#jupyter-share-panel')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(rows.first()).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(rows.nth(1)).toBeFocused();
  await expect(rows.nth(1)).toHaveAttribute('tabindex', '0');
  await expect(rows.first()).toHaveAttribute('tabindex', '-1');
  await page.keyboard.press('End');
  await expect(rows.last()).toBeFocused();
  await page.keyboard.press('Home');
  await expect(rows.first()).toBeFocused();

  await page.keyboard.press('Enter');
  const dialog = page.locator('.jp-share-dialog');
  await expect(dialog.locator('input[name="principal"]')).toBeFocused();
  // Arrow keys pick a completion, Enter takes it, Escape closes the list first.
  await page.keyboard.type('b');
  await expect(dialog.locator('.jp-share-suggestion').first()).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await expect(
    dialog.locator('.jp-share-suggestion.jp-mod-active')
  ).toHaveCount(1);
  await page.keyboard.press('Escape');
  await expect(dialog.locator('.jp-share-suggestion')).toHaveCount(0);
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  await rows.first().focus();
  await page.keyboard.press('Shift+F10');
  const menu = page.locator('.lm-Menu');
  await expect(menu.getByText('Share…')).toBeVisible();
  await expect(menu.getByText('Delete')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
});

test('row menu: download environment, revoke all, leave, delete', async ({
  page,
  alice,
  bob
}) => {
  const captured = await alice.call('POST', 'images', {
    name: 'captured',
    capture: true
  });
  await alice.share('image', captured.id, 'bob', 'view');
  await alice.share('image', captured.id, 'carol', 'edit');
  const doomed = await alice.createImage('doomed');
  const fromBob = await bob.createImage('to-leave');
  await bob.share('image', fromBob.id, 'alice', 'edit');

  await openLab(page, servers().alice);
  await openSharingPanel(page);

  // Download the captured environment as requirements.txt.
  await row(page, captured.id).click({ button: 'right' });
  await page
    .locator('.lm-Menu-item', { hasText: 'Download environment' })
    .hover();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    chooseMenuItem(page, 'requirements.txt')
  ]);
  expect(download.suggestedFilename()).toBe('requirements.txt');
  const content = fs.readFileSync(await download.path(), 'utf-8');
  expect(content).toMatch(/jupyterlab==/i);

  // Revoke all.
  await expect(row(page, captured.id).locator('.jp-share-badge')).toHaveText(
    '2'
  );
  await row(page, captured.id).click({ button: 'right' });
  await chooseMenuItem(page, 'Revoke all');
  await expect(page.locator('.jp-Dialog-body')).toContainText(
    'bob, carol will lose it'
  );
  await page.getByRole('button', { name: 'Revoke all' }).click();
  await expect(row(page, captured.id).locator('.jp-share-badge')).toHaveCount(
    0
  );
  expect(await alice.grants('image', captured.id)).toEqual([]);

  // Leave what bob shared.
  await expect(row(page, fromBob.id)).toBeVisible();
  await row(page, fromBob.id).click({ button: 'right' });
  await expect(page.locator('.lm-Menu').getByText('Delete')).toHaveCount(0);
  await chooseMenuItem(page, 'Leave');
  await page.getByRole('button', { name: 'Leave' }).click();
  await expect(row(page, fromBob.id)).toHaveCount(0);

  // Delete (an image without a captured environment offers no download).
  await row(page, doomed.id).click({ button: 'right' });
  await expect(
    page.locator('.lm-Menu').getByText('Download environment')
  ).toHaveCount(0);
  await chooseMenuItem(page, 'Delete');
  await page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Delete' })
    .click();
  await expect(row(page, doomed.id)).toHaveCount(0);
});

test('asking for more: bob asks from Shared with me, a guest from the banner; alice approves from the notification', async ({
  page,
  alice,
  bob
}) => {
  await openLab(page, servers().alice);
  await openSharingPanel(page);

  // bob, in his own lab: "Ask for edit" on a row shared with him.
  const image = await alice.createImage('asked-for');
  await alice.share('image', image.id, 'bob', 'view');
  const bobPage = await pageOf(servers().bob);
  try {
    await openSharingPanel(bobPage);
    const shared = section(bobPage, 'shared').locator(
      `[data-resource-id="${image.id}"]`
    );
    await shared.getByRole('button', { name: 'Ask for edit' }).click();
    const dialog = bobPage.locator('.jp-Dialog');
    await dialog.locator('textarea').fill('to fix the tag');
    await dialog.getByRole('button', { name: 'Ask' }).click();
    await expect(
      bobPage.locator('.Toastify__toast', { hasText: 'You asked alice for edit' })
    ).toBeVisible();

    // alice's panel looks every pollInterval (5 s here): the notification comes.
    const toast = page.locator('.Toastify__toast', {
      hasText: 'bob asks for edit on your image asked-for: “to fix the tag”'
    });
    await expect(toast).toBeVisible({ timeout: 20000 });
    await toast.getByRole('button', { name: 'Approve' }).click();
    await expect(
      page.locator('.Toastify__toast', { hasText: 'bob may now edit asked-for' })
    ).toBeVisible();
    expect((await bob.get('image', image.id)).access).toBe('edit');
    // bob's row follows (his panel looks again), and offers manage next.
    await expect(shared.locator('.jp-share-permission')).toHaveText('edit', {
      timeout: 20000
    });
    await expect(
      shared.getByRole('button', { name: 'Ask for manage' })
    ).toBeVisible();
  } finally {
    await bobPage.context().browser()!.close();
  }

  // dave, a guest in alice's container (personal link, view), asks from his
  // banner: alice's lab hears of it at once (its event stream).
  await alice
    .call('DELETE', 'sessions/current/grants/dave')
    .catch(() => undefined);
  const { link } = await alice.call('PUT', 'sessions/current/grants/dave', {
    permission: 'view'
  });
  const browser = await chromium.launch(LAUNCH_OPTIONS);
  try {
    const guest = await browser.newPage();
    await guest.goto(link);
    const banner = guest.locator('#jupyter-share-guest-banner');
    await expect(banner).toContainText("You are in alice's container, view only", {
      timeout: 60000
    });
    const before = await guest.evaluate(() => performance.timeOrigin);
    await banner.getByRole('button', { name: 'Ask for edit' }).click();
    const dialog = guest.locator('.jp-Dialog');
    await dialog.locator('textarea').fill('I would like to run the analysis');
    await dialog.getByRole('button', { name: 'Ask' }).click();
    await expect(banner).toContainText('You asked for edit');

    const toast = page.locator('.Toastify__toast', {
      hasText: 'dave asks for edit on your container'
    });
    await expect(toast).toBeVisible({ timeout: 5000 });
    await toast.getByRole('button', { name: 'Approve' }).click();

    // The guest's JupyterLab follows without a reload, and is told.
    await expect(banner).toContainText('you may edit and run code', {
      timeout: 10000
    });
    await expect(
      guest.locator('.Toastify__toast', { hasText: 'alice approved' })
    ).toBeVisible({ timeout: 10000 });
    await expect(
      banner.getByRole('button', { name: 'Ask for manage' })
    ).toBeVisible();
    expect(await guest.evaluate(() => performance.timeOrigin)).toBe(before);
    const grants = await alice.grants('session', 'current');
    expect(grants.find(g => g.principal === 'user:dave')?.permission).toBe(
      'edit'
    );
  } finally {
    await browser.close();
    await alice.call('DELETE', 'sessions/current/grants/dave');
  }
});

test('light and dark themes; the screenshots of the docs', async ({
  page,
  alice,
  bob
}, testInfo) => {
  // A tidy store: what the README shows.
  await alice.deleteAll();
  await bob.deleteAll();
  for (const client of [alice, bob]) {
    for (const grant of await client.grants('session', 'current')) {
      await client.call(
        'DELETE',
        `sessions/current/grants/${encodeURIComponent(grant.principal)}`
      );
    }
  }
  const caret = await alice.call('POST', 'images', {
    name: 'CARET',
    description: 'R with caret, captured from this container',
    capture: true
  });
  await alice.share('image', caret.id, 'bob', 'view');
  await alice.share('image', caret.id, 'group:class-2026', 'edit');
  await alice.createImage('python-base');
  const formation = await alice.createFormation('class-2026 lab', {
    image: caret.id,
    cpu: 2,
    memory: '4G'
  });
  await alice.share('formation', formation.id, 'group:class-2026', 'view');
  await alice.share('session', 'current', 'dave', 'edit');
  const tensorflow = await bob.createImage('tensorflow-gpu', {
    reference: 'tensorflow/tensorflow:2.17.0-gpu'
  });
  await bob.share(
    'image',
    tensorflow.id,
    'alice',
    'view',
    '2027-01-31T12:00:00Z'
  );
  const gpu = await bob.createFormation('gpu-large', {
    image: tensorflow.id,
    cpu: 8,
    memory: '64G',
    gpu: 1
  });
  await bob.share('formation', gpu.id, 'group:staff', 'manage');
  await bob.share('session', 'current', 'alice', 'edit');

  await openLab(page, servers().alice);
  const panel = await openSharingPanel(page);
  await expect(section(page, 'shared').locator('.jp-share-row')).toHaveCount(3);
  await page.mouse.move(900, 700);
  const shots: { [name: string]: Buffer } = {};
  const area = { x: 0, y: 0, width: 720, height: 800 };
  shots['panel.png'] = await page.screenshot({ clip: area });

  // The dialog, with the access list and the completion open.
  await row(page, caret.id).dblclick();
  const dialog = page.locator('.jp-share-dialog');
  await expect(dialog.locator('.jp-share-access-row')).toHaveCount(3);
  await dialog.locator('input[name="principal"]').fill('ca');
  await expect(dialog.locator('.jp-share-suggestion')).toHaveCount(1);
  shots['dialog.png'] = await page.screenshot();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toHaveCount(0);

  // Dark: the panel follows the theme's variables.
  const nameColour = () =>
    panel
      .locator('.jp-share-row-name')
      .first()
      .evaluate(node => getComputedStyle(node).color);
  const light = await nameColour();
  await page.getByRole('menuitem', { name: 'Settings' }).click();
  await page.locator('.lm-Menu-item', { hasText: /^Theme$/ }).hover();
  await chooseMenuItem(page, /^JupyterLab Dark$/);
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-light',
    'false'
  );
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
  await expect.poll(nameColour).not.toBe(light);
  await page.mouse.move(900, 700);
  shots['panel-dark.png'] = await page.screenshot({ clip: area });
  await row(page, caret.id).dblclick();
  await expect(dialog.locator('.jp-share-access-row')).toHaveCount(3);
  shots['dialog-dark.png'] = await page.screenshot();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toHaveCount(0);
  // Back to the light theme for whoever comes next (the settings are shared).
  await page.getByRole('menuitem', { name: 'Settings' }).click();
  await page.locator('.lm-Menu-item', { hasText: /^Theme$/ }).hover();
  await chooseMenuItem(page, /^JupyterLab Light$/);
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-light',
    'true'
  );
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });

  // Kept with the test's results; copied into docs/images when asked to.
  const docs = process.env.JUPYTER_SHARE_UI_SCREENSHOTS
    ? path.resolve(__dirname, '..', '..', 'docs', 'images')
    : null;
  for (const [name, png] of Object.entries(shots)) {
    await testInfo.attach(name, { body: png, contentType: 'image/png' });
    fs.writeFileSync(testInfo.outputPath(name), png);
    if (docs) {
      fs.mkdirSync(docs, { recursive: true });
      fs.writeFileSync(path.join(docs, name), png);
    }
  }
});
