/**
 * Shares arrive at once, across servers: what alice does on her server
 * reaches bob's open panel on his own server through his server's change
 * stream (its watcher of the store), with no reload and no poll.
 */
import {
  expect,
  openLab,
  openSharingPanel,
  section,
  servers,
  test
} from './fixtures';

/** Set the panel's poll interval (the settings file is the servers' shared one). */
async function setPollInterval(seconds: number): Promise<void> {
  const { bob } = servers();
  const response = await fetch(
    `${bob.url}lab/api/settings/jupyter-share:plugin`,
    {
      method: 'PUT',
      headers: { Authorization: `token ${bob.token}` },
      body: JSON.stringify({ raw: JSON.stringify({ pollInterval: seconds }) })
    }
  );
  expect(response.status).toBe(204);
}

test.afterEach(async () => {
  await setPollInterval(5); // what the other tests expect
});

test('a share made on alice’s server appears in bob’s open panel at once, with no poll', async ({
  page,
  alice
}) => {
  // An hour between polls: only the stream can bring it in time.
  await setPollInterval(3600);
  let streams = 0;
  page.on('request', request => {
    if (request.url().includes('/jupyter-share/api/v1/feed')) {
      streams += 1;
    }
  });
  await openLab(page, servers().bob);
  await openSharingPanel(page);
  await expect.poll(() => streams).toBeGreaterThan(0); // the panel's stream is open
  // Every read of the whole shared-with-me list from now on.
  const listReads: string[] = [];
  page.on('request', request => {
    if (request.url().includes('/jupyter-share/api/v1/shared-with-me')) {
      listReads.push(request.url());
    }
  });

  const image = await alice.createImage('arrives-at-once', {
    reference: 'docker.io/library/python:3.12'
  });
  await alice.share('image', image.id, 'bob', 'view');

  const shared = section(page, 'shared').locator(
    `[data-resource-id="${image.id}"]`
  );
  // Far within the hour's poll; a second is the goal, a few allow a loaded CI machine.
  await expect(shared).toBeVisible({ timeout: 5000 });
  await expect(shared.locator('.jp-share-row-owner')).toHaveText('alice');
  await expect(
    page.locator('.Toastify__toast', {
      hasText: 'alice shared image arrives-at-once with you'
    })
  ).toBeVisible();

  // alice raises it to edit: the row follows.
  await alice.share('image', image.id, 'bob', 'edit');
  await expect(shared.locator('.jp-share-permission')).toHaveText('edit', {
    timeout: 5000
  });

  // alice revokes: the row goes, and bob is told in words.
  await alice.call('DELETE', `images/${image.id}/grants/bob`);
  await expect(shared).toHaveCount(0, { timeout: 5000 });
  await expect(
    page.locator('.Toastify__toast', {
      hasText: 'alice revoked your access to image arrives-at-once'
    })
  ).toBeVisible();

  // None of it came by reading the whole list again.
  expect(listReads).toEqual([]);
  await alice.call('DELETE', `images/${image.id}`);
});
