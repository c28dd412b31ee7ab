/**
 * View means watching live (issue 14), with jupyter-collaboration on the
 * servers (tests/test_ui_collab.py runs this): alice types in a notebook, bob
 * (a view guest by her personal link) sees her text and her cursor as she
 * types, his page is read-only, starts no kernel and sends no change to the
 * room; raised to edit, his typing reaches alice; lowered, it stops; revoked,
 * he is told.
 */
import { Browser, chromium, expect, Page, test } from '@playwright/test';

import { LAUNCH_OPTIONS } from '../chromium';
import {
  keepScreenshot,
  pageOf,
  putNotebook,
  ShareClient,
  servers,
  typeInFirstCell
} from './fixtures';

/** The text of the first cell's editor. */
const firstCell = (page: Page) => page.locator('.jp-Cell .cm-content').first();

/** What bob's page sends that could start something or change the document. */
interface ISent {
  starts: string[];
  /** Kernel connections (alice's kernel runs; view does not reach it). */
  kernels: string[];
  /** Room messages that would change the document (hex, cut short). */
  changes: string[];
}

/** The var-uints of y-protocols' encoding at the start of `data`, and where they end. */
function varUints(data: Buffer, count: number): [number[], number] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  let at = 0;
  while (at < data.length && values.length < count) {
    const byte = data[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) {
      values.push(value);
      value = 0;
      shift = 0;
    }
  }
  return [values, at];
}

/**
 * Whether a room message would change the document: anything but awareness
 * (1), sync step 1 (0, 0) and a sync step 2 that carries nothing (0, 1, the
 * empty update [0, 0]: the answer to the server's step 1 of a client that has
 * no change of its own). Updates (0, 2) and raw messages (2: saving) change it.
 *
 * One write is every JupyterLab client's own, and not the guest's doing: on
 * joining, the document provider sets the document's `state.document_id` to
 * the room's name (the server drops it from a view guest; on a raise to edit
 * readonly_rooms.py takes it in). A small update whose one string is the
 * room's name is that one.
 */
function changes(data: Buffer, room: string): boolean {
  const [head, at] = varUints(data, 3);
  if (head[0] === 1 || (head[0] === 0 && head[1] === 0)) {
    return false;
  }
  if (head[0] === 0 && (head[1] === 1 || head[1] === 2)) {
    const update = data.subarray(at, at + head[2]);
    if (update.length === 2 && update[0] === 0 && update[1] === 0) {
      return false;
    }
    return !(
      update.includes(Buffer.from(room)) && update.length < room.length + 48
    );
  }
  return true;
}

function watchWhatIsSent(page: Page): ISent {
  const sent: ISent = { starts: [], kernels: [], changes: [] };
  page.on('request', request => {
    const url = request.url();
    if (
      request.method() === 'POST' &&
      (url.includes('/api/sessions') || url.includes('/api/kernels'))
    ) {
      sent.starts.push(url);
    }
  });
  page.on('websocket', ws => {
    if (ws.url().includes('/api/kernels/')) {
      sent.kernels.push(ws.url());
    }
    if (!ws.url().includes('/api/collaboration/room/')) {
      return;
    }
    const room = decodeURIComponent(
      new URL(ws.url()).pathname.split('/api/collaboration/room/')[1]
    );
    ws.on('framesent', frame => {
      if (typeof frame.payload !== 'string' && changes(frame.payload, room)) {
        sent.changes.push(frame.payload.subarray(0, 96).toString('hex'));
      }
    });
  });
  return sent;
}

