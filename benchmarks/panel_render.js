/**
 * The browser half of benchmarks/panel_render.py: run by it with a JSON config
 * (servers, row counts, rounds); prints the samples (ms) as JSON on stdout.
 *
 * Times are taken inside the page (performance.now), from the action to the
 * frame after the DOM holds what the action shows.
 */
const path = require('path');

const { chromium } = require(
  path.join(__dirname, '..', 'ui-tests', 'node_modules', 'playwright-core')
);

const config = JSON.parse(process.argv[2]);

async function openLab(page, server) {
  const lists = [
    'shared-with-me',
    'images?scope=owned',
    'formations?scope=owned',
    'sessions?scope=owned'
  ];
  const loaded = Promise.all(
    lists.map(part =>
      page.waitForResponse(
        r => r.url().includes(`/jupyter-share/api/v1/${part}`) && r.ok(),
        { timeout: 60000 }
      )
    )
  );
  await page.goto(`${server.url}lab?reset&token=${server.token}`);
  await page.waitForSelector('#jupyterlab-splash', {
    state: 'detached',
    timeout: 60000
  });
  await page.waitForFunction(
    () => document.activeElement?.closest('.jp-Launcher'),
    null,
    {
      timeout: 30000
    }
  );
  await loaded;
  // Let the responses' JSON be parsed and the model settle.
  await page.waitForTimeout(300);
}

/** Activate the Sharing panel; ms until the frame after `rows` rows (and four sections) are in. */
function timeOpen(page, rows) {
  return page.evaluate(
    rows =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        window.jupyterapp.shell.activateById('jupyter-share-panel');
        const done = () => {
          const panel = document.getElementById('jupyter-share-panel');
          const sections = panel.querySelectorAll(
            '.jp-share-section .jp-share-list, .jp-share-section [data-share-empty]'
          ).length;
          return (
            sections === 4 &&
            panel.querySelectorAll('.jp-share-row').length >= rows
          );
        };
        const check = () => {
          if (done()) {
            requestAnimationFrame(() =>
              setTimeout(() => resolve(performance.now() - t0), 0)
            );
          } else if (performance.now() - t0 > 30000) {
            reject(new Error('the panel did not render'));
          } else {
            requestAnimationFrame(check);
          }
        };
        check();
      }),
    rows
  );
}

/**
 * One open of alice's panel under Chromium's tracer and V8's sampling profiler:
 * where its time goes, the longest trace events (nested ones overlap) and the
 * script functions by their own time.
 */
async function profileOpen(page, rows) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', data => events.push(...data.value));
  const complete = new Promise(resolve =>
    cdp.once('Tracing.tracingComplete', resolve)
  );
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
  await cdp.send('Tracing.start', {
    categories: 'devtools.timeline,blink,v8.execute',
    transferMode: 'ReportEvents'
  });
  const ms = await timeOpen(page, rows);
  await cdp.send('Tracing.end');
  await complete;
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();

  const top = (sums, n) =>
    Object.entries(sums)
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, total]) => [name, Math.round(total * 10) / 10]);
  const phases = {};
  for (const event of events) {
    if (event.ph === 'X' && event.dur) {
      phases[event.name] = (phases[event.name] || 0) + event.dur / 1000;
    }
  }
  const nodes = new Map(profile.nodes.map(node => [node.id, node]));
  const functions = {};
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id).callFrame;
    if (frame.functionName === '(program)' || frame.functionName === '(idle)') {
      return; // the browser's own work and waiting, counted by the trace above
    }
    const file = frame.url.split('/').pop().split('?')[0];
    const name = `${frame.functionName || '(anonymous)'} ${file}`.trim();
    functions[name] =
      (functions[name] || 0) + (profile.timeDeltas[i] || 0) / 1000;
  });
  return { open: ms, events: top(phases, 20), functions: top(functions, 20) };
}

/** Run a command; ms until the frame after it resolved. */
function timeCommand(page, command) {
  return page.evaluate(
    command =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        window.jupyterapp.commands
          .execute(command)
          .then(
            () =>
              requestAnimationFrame(() =>
                setTimeout(() => resolve(performance.now() - t0), 0)
              ),
            reject
          );
      }),
    command
  );
}

(async () => {
  const browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run'
    ]
  });
  const samples = {
    browser: browser.version(),
    open_full: [],
    open_empty: [],
    refresh_full: [],
    refresh_filebrowser: []
  };
  const page = await browser.newPage({
    viewport: { width: 1280, height: 800 }
  });
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));

  // One warm-up of each, not counted.
  for (const server of [config.alice, config.carol]) {
    await openLab(page, server);
    await timeOpen(page, 0);
  }
  if (config.profile) {
    await openLab(page, config.alice);
    samples.profile = await profileOpen(page, config.rows);
  }
  for (let round = 0; round < config.rounds; round++) {
    // Alternate which goes first.
    const order = round % 2 ? ['carol', 'alice'] : ['alice', 'carol'];
    for (const who of order) {
      await openLab(page, config[who]);
      const ms = await timeOpen(page, who === 'alice' ? config.rows : 0);
      samples[who === 'alice' ? 'open_full' : 'open_empty'].push(ms);
    }
  }
  // Refreshes in alice's lab: the Sharing panel and the file browser in turn,
  // each measured while it is shown.
  await openLab(page, config.alice);
  await page.waitForSelector('.jp-DirListing-item', { timeout: 30000 });
  for (let round = 0; round < config.rounds + 1; round++) {
    await page.evaluate(() =>
      window.jupyterapp.shell.activateById('filebrowser')
    );
    const files = await timeCommand(page, 'filebrowser:refresh');
    await page.evaluate(() =>
      window.jupyterapp.shell.activateById('jupyter-share-panel')
    );
    await timeOpen(page, config.rows);
    const share = await timeCommand(page, 'jupyter-share:refresh');
    if (round > 0) {
      samples.refresh_filebrowser.push(files);
      samples.refresh_full.push(share);
    }
  }
  const listed = await page.evaluate(
    () => document.querySelectorAll('#jupyter-share-panel .jp-share-row').length
  );
  await browser.close();
  if (errors.length) {
    throw new Error(`page errors: ${errors.join('; ')}`);
  }
  if (listed < config.rows) {
    throw new Error(`the panel listed ${listed} rows, not ${config.rows}`);
  }
  process.stdout.write(JSON.stringify(samples));
})().catch(error => {
  console.error(error);
  process.exit(1);
});
