// The live dashboard (--dashboard) in real headless Chromium, mid-run: it
// loads with no request outside the dashboard's own origin, its charts move
// (two screenshots taken some server-sent updates apart differ: judged by
// counting updates, not by sleeping), and at the end it offers the final
// report, which is the HTML report of the run. A signal while the run lingers
// ends it. Screenshots are kept in test-artifacts/.

import t from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';
import { spawnLiveRun } from '../support/live-run.js';

const CHROMIUM = '/usr/bin/chromium';

t.test('the live dashboard in headless Chromium', { skip: !existsSync(CHROMIUM) && process.env.CI !== 'true' && 'chromium not installed' }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail('chromium is needed (CI=true)');
    return;
  }
  // Long enough to watch: a 12-second run, ended earlier by nothing but its own end.
  const run = spawnLiveRun(['scenarios/register-auth.yaml', '--rate', '10', '--duration', '12s', '--workers', '2', '--dashboard', '0', '--metrics-linger', '120s', '--no-reports']);
  t.teardown(() => void run.child.kill('SIGKILL'));
  const page0 = await run.url('dashboard');
  t.match(page0, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'on loopback, at the port the system gave');
  const url = page0.slice(0, -1);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  const foreign: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(url)) foreign.push(r.url());
  });
  await page.goto(`${url}/`);
  const updates = async () => Number(await page.getAttribute('body', 'data-updates'));
  const waitUpdates = (n: number) => page.waitForFunction((k) => Number(document.body.getAttribute('data-updates')) >= k, n, { timeout: 60_000 });

  await waitUpdates(3);
  t.ok((await page.locator('.time-chart svg path.line.rate').count()) >= 1, 'the time chart is drawn');
  t.ok((await page.locator('.percentiles-chart svg path.line.p99').count()) >= 1, 'percentiles over time per step');
  t.ok((await page.locator('.codes-chart svg rect').count()) >= 1, 'responses over time');
  t.ok((await page.locator('.distribution-chart svg rect.bin').count()) >= 1, 'the response-time distribution');
  t.equal(await page.isVisible('#report'), false, 'no report offered while the run goes on');
  const first = await page.screenshot({ fullPage: true });
  const firstStatus = await page.textContent('#status');
  const seen = await updates();
  await waitUpdates(seen + 3);
  const second = await page.screenshot({ fullPage: true });
  t.not(await page.textContent('#status'), firstStatus, 'the status line moved on');
  t.ok(!first.equals(second), 'two screenshots three updates apart differ');
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'test-artifacts/dashboard.png'), fullPage: true });

  // The end: the page offers the final report, the run's own HTML report.
  await page.waitForSelector('#report a', { state: 'visible', timeout: 120_000 });
  t.equal(await page.textContent('#state'), 'ended');
  await page.click('#report a');
  await page.waitForSelector('#verdict');
  t.equal(await page.textContent('#verdict'), 'PASSED', 'the final report, with its verdict');
  t.ok((await page.locator('.percentiles-chart svg').count()) >= 1, 'with the same charts');
  t.same(foreign, [], 'no request outside the dashboard');
  run.child.kill('SIGINT');
  t.equal(await run.exited, 0, 'a signal while it lingers ends the run with its verdict');
});
