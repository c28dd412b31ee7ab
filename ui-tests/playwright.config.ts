/**
 * Playwright configuration of the jupyter-share UI tests.
 *
 * Browsers cannot be downloaded here: the tests drive Debian's Chromium
 * (`apt-get install chromium`), or the one CHROMIUM_PATH names. The global
 * setup starts real JupyterLab servers of alice and bob on one store.
 */
import { defineConfig } from '@playwright/test';

import { LAUNCH_OPTIONS } from './chromium';

/**
 * The servers have jupyter-collaboration (tests/test_ui_collab.py): only the
 * `*.collab.spec.ts` run, which need it; the others assume documents open
 * without it and run where it is not installed (tests/test_ui.py).
 */
const COLLAB = !!process.env.JUPYTER_SHARE_UI_COLLAB;
/** benchmarks/live_follow.py: the measurements of `bench/`, not the tests. */
const BENCH = !!process.env.JUPYTER_SHARE_UI_BENCH;
/**
 * A running JupyterHub (tests/test_ui_hub.py starts it and names it here): only
 * the `*.hub.spec.ts` run, against it, and no standalone servers are started.
 */
const HUB = !!process.env.JUPYTER_SHARE_UI_HUB;

export default defineConfig({
  testDir: BENCH ? './bench' : './tests',
  testMatch: BENCH
    ? '**/*.bench.ts'
    : HUB
      ? '**/*.hub.spec.ts'
      : COLLAB
        ? '**/*.collab.spec.ts'
        : '**/*.spec.ts',
  testIgnore:
    BENCH || COLLAB || HUB ? [] : ['**/*.collab.spec.ts', '**/*.hub.spec.ts'],
  globalSetup: HUB ? undefined : require.resolve('./global-setup'),
  // One browser at a time on a 2-core machine: JupyterLab is heavy.
  workers: 1,
  fullyParallel: false,
  timeout: BENCH ? 900000 : 60000,
  expect: { timeout: 15000 },
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    headless: true,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 15000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: LAUNCH_OPTIONS
  }
});
