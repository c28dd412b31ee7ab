/**
 * The history of a resource in Details… (issue 15): what happened in words,
 * filtered by person and kind of event on the server, exported as CSV and
 * JSON; and the badge's names, which come with the list (hovering asks the
 * server nothing). It leaves the store as it found it (sharing.spec.ts starts
 * on an empty one).
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  chooseMenuItem,
  expect,
  openLab,
  openSharingPanel,
  row,
  servers,
  test
} from './fixtures';

test('the history of an image: filters and export', async ({
  page,
  alice
}, testInfo) => {
  const image = await alice.createImage('HISTORY-DEMO');
  try {
    await alice.share('image', image.id, 'bob', 'view');
    await alice.share('image', image.id, 'bob', 'edit');
    await alice.share('image', image.id, 'carol', 'view');
    await alice.call(
      'DELETE',
      `images/${image.id}/grants/${encodeURIComponent('user:carol')}`
    );

    const grantRequests: string[] = [];
    page.on('request', request => {
      if (/\/grants(\?|$)/.test(request.url()) && request.method() === 'GET') {
        grantRequests.push(request.url());
      }
    });
    await openLab(page, servers().alice);
    await openSharingPanel(page);
    const imageRow = row(page, image.id);
    await expect(imageRow).toBeVisible();

    // The badge names bob from the list answer: hovering asks nothing.
    const badge = imageRow.locator('.jp-share-badge');
    await imageRow.hover();
    await expect(badge).toHaveAttribute('title', 'Shared with bob (edit)');
    expect(grantRequests).toEqual([]);

    // Details… shows the history, oldest first, in words.
    await imageRow.click({ button: 'right' });
    await chooseMenuItem(page, 'Details…');
    const dialog = page.locator('.jp-Dialog');
    const history = dialog.locator('.jp-share-history');
    const entries = history.locator('.jp-share-history-entry');
    await expect(entries).toHaveCount(5);
    await expect(entries.nth(0)).toContainText('alice created it');
    await expect(entries.nth(1)).toContainText(
      'alice shared it with bob (view)'
    );
    await expect(entries.nth(2)).toContainText(
      'alice changed the access of bob to edit'
    );
    await expect(entries.nth(4)).toContainText('alice revoked carol (view)');
    await expect(history.locator('.jp-share-history-count')).toHaveText(
      '5 of 5 events'
    );

    // Filter by person: the server answers bob's rows only.
    const historyRequests: string[] = [];
    page.on('request', request => {
      if (request.url().includes('/history')) {
        historyRequests.push(request.url());
      }
    });
    await history.locator('.jp-share-history-person').fill('bob');
    await expect(entries).toHaveCount(2);
    await expect(history.locator('.jp-share-history-count')).toHaveText(
      '2 of 2 events'
    );
    expect(historyRequests.some(url => url.includes('person=bob'))).toBe(true);

    const png = await dialog.locator('.jp-Dialog-content').screenshot();
    await testInfo.attach('history.png', { body: png, contentType: 'image/png' });
    if (process.env.JUPYTER_SHARE_UI_SCREENSHOTS) {
      const docs = path.resolve(__dirname, '..', '..', 'docs', 'images');
      fs.mkdirSync(docs, { recursive: true });
      fs.writeFileSync(path.join(docs, 'history.png'), png);
    }

    // And by kind of event.
    await history.locator('.jp-share-history-person').fill('carol');
    await expect(entries).toHaveCount(2);
    await history.locator('.jp-share-history-kind').selectOption('revoked');
    await expect(entries).toHaveCount(1);
    await expect(entries.first()).toHaveAttribute('data-action', 'revoke');
    expect(
      historyRequests.some(
        url => url.includes('person=carol') && url.includes('action=revoke')
      )
    ).toBe(true);

    // Export what the filter keeps, as CSV and as JSON.
    const [csvDownload] = await Promise.all([
      page.waitForEvent('download'),
      history.locator('.jp-share-history-csv').click()
    ]);
    expect(csvDownload.suggestedFilename()).toBe('history.csv');
    const csv = fs
      .readFileSync((await csvDownload.path())!, 'utf-8')
      .trim()
      .split(/\r?\n/);
    expect(csv[0]).toBe('at,actor,action,principal,permission,address');
    expect(csv.slice(1).map(line => line.split(',').slice(1, 5))).toEqual([
      ['alice', 'revoke', 'user:carol', 'view']
    ]);

    await history.locator('.jp-share-history-kind').selectOption('');
    await history.locator('.jp-share-history-person').fill('');
    await expect(entries).toHaveCount(5);
    const [jsonDownload] = await Promise.all([
      page.waitForEvent('download'),
      history.locator('.jp-share-history-json').click()
    ]);
    expect(jsonDownload.suggestedFilename()).toBe('history.json');
    const exported = JSON.parse(
      fs.readFileSync((await jsonDownload.path())!, 'utf-8')
    );
    expect(exported.total).toBe(5);
    expect(exported.items.map((e: any) => e.action)).toEqual([
      'create',
      'share',
      'change',
      'share',
      'revoke'
    ]);

    await dialog.getByRole('button', { name: 'Close' }).first().click();
    await expect(dialog).toHaveCount(0);
    expect(grantRequests).toEqual([]);
  } finally {
    await alice.call('DELETE', `images/${image.id}`);
  }
});
