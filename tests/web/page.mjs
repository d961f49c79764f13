// The operator page in a real browser: Debian's chromium, headless, driven by puppeteer-core, against the live
// depot of `make demo` (scripts/demo_live.py: depotd on the real clock with examples/depotd.json's tokens and
// vehicles, time-of-use prices, depotsim with three vans of fleet north plugged in at CS001 and CS002) on free
// ports of 127.0.0.1. What a dispatcher, a viewer and an operator see, checked in the page itself; an
// accessibility pass with axe-core; a screenshot of the plan view for the README, and of any failure, in the
// build directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { ApiDepotd, REPO, eventually, newToken, tokenHash } from '../api/lib.mjs';

const require = createRequire(import.meta.url);
const DEPOTSIM = process.env.DEPOTSIM;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = process.env.DEPOTD_TEST_OUT || path.join(REPO, 'build', 'tests', 'web');
const TOKENS = {
  admin: 'demo-admin-token-0001-not-for-production',
  north: 'demo-dispatcher-token-0001-not-for-production',
  viewer: 'demo-viewer-token-0001-not-for-production',
  south: newToken(),
};
const SITE_LIMIT_KW = 44; // examples/depotd.json
const WAIT = 15000;

let d, sim, browser, base;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  d = new ApiDepotd({ config: {} });
  const gen = spawnSync('python3', [path.join(REPO, 'scripts', 'demo_live.py'), d.dir, '--port', '0', '--api-port', '0']);
  assert.equal(gen.status, 0, String(gen.stderr));
  const cfg = JSON.parse(fs.readFileSync(path.join(d.dir, 'live.json'), 'utf8'));
  delete cfg.database;
  cfg.api_tokens.push({ name: 'dispatch-south', token_hash: tokenHash(TOKENS.south), role: 'dispatcher', fleet: 'south' });
  assert.equal(cfg.control.site_limit_kw, SITE_LIMIT_KW);
  fs.writeFileSync(d.configPath, JSON.stringify(cfg));
  await d.start();
  base = d.base;
  sim = spawn(DEPOTSIM, ['run', '--csms', `ws://127.0.0.1:${d.port}/ocpp`, '--depot', path.join(d.dir, 'live-depot.json'),
    '--scenario', path.join(d.dir, 'live-scenario.json'), '--speed', '1', '--meter-interval', '10',
    '--max-real-seconds', '150'], { stdio: ['ignore', 'ignore', 'ignore'] });
  await eventually(async () => {
    const r = await d.req('GET', '/api/v1/plan', { token: TOKENS.viewer });
    return r.status === 200 && r.json.evses.filter((e) => e.vehicle_id).length === 3;
  }, 'three vans in the plan', 20000, 200);
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM}: Debian's chromium (make setup installs it)`);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
                                     args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  if (sim && sim.exitCode === null) sim.kill('SIGTERM');
  if (d) await d.finish();
});

// A fresh browser profile per test (its own sessionStorage), the page's console errors collected (a CSP
// refusal shows there), and a screenshot when the test fails.
async function withPage(name, fn, { viewport = { width: 1280, height: 800 }, bypassCsp = false, expectErrors = null } = {}) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport(viewport);
  if (bypassCsp) await page.setBypassCSP(true);
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && !expectErrors?.test(m.text()) && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await fn(page);
    assert.deepEqual(errors, [], 'no error in the browser console');
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, `fail-${name}.png`), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

async function signIn(page, token, view = 'now') {
  await page.goto(`${base}/#${view}`);
  await page.waitForSelector('#signin-token', { visible: true, timeout: WAIT });
  await page.type('#signin-token', token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#shell', { visible: true, timeout: WAIT });
}

const planReady = (page) => page.waitForFunction(() => window.depotdPage?.views.plan.chart && window.depotdPage.views.plan.plan,
                                                 { timeout: WAIT });

async function vanRows(page) {
  await page.waitForSelector('#vans-table tbody tr[data-vehicle]', { timeout: WAIT });
  return page.$$eval('#vans-table tbody tr[data-vehicle]', (rows) => rows.map((r) => r.dataset.vehicle));
}

test('a wrong token gets a clear message and no page', async () => {
  await withPage('wrong-token', async (page) => {
    await page.goto(base);
    await page.waitForSelector('#signin-token', { visible: true });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'signin-token', 'the token field has the focus');
    await page.type('#signin-token', 'not-a-token-of-this-depot');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('signin-error').textContent.length > 0);
    const msg = await page.$eval('#signin-error', (e) => e.textContent);
    assert.match(msg, /did not accept this token/);
    assert.equal(await page.$eval('#shell', (e) => e.hidden), true);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');
    assert.ok(!page.url().includes('not-a-token'), 'the token is never in the URL');
  }, { expectErrors: /status of 401/ }); // the browser logs the refused /api/v1/me
});