test('bob watches alice type live, read-only; raised he edits with her; lowered and revoked he is held and told', async ({}, testInfo) => {
  test.setTimeout(240000); // two JupyterLabs, a kernel started on a busy machine
  const alice = new ShareClient(servers().alice);
  await putNotebook('live.ipynb', 'x = 1');
  await alice
    .call('DELETE', 'sessions/current/grants/bob')
    .catch(() => undefined);
  const { link } = await alice.call('PUT', 'sessions/current/grants/bob', {
    permission: 'view'
  });

  const alicePage = await pageOf(servers().alice);
  let bobBrowser: Browser | null = null;
  try {
    await alicePage.goto(`${servers().alice.url}lab/tree/live.ipynb`);
    await expect(firstCell(alicePage)).toHaveText('x = 1', { timeout: 60000 });

    bobBrowser = await chromium.launch(LAUNCH_OPTIONS);
    const bob = await bobBrowser.newPage();
    const sent = watchWhatIsSent(bob);
    await bob.goto(link);
    const banner = bob.locator('#jupyter-share-guest-banner');
    await expect(banner).toContainText(
      "You are in alice's container, view only",
      {
        timeout: 60000
      }
    );
    await bob.goto(
      link.replace(/jupyter-share\/link\/.*$/, 'lab/tree/live.ipynb')
    );
    await expect(firstCell(bob)).toHaveText('x = 1', { timeout: 60000 });
    await expect(bob.locator('body')).toHaveClass(/jp-share-view-guest/);
    const before = await bob.evaluate(() => performance.timeOrigin);

    // alice types; bob's screen follows, keystroke by keystroke.
    await alicePage.bringToFront();
    await typeInFirstCell(alicePage, ' + 41');
    await expect(firstCell(bob)).toHaveText('x = 1 + 41', { timeout: 10000 });
    // Her cursor is on his screen (awareness reaches the view guest).
    await expect(
      bob.locator('.jp-Cell .jp-remote-cursor').first()
    ).toBeAttached({
      timeout: 10000
    });
    await keepScreenshot(bob, 'live-view.png', testInfo);

    // bob's page is read-only: his keys change nothing, for him or for alice.
    await bob.bringToFront();
    await typeInFirstCell(bob, ' # bob was here');
    await bob.waitForTimeout(1500);
    await expect(firstCell(bob)).toHaveText('x = 1 + 41');
    await expect(firstCell(alicePage)).toHaveText('x = 1 + 41');
    expect(sent.starts).toEqual([]);
    expect(sent.kernels).toEqual([]);
    expect(sent.changes).toEqual([]);
    await expect(bob.locator('.jp-Dialog')).toHaveCount(0);

    // Raised to edit: his typing reaches alice (the room syncs his copy again,
    // readonly_rooms.py), and he runs the cell on alice's kernel: both see 42.
    await alice.call('PUT', 'sessions/current/grants/bob', {
      permission: 'edit'
    });
    await expect(banner).toContainText('you may edit and run code', {
      timeout: 10000
    });
    await typeInFirstCell(bob, '; print(x)');
    await expect(firstCell(alicePage)).toHaveText('x = 1 + 41; print(x)', {
      timeout: 10000
    });
    await bob.keyboard.press('Shift+Enter');
    for (const page of [bob, alicePage]) {
      await expect(
        page.locator('.jp-Cell').first().locator('.jp-OutputArea-output')
      ).toHaveText('42', { timeout: 60000 });
    }

    // Lowered to view: read-only again at once, and still watching.
    await alice.call('PUT', 'sessions/current/grants/bob', {
      permission: 'view'
    });
    await expect(banner).toContainText('view only', { timeout: 10000 });
    await expect(bob.locator('body')).toHaveClass(/jp-share-view-guest/);
    await typeInFirstCell(bob, '!!');
    await alicePage.bringToFront();
    await typeInFirstCell(alicePage, '0');
    await expect(firstCell(bob)).toHaveText('x = 1 + 41; print(x)0', {
      timeout: 10000
    });
    await expect(firstCell(alicePage)).toHaveText('x = 1 + 41; print(x)0');
    expect(await bob.evaluate(() => performance.timeOrigin)).toBe(before);

    // Revoked: the page says so.
    await alice.call('DELETE', 'sessions/current/grants/bob');
    await expect(bob.locator('#jupyter-share-access-ended')).toContainText(
      'alice ended your access to their container',
      { timeout: 10000 }
    );
  } finally {
    await bobBrowser?.close();
    await alicePage.context().browser()!.close();
    await alice
      .call('DELETE', 'sessions/current/grants/bob')
      .catch(() => undefined);
  }
});
