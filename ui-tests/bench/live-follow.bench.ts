/**
 * The delay from alice's keystroke to the text on a watcher's screen, with
 * jupyter-collaboration: bob, a view guest by her personal link (jupyter_share
 * checks each of his messages and holds him read-only), against alice's own
 * second browser on the same notebook (the baseline: the owner's client, no
 * guest path), both watching the same keystrokes. Run by
 * benchmarks/live_follow.py, which reads what this writes and reports it.
 *
 * JUPYTER_SHARE_BENCH_KEYS: how many keystrokes (default 40).
 * JUPYTER_SHARE_BENCH_OUT: where the delays go, as JSON.
 */
import * as fs from 'fs';

import { chromium, expect, Page, test } from '@playwright/test';

import { LAUNCH_OPTIONS } from '../chromium';
import { pageOf, putNotebook, ShareClient, servers } from '../tests/fixtures';

const KEYS = Number(process.env.JUPYTER_SHARE_BENCH_KEYS || 40);

const firstCell = (page: Page) => page.locator('.jp-Cell .cm-content').first();

/** Record, in the page, when the first cell's text first reads each value (ms, epoch). */
async function watchFirstCell(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: { [text: string]: number } = {};
    (window as any).__seen = seen;
    const node = document.querySelector('.jp-Cell .cm-content')!;
    const note = () => {
      const text = node.textContent ?? '';
      if (!(text in seen)) {
        seen[text] = performance.timeOrigin + performance.now();
      }
    };
    new MutationObserver(note).observe(node, {
      childList: true,
      characterData: true,
      subtree: true
    });
  });
}

test('live follow: keystroke to screen, view guest and owner', async () => {
  const alice = new ShareClient(servers().alice);
  await putNotebook('bench-live.ipynb', 'x = 0');
  await alice
    .call('DELETE', 'sessions/current/grants/bob')
    .catch(() => undefined);
  const { link } = await alice.call('PUT', 'sessions/current/grants/bob', {
    permission: 'view'
  });
  const notebook = `${servers().alice.url}lab/tree/bench-live.ipynb`;

  const typist = await pageOf(servers().alice);
  const owner = await pageOf(servers().alice);
  const guestBrowser = await chromium.launch(LAUNCH_OPTIONS);
  try {
    const guest = await guestBrowser.newPage();
    await guest.goto(link);
    await guest
      .locator('#jupyter-share-guest-banner')
      .waitFor({ timeout: 60000 });
    for (const [page, url] of [
      [typist, notebook],
      [owner, notebook],
      [
        guest,
        link.replace(/jupyter-share\/link\/.*$/, 'lab/tree/bench-live.ipynb')
      ]
    ] as [Page, string][]) {
      await page.goto(url);
      await expect(firstCell(page)).toHaveText('x = 0', { timeout: 60000 });
    }
    const watchers = { guest, owner };
    for (const page of Object.values(watchers)) {
      await watchFirstCell(page);
    }
    await typist.bringToFront();
    await firstCell(typist).click();
    await typist.keyboard.press('End');
    await typist.evaluate(() => {
      const keys: number[] = [];
      (window as any).__keys = keys;
      document.addEventListener(
        'keydown',
        () => keys.push(performance.timeOrigin + performance.now()),
        true
      );
    });

    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const texts: string[] = [];
    let text = 'x = 0';
    for (let i = 0; i < KEYS; i++) {
      // Words of twenty letters, as one types them.
      const key = i % 20 === 19 ? ' ' : letters[i % letters.length];
      text += key;
      texts.push(text);
      await typist.keyboard.press(key === ' ' ? 'Space' : key);
      for (const page of Object.values(watchers)) {
        await page.waitForFunction(t => t in (window as any).__seen, text, {
          timeout: 15000
        });
      }
      // A human's pace, so that each keystroke is its own update.
      await typist.waitForTimeout(80 + Math.round(Math.random() * 80));
    }
    const keys: number[] = await typist.evaluate(() => (window as any).__keys);
    expect(keys.length).toBe(KEYS);
    const delays: { [who: string]: number[] } = {};
    for (const [who, page] of Object.entries(watchers)) {
      const seen = await page.evaluate(() => (window as any).__seen);
      delays[who] = texts.map((t, i) => seen[t] - keys[i]);
    }
    const out = process.env.JUPYTER_SHARE_BENCH_OUT;
    if (out) {
      fs.writeFileSync(out, JSON.stringify({ keys: KEYS, delays }));
    }
    console.log(JSON.stringify(delays));
  } finally {
    await guestBrowser.close();
    await typist.context().browser()!.close();
    await owner.context().browser()!.close();
    await alice
      .call('DELETE', 'sessions/current/grants/bob')
      .catch(() => undefined);
  }
});