test('the plan chart draws one series per session, and the limit line at the configured kW', async () => {
  await withPage('plan-chart', async (page) => {
    await signIn(page, TOKENS.admin, 'plan');
    assert.match(await page.$eval('#who', (e) => e.textContent), /demo-admin · admin/);
    await planReady(page);
    const got = await page.evaluate(() => {
      const { chart, plan } = window.depotdPage.views.plan;
      const limitIdx = chart.series.findIndex((s) => s.label === 'site limit');
      // The limit line on the canvas: at its value's height, in the limit colour (dashed: look along a span).
      const y = Math.round(chart.valToPos(chart.data[limitIdx][0], 'kw', true));
      const x0 = Math.round(chart.bbox.left + chart.bbox.width * 0.3);
      const hex = getComputedStyle(document.documentElement).getPropertyValue('--limit').trim();
      const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const near = (px) => Math.abs(px[0] - want[0]) + Math.abs(px[1] - want[1]) + Math.abs(px[2] - want[2]) < 60;
      const rowHits = (yy) => {
        const img = chart.ctx.getImageData(x0, yy, 200, 1).data;
        let hits = 0;
        for (let i = 0; i < img.length; i += 4) if (near([img[i], img[i + 1], img[i + 2]])) hits++;
        return hits;
      };
      return {
        labels: chart.series.slice(1).map((s) => s.label),
        sessions: plan.evses.map((e) => e.vehicle_id),
        limit: chart.data[limitIdx], hitsAtLimit: rowHits(y) + rowHits(y - 1) + rowHits(y + 1),
        hitsBelow: rowHits(y + 40), siteLimits: plan.slots.map((s) => s.site_limit_kw),
        tableRows: document.querySelectorAll('#plan-sessions tbody tr').length,
      };
    });
    assert.equal(got.sessions.length, 3, `three sessions: ${got.sessions}`);
    assert.deepEqual(got.labels, [...got.sessions, 'site limit', 'price']);
    assert.ok(got.limit.every((v) => v === SITE_LIMIT_KW), `limit series ${got.limit.slice(0, 5)}`);
    assert.ok(got.siteLimits.every((v) => v === SITE_LIMIT_KW));
    assert.ok(got.hitsAtLimit >= 40, `the limit colour drawn at ${SITE_LIMIT_KW} kW: ${got.hitsAtLimit} pixels`);
    assert.equal(got.hitsBelow, 0, 'and not 40 px lower');
    assert.equal(got.tableRows, 3);
    await page.screenshot({ path: path.join(OUT, 'plan-view.png') });
    // Hover in the middle of a session's band in a slot where it charges: the tip names it, with its need.
    const spot = await page.evaluate(() => {
      const { chart, plan } = window.depotdPage.views.plan;
      for (let k = 0; k < plan.slots.length; k++) {
        let below = 0;
        for (const e of plan.evses) {
          if (e.kw[k] >= 2) {
            const r = chart.over.getBoundingClientRect();
            const x = chart.valToPos((Date.parse(plan.slots[k].start) + Date.parse(plan.slots[k].end)) / 2000, 'x');
            return { vehicle: e.vehicle_id, x: r.left + x, y: r.top + chart.valToPos(below + e.kw[k] / 2, 'kw') };
          }
          below += e.kw[k];
        }
      }
      return null;
    });
    assert.ok(spot, 'a slot where a session charges');
    await page.mouse.move(spot.x, spot.y);
    await page.waitForSelector('#plan-tip:not([hidden])', { timeout: WAIT });
    const tipText = await page.$eval('#plan-tip', (t) => t.textContent);
    assert.match(tipText, /price in this slot €0\.\d+\/kWh \(market\)/);
    assert.match(tipText, new RegExp(`^${spot.vehicle} .*kW in this slot; planned [\\d.]+ kWh of [\\d.]+ kWh still needed.*departure`), tipText);
  });
});

