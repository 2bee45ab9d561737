// End-to-end test of truce's web page in headless Chromium (playwright-core, no test
// runner). Run by crates/cli/tests/web_e2e.rs:
//
//   node crates/cli/web/e2e/web.test.mjs path/to/truce [screenshot.png]
//
// It starts `truce serve --demo` on a fresh folder and a free loopback port, opens the
// page as the public, checks that the map drew the contact line and the war-related
// fires, moves the date slider and checks that the line changed, enters the demo
// analyst's token, confirms the first incident of the review queue with a reason, and
// checks that it left the queue and that the API now says it is verified. The pledges
// and reports panels must show the server's figures, or "not available" where the server
// lacks the endpoint. Any console error, page error, failed request, HTTP error or
// request to another host fails the test. Exit status 0 on success, 1 on failure.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.argv[2];
const SHOT = process.argv[3] || join(tmpdir(), 'truce-web-e2e.png');
const CHROMIUM = process.env.TRUCE_CHROMIUM || '/usr/bin/chromium';
const DEADLINE_MS = 90_000;
const STEP_MS = 30_000;

if (!BIN) {
  console.error('usage: node web.test.mjs TRUCE_BINARY [SCREENSHOT.png]');
  process.exit(2);
}

const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s]`, ...a);
const problems = [];
let server = null;
let serverLog = '';
let context = null;
const tmp = mkdtempSync(join(tmpdir(), 'truce-web-e2e-'));

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  log('ok:', what);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForServer(base) {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (server.exitCode !== null) throw new Error('truce serve exited with ' + server.exitCode);
    try {
      const r = await fetch(base + '/api/v1/whoami');
      if (r.ok) return;
    } catch (e) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('truce serve did not answer within 60 s');
}

async function main() {
  const watchdog = setTimeout(() => {
    console.error(`FAIL: the test took longer than ${DEADLINE_MS / 1000} s`);
    cleanup().finally(() => process.exit(1));
  }, DEADLINE_MS);
  watchdog.unref();

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const demo = join(tmp, 'demo');
  server = spawn(BIN, ['serve', '--demo', demo, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitForServer(base);
  log('truce serve --demo answers on', base);

  const tokens = readFileSync(join(demo, 'tokens.toml'), 'utf8');
  const m = tokens.match(/token = "([^"]+)"\s*\nrole = "analyst"/);
  check(m, 'the demo wrote an analyst token');
  const analyst = m[1];
  const auth = { Authorization: 'Bearer ' + analyst };

  // Whether the pledges and reports endpoints exist on this server yet.
  const has = {};
  for (const p of ['pledges', 'reports']) {
    const r = await fetch(`${base}/api/v1/${p}`);
    has[p] = r.status !== 404;
    log(`/api/v1/${p}: ${r.status}`);
  }

  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // WebGL in software.
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
    ],
  });
  // Nothing may leave the server: no CDN, no tiles, no fonts.
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(base + '/') || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    problems.push('request to another host: ' + u);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(STEP_MS);
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push('console error: ' + msg.text());
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    const why = r.failure() && r.failure().errorText;
    // The alerts stream is aborted on purpose when the token changes (a new one opens).
    if (r.url().endsWith('/api/v1/events') && why === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} (${why})`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });

  // --- The public's view.
  await page.goto(base + '/');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  await page.waitForSelector('#map[data-ready="true"]');
  check(await page.evaluate(() => window.truce.role) === 'public', 'the page opens as the public');
  await page.waitForFunction(() => window.truce.listening === true);
  check(true, 'the page listens to the alerts stream');
  check((await page.textContent('#replay')).includes('Replay'), 'the replay notice is shown');
  check(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test((await page.textContent('#instant')).trim()), 'the assessment instant is shown');
  const drawn = await page.evaluate(() => {
    const c = document.querySelector('#map canvas.maplibregl-canvas');
    if (!c || !c.width || !c.height) return { colours: 0 };
    const gl = c.getContext('webgl2') || c.getContext('webgl');
    // Copy the (preserved) drawing buffer and count its colours.
    const o = document.createElement('canvas');
    o.width = c.width;
    o.height = c.height;
    const g = o.getContext('2d');
    g.drawImage(c, 0, 0);
    const px = g.getImageData(0, 0, o.width, o.height).data;
    const seen = new Set();
    for (let i = 0; i < px.length; i += 4 * 97) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    return { colours: seen.size, webgl: !!gl, w: c.width, h: c.height };
  });
  check(drawn.webgl && drawn.colours >= 5, `the map canvas is drawn with WebGL (${drawn.w}x${drawn.h}, ${drawn.colours} colours sampled)`);
  const first = await page.evaluate(() => ({
    line: window.truce.lineId,
    lineDate: window.truce.lineDate,
    fires: window.truce.warFires.length,
    incidents: window.truce.incidents.length,
    drawnLine: window.truce.map.queryRenderedFeatures({ layers: ['line'] }).length,
    drawnFires: window.truce.map.queryRenderedFeatures({ layers: ['warfires'] }).length,
    drawnRegions: window.truce.map.queryRenderedFeatures({ layers: ['regions-fill'] }).length,
  }));
  check(first.line && first.drawnLine > 0, `the contact line ${first.line} of ${first.lineDate} is drawn`);
  check(first.fires > 0 && first.drawnFires > 0, `${first.fires} war-related fires loaded and drawn`);
  check(first.drawnRegions > 0, 'the regions are drawn');
  check(first.incidents === 0, 'the public sees no unverified incident');
  check((await page.textContent('#queue-note')).includes('analyst'), 'the public is told that reviewing needs an analyst token');
  for (const [p, id] of [['pledges', '#pledges'], ['reports', '#reports']]) {
    const st = await page.getAttribute(id, 'data-state');
    check(st === (has[p] ? 'loaded' : 'unavailable'), `the ${p} panel is ${st}`);
  }
  if (has.pledges) {
    const rows = await page.locator('#pledges table tbody tr').count();
    check(rows > 0, `the pledges dashboard lists ${rows} donors`);
    check((await page.textContent('#pledges')).includes('Reached (median)'), 'the pledges dashboard shows the force projection');
  }
  if (has.reports) {
    const links = await page.locator('#reports li[data-report] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    check(links.length >= 4, `the public sees ${links.length} report links`);
    for (const l of links) {
      const r = await fetch(new URL(l, base));
      check(r.status === 200, `${l} opens without a token`);
    }
  }

  // --- The date slider reloads the line of another day.
  const min = await page.getAttribute('#date', 'min');
  const firstDay = await page.evaluate(() => {
    const s = document.getElementById('date');
    s.value = s.min;
    s.dispatchEvent(new Event('input', { bubbles: true }));
    return document.getElementById('date-out').textContent;
  });
  check(min === '0' && /^\d{4}-\d\d-\d\d$/.test(firstDay), `the slider moved to ${firstDay}`);
  await page.waitForFunction((d) => document.getElementById('map').dataset.lineDate === d, firstDay);
  const moved = await page.evaluate(() => ({ line: window.truce.lineId }));
  check(moved.line && moved.line !== first.line, `the line changed from ${first.line} to ${moved.line}`);
  await page.waitForFunction(() => window.truce.map.queryRenderedFeatures({ layers: ['line'] }).length > 0);
  check(true, 'the new line is drawn');

  // --- An analyst reviews.
  await page.fill('#token', analyst);
  const loads = await page.evaluate(() => window.truce.loads);
  await page.click('#token-use');
  await page.waitForFunction((n) => window.truce.role === 'analyst' && window.truce.loads > n, loads);
  const q = await page.evaluate(() => ({ queue: window.truce.queue.slice(0, 3), n: window.truce.queue.length, incidents: window.truce.incidents.length }));
  check(q.n > 0 && q.incidents >= q.n, `the analyst sees ${q.incidents} incidents, ${q.n} to review`);
  check(await page.evaluate(() => localStorage.getItem('truce.token') !== null), 'the token is kept in localStorage');
  const id = q.queue[0];
  const row = page.locator(`#queue tr[data-incident="${id}"]`);
  // A decision without a reason is refused by the page before it asks the server.
  await row.getByRole('button', { name: 'Confirm incident' }).click();
  check((await row.locator('.status').textContent()).includes('reason'), 'a decision without a reason is refused');
  await row.getByLabel('Reason (required)').fill('seen by the browser test (web_e2e)');
  const before = await page.evaluate(() => window.truce.loads);
  await row.getByRole('button', { name: 'Confirm incident' }).click();
  await page.waitForFunction((n) => window.truce.loads > n, before);
  await page.waitForFunction((i) => !window.truce.queue.includes(i) && !document.querySelector(`#queue tr[data-incident="${i}"]`), id);
  check((await page.textContent('#queue-status')).includes('Confirmed ' + id), `the page says ${id} was confirmed`);
  check(true, `${id} left the queue`);
  const api = await (await fetch(`${base}/api/v1/incidents/${encodeURIComponent(id)}`, { headers: auth })).json();
  check(api.incident && api.incident.confidence === 'verified', `GET /api/v1/incidents/${id} says verified`);
  const pub = await fetch(`${base}/api/v1/incidents/${encodeURIComponent(id)}`);
  check(pub.status === 200, 'the public now sees it too');
  const onMap = await page.evaluate((i) => window.truce.incidents.find((f) => f.id === i)?.properties.confidence, id);
  check(onMap === 'verified', 'the map shows it as verified');
  // The page heard it on the alerts stream, as the analyst, with the clause it fired.
  await page.waitForSelector(`#alerts li[data-type="incident.verified"][data-object="${id}"]`);
  check(true, 'the alerts panel lists incident.verified for it');
  await page.waitForSelector('#alerts li[data-type="obligation.triggered"]');
  check((await page.textContent('#alerts li[data-type="obligation.triggered"]')).length > 20, 'and the obligation its confirmation triggered, in words');

  if (has.reports) {
    // The internal edition is fetched with the token and opened in a new tab.
    const internal = page.locator('#reports li[data-report]', { hasText: 'internal edition' }).getByRole('link', { name: 'HTML' });
    check(await internal.count() === 1, 'the analyst sees the internal edition');
    const [tab] = await Promise.all([context.waitForEvent('page'), internal.click()]);
    await tab.waitForFunction(() => document.body && document.body.textContent.includes('Daily report'));
    check(tab.url().startsWith('blob:'), 'the internal edition opens from the token-authorised fetch');
    await tab.close();
  }

  await page.evaluate(() => window.scrollTo(0, 0));
  mkdirSync(dirname(SHOT), { recursive: true });
  await page.screenshot({ path: SHOT, fullPage: true });
  log('screenshot:', SHOT);

  check(problems.length === 0, 'no console error, failed request or request elsewhere' + (problems.length ? ':\n  ' + problems.join('\n  ') : ''));
}

async function cleanup() {
  if (context) await context.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}

main()
  .then(async () => {
    await cleanup();
    log('PASS');
    process.exit(0);
  })
  .catch(async (e) => {
    console.error('FAIL:', e.message);
    if (problems.length) console.error('problems seen:\n  ' + problems.join('\n  '));
    console.error('--- truce serve said:\n' + serverLog.slice(-4000));
    await cleanup();
    process.exit(1);
  });
