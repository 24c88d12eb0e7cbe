// The HTML report opened in real headless Chromium (Debian's chromium, driven
// by playwright-core): it loads with no network request at all, shows the
// charts (latency by percentile, percentiles and responses over time, the
// distribution), and a failed call's ladder opens its raw message on click. A
// screenshot is kept as a test artifact (test-artifacts/report.png).

import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';

function run(args: string[]): Promise<number | null> {
  return new Promise((resolve) => spawn(process.execPath, ['dist/cli/main.js', ...args], { cwd: root, stdio: 'ignore' }).on('exit', (c) => resolve(c)));
}

t.test('report.html in headless Chromium', { skip: !existsSync(CHROMIUM) && 'chromium not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-html-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mixed.yaml');
  // Some calls pass, some fail: a passing step with latency, and failed ladders to open.
  writeFileSync(file, "load: { total: 6, rate: 20 }\nusers: { count: 6 }\nsteps:\n  - send: OPTIONS\n    expect: 200\n  - send: INVITE\n    to: 'sip:${n}@${target.host}:${target.port}'\n    expect: 200\n");
  t.equal(await run(['run', 'scenarios/register-auth.yaml', file, '--workers', '1', '--out', dir]), 1, 'the run fails (the INVITEs get 404)');
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  t.notMatch(html, /<(script|link|img)[^>]+(src|href)=["']?https?:/i, 'no external script, style or image');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(`file://${join(dir, 'report.html')}`);
  t.same(requests, [], 'no network request while loading');
  t.equal(await page.textContent('#verdict'), 'FAILED');
  t.ok((await page.locator('.latency-chart svg path.line.service').count()) >= 2, 'latency percentile charts drawn');
  t.ok((await page.locator('.time-chart svg').count()) >= 1, 'time charts drawn');
  t.ok((await page.locator('.percentiles-chart svg path.line.p99').count()) >= 2, 'per step, p50/p90/p99 of each second');
  t.ok((await page.locator('.codes-chart svg rect.c4xx').count()) >= 1, 'per step, responses by class each second (the 404s)');
  t.ok((await page.locator('.distribution-chart svg rect.bin').count()) >= 2, 'per step, the response-time distribution');
  const ladders = page.locator('.ladder');
  t.ok((await ladders.count()) >= 1, 'a ladder per sampled failed instance');
  const raw = page.locator('.ladder pre.raw-message').first();
  t.equal(await raw.isVisible(), false, 'raw message hidden at first');
  await page.locator('.ladder .arrow').first().click();
  t.equal(await raw.isVisible(), true, 'a click on an arrow shows the raw message');
  t.match((await raw.textContent()) ?? '', /^(OPTIONS|INVITE|REGISTER) sip:/);
  mkdirSync(join(root, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: join(root, 'test-artifacts/report.png'), fullPage: true });
  t.ok(existsSync(join(root, 'test-artifacts/report.png')), 'screenshot kept');
});