test('a dispatcher changes a departure: the van\'s row and the chart change', async () => {
  await withPage('dispatcher-edit', async (page) => {
    await signIn(page, TOKENS.north, 'plan');
    await planReady(page);
    const before = await page.evaluate(() => {
      const { plan } = window.depotdPage.views.plan;
      const e = plan.evses.find((x) => x.vehicle_id === 'van-01');
      return { planId: plan.plan_id, kw: e.kw, planned: e.planned_kwh, departure: e.departure };
    });
    await page.click('nav a[data-view="vans"]');
    const rows = await vanRows(page);
    assert.deepEqual(rows.sort(), ['van-01', 'van-02', 'van-03'], 'fleet north only');
    await page.click('#edit-van-01');
    await page.waitForSelector('#dep-van-01', { visible: true });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'dep-van-01', 'the form takes the focus');
    const leaveMs = Date.now() + 3 * 3600e3;
    await page.evaluate((ms) => {
      const t = new Date(ms), p = (n) => String(n).padStart(2, '0');
      document.getElementById('dep-van-01').value =
        `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
      document.getElementById('need-van-01').value = '15';
    }, leaveMs);
    await page.click('#vans-table form.edit button[type=submit]');
    await page.waitForFunction(() => document.querySelector('tr[data-vehicle="van-01"] .need')?.textContent === '+15.0 kWh',
                               { timeout: WAIT });
    const row = await page.$eval('tr[data-vehicle="van-01"]', (r) => r.textContent);
    assert.match(row, /feasible: [\d.]+ kWh planned|at risk: [\d.]+ kWh short/, `the answer's feasibility: ${row}`);
    const depText = await page.$eval('tr[data-vehicle="van-01"] .dep', (c) => c.textContent);
    assert.match(depText, /in (2 h (59|5\d)|3 h 00) min/, `the new departure: ${depText}`);
    // Back to the plan: the re-plan is drawn.
    await page.click('nav a[data-view="plan"]');
    const after = await page.waitForFunction((id) => {
      const { plan, chart } = window.depotdPage.views.plan;
      if (!plan || plan.plan_id <= id || !chart) return null;
      const e = plan.evses.find((x) => x.vehicle_id === 'van-01');
      return { kw: e.kw, planned: e.planned_kwh, departure: e.departure, chartRow: chart.data[1 + plan.evses.indexOf(e)] };
    }, { timeout: WAIT }, before.planId).then((h) => h.jsonValue());
    assert.notEqual(after.departure, before.departure);
    assert.ok(Math.abs(Date.parse(after.departure) - leaveMs) < 61e3, after.departure);
    assert.notDeepEqual(after.kw, before.kw, 'van-01\'s planned power changed');
    assert.ok(after.planned < before.planned, `planned ${before.planned} -> ${after.planned} kWh for a 15 kWh need`);
    assert.ok(after.chartRow.length > 0);
  });
});

test('a viewer sees every van and no edit control, and a change made elsewhere without reloading', async () => {
  await withPage('viewer', async (page) => {
    await signIn(page, TOKENS.viewer, 'vans');
    const rows = await vanRows(page);
    assert.deepEqual(rows.sort(), ['van-01', 'van-02', 'van-03', 'van-1', 'van-2']);
    assert.equal(await page.$$eval('#vans-table button, #vans-table form, #vans-table input', (b) => b.length), 0);
    // Another dispatcher (curl, here) sets van-02's departure: the open page shows it at its next refresh.
    const r = await d.req('PUT', '/api/v1/vehicles/van-02/departure', { token: TOKENS.north,
      body: { departure: new Date(Date.now() + 5 * 3600e3).toISOString(), energy_kwh: 12.5 } });
    assert.equal(r.status, 200, r.text);
    await page.waitForFunction(() => document.querySelector('tr[data-vehicle="van-02"] .need')?.textContent === '+12.5 kWh',
                               { timeout: 12000 });
  });
});

test('a dispatcher of fleet south sees no van of fleet north, in the list or the plan', async () => {
  await withPage('fleet-south', async (page) => {
    await signIn(page, TOKENS.south, 'vans');
    assert.deepEqual((await vanRows(page)).sort(), ['van-1', 'van-2']);
    assert.equal(await page.$$eval('#vans-table button', (b) => b.length), 2, 'its own vans are editable');
    await page.click('nav a[data-view="plan"]');
    await planReady(page);
    const seen = await page.evaluate(() => window.depotdPage.views.plan.chart.series.slice(1).map((s) => s.label));
    assert.deepEqual(seen, ['site limit', 'price'], 'no session of fleet north in the chart');
    await page.click('nav a[data-view="now"]');
    await page.waitForSelector('#now-stations .tile', { timeout: WAIT });
    const evses = await page.$$eval('#now-stations .evse', (e) => e.map((x) => x.textContent));
    assert.ok(evses.some((t) => /kW/.test(t)), `north's sessions draw power on the tiles, unnamed: ${evses}`);
    const text = await page.$eval('#main', (m) => m.textContent);
    assert.ok(!/van-0[123]/.test(text), 'no north van named anywhere on the page');
  });
});

test('now, events and prices show the live depot', async () => {
  await withPage('views', async (page) => {
    await signIn(page, TOKENS.admin, 'now');
    await page.waitForSelector('#now-stations .tile', { timeout: WAIT });
    const tiles = await page.$$eval('#now-stations .tile', (t) => t.map((x) => x.getAttribute('aria-label')));
    assert.deepEqual(tiles, ['Station CS001', 'Station CS002', 'Station CS003']);
    const alarms = await page.$eval('#now-alarms', (a) => a.textContent);
    assert.match(alarms, /CS003 is disconnected/);
    const site = await page.$eval('#now-site', (s) => s.textContent);
    assert.match(site, new RegExp(`limit ${SITE_LIMIT_KW} kW`));
    assert.match(site, /peak this billing period [\d.]+ kW \(the plan: [\d.]+ kW\) at €8\.50\/kW/, site); // examples/depotd.json
    await page.screenshot({ path: path.join(OUT, 'now-view.png') });
    await page.click('nav a[data-view="events"]');
    await page.select('#events-type', 'plan');
    await page.click('#events-filter button[type=submit]');
    await page.waitForFunction(() => {
      const types = [...document.querySelectorAll('#events-table tbody tr td:nth-child(3)')].map((c) => c.textContent);
      return types.length > 0 && types.every((t) => t === 'plan');
    }, { timeout: WAIT });
    await page.click('nav a[data-view="prices"]');
    await page.waitForFunction(() => window.depotdPage.views.prices.chart, { timeout: WAIT });
    assert.match(await page.$eval('#prices-feed', (f) => f.textContent), /demo-tou/);
  });
});

test('keyboard only: skip link, views, the edit form', async () => {
  await withPage('keyboard', async (page) => {
    await signIn(page, TOKENS.north, 'now');
    await page.waitForSelector('#now-stations .tile', { timeout: WAIT });
    await page.reload(); // signed in still (sessionStorage); focus starts at the top
    await page.waitForSelector('#now-stations .tile', { timeout: WAIT });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    // Through the header to the Vans link, then Enter.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement.dataset?.view === 'vans')) break;
    }
    assert.equal(await page.evaluate(() => document.activeElement.dataset.view), 'vans');
    await page.keyboard.press('Enter');
    await vanRows(page);
    await page.focus('#edit-van-02');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#dep-van-02', { visible: true });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'dep-van-02');
  });
});

