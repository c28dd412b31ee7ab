/**
 * Playwright configuration of the jupyter-share UI tests.
 *
 * Browsers cannot be downloaded here: the tests drive Debian's Chromium
 * (`apt-get install chromium`), or the one CHROMIUM_PATH names. The global
 * setup starts real JupyterLab servers of alice and bob on one store.
 */
import { defineConfig } from '@playwright/test';

import { LAUNCH_OPTIONS } from './chromium';

export default defineConfig({
  testDir: './tests',
  globalSetup: require.resolve('./global-setup'),
  // One browser at a time on a 2-core machine: JupyterLab is heavy.
  workers: 1,
  fullyParallel: false,
  timeout: 60000,
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