// axe-core (pinned in package.json) in the page: labels, contrast, roles, in light and dark, on every view.
test('accessibility: no axe violation on any view, light or dark', async () => {
  const axe = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await withPage('axe', async (page) => {
    const check = async (where) => {
      await page.addScriptTag({ content: axe });
      const res = await page.evaluate(async () => {
        const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } });
        return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
      });
      assert.deepEqual(res, [], `axe on ${where}`);
    };
    await page.goto(base);
    await page.waitForSelector('#signin-token', { visible: true });
    await check('sign-in');
    await signIn(page, TOKENS.north, 'now');
    for (const theme of ['light', 'dark']) {
      await page.evaluate((t) => { localStorage.setItem('depotd.theme', t); document.documentElement.dataset.theme = t; }, theme);
      for (const v of ['now', 'plan', 'vans', 'events', 'prices']) {
        await page.click(`nav a[data-view="${v}"]`);
        await page.waitForFunction((name) => document.querySelector(`#view-${name} .status`)?.textContent.includes('updated'),
                                   { timeout: WAIT }, v);
        if (v === 'vans') await page.click('#edit-van-01');
        await check(`${v} (${theme})`);
      }
    }
  }, { bypassCsp: true });
});

test('the time slider shows what the planner knew then, and comes back to now', async () => {
  await withPage('slider', async (page) => {
    await signIn(page, TOKENS.admin, 'plan');
    await planReady(page);
    const nowPlan = await page.evaluate(() => window.depotdPage.views.plan.plan.plan_id);
    // An hour ago depotd was not running: no plan was in force, and the page says so instead of a chart.
    await page.$eval('#plan-at', (s) => { s.value = '-60'; s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); });
    await page.waitForFunction(() => window.depotdPage.views.plan.plan === null, { timeout: WAIT });
    assert.match(await page.$eval('#plan-summary', (s) => s.textContent), /no plan/i);
    assert.notEqual(await page.$eval('#plan-at-text', (o) => o.value), 'now');
    await page.click('#plan-now');
    await page.waitForFunction((id) => window.depotdPage.views.plan.plan?.plan_id >= id, { timeout: WAIT }, nowPlan);
    assert.equal(await page.$eval('#plan-at-text', (o) => o.value), 'now');
  }, { expectErrors: /status of 404/ }); // the browser logs the plan?at= that found none
});

test('a tablet: the page fits 768 px without a horizontal scroll', async () => {
  await withPage('tablet', async (page) => {
    await signIn(page, TOKENS.admin, 'plan');
    await planReady(page);
    const w = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: innerWidth }));
    assert.ok(w.doc <= w.view, `${w.doc} px wide in a ${w.view} px window`);
  }, { viewport: { width: 768, height: 1024, isMobile: true, hasTouch: true } });
});
