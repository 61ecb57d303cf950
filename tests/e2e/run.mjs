// The dashboard's browser tests: starts a broker and a bridge (system.mjs)
// and Debian's Chromium (headless, through playwright-core), imports every
// tests/e2e/*.test.mjs and runs their tests one after the other, each in
// a fresh browser context. Screenshots and logs go to $EF_E2E_OUT
// (build/e2e); a failing test leaves <name>.failed.png there.
// Nothing it starts outlives it (processes.mjs): SIGINT, SIGTERM, an
// uncaught exception or its own SIGKILL take the broker, the bridge, the
// workers and Chromium with it.
//
// usage: node tests/e2e/run.mjs [name-regex]
// env: EF_BIN_DIR (build/bin), EF_E2E_OUT (build/e2e), CHROMIUM
// (/usr/bin/chromium), EF_E2E_KEEP=1 keeps the data directory,
// EF_E2E_SRC=1 serves / and /assets/ from bridge/www/src instead of the
// bridge (with the bridge's CSP; to try front-end changes without a
// rebuild; the suite never sets it).

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const binDir = process.env.EF_BIN_DIR || join(root, 'build/bin');
const outDir = process.env.EF_E2E_OUT || join(root, 'build/e2e');
const only = process.argv[2] ? new RegExp(process.argv[2]) : null;

function die (msg) {
  console.error('e2e: ' + msg);
  process.exit(1);
}

const { launch, missing } = await import('./browser.mjs');
if (missing()) die(missing());
for (const b of ['eventflow-broker', 'eventflow-bridge', 'eventflow']) {
  if (!existsSync(join(binDir, b))) die(`${join(binDir, b)} is missing: build first (bash deploy/setup.sh)`);
}

const h = await import('./harness.mjs');
const { startSystem } = await import('./system.mjs');

const files = readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort();
for (const f of files) await import(pathToFileURL(join(here, f)).href);
const chosen = h.tests.filter((t) => !only || only.test(t.name));
if (!chosen.length) die('no test matches');

const t0 = Date.now();
const system = await startSystem({ binDir, outDir });
Object.assign(h.sys, system, { outDir });
const browser = await launch();

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

async function serveSource (context) {
  const src = join(root, 'bridge/www/src');
  const vendor = join(root, 'bridge/www/node_modules/uplot/dist');
  await context.route((u) => u.origin === system.url && (u.pathname === '/' || u.pathname.startsWith('/assets/')),
    (route) => {
      const p = new URL(route.request().url()).pathname;
      let file = p === '/' ? join(src, 'index.html') : join(src, p.slice('/assets/'.length));
      if (p.startsWith('/assets/vendor/')) file = join(vendor, p.slice('/assets/vendor/'.length));
      if (!existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({
        status: 200,
        headers: { 'Content-Security-Policy': CSP, 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' },
        body: readFileSync(file),
      });
    });
}

function withTimeout (promise, ms, name) {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: over its ${ms} ms budget`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

let failed = 0;
console.log(`TAP version 13\n1..${chosen.length}`);
for (const [i, t] of chosen.entries()) {
  const contexts = [];
  const pages = [];
  const newPage = async (options = {}) => {
    const context = await browser.newContext({
      baseURL: system.url,
      viewport: { width: 1280, height: 800 },
      ...options,
    });
    context.setDefaultTimeout(10000);
    if (process.env.EF_E2E_SRC === '1') await serveSource(context);
    contexts.push(context);
    const page = await context.newPage();
    pages.push(page);
    page.on('pageerror', (e) => { page.errors.push(e); });
    page.errors = [];
    return page;
  };
  const started = Date.now();
  let page = null;
  try {
    page = await newPage();
    await withTimeout(t.fn({ page, newPage, sys: h.sys }), t.timeout, t.name);
    const errors = pages.flatMap((p) => p.errors.map((e) => e.message));
    if (errors.length) throw new Error('uncaught errors in the page: ' + errors.join('; '));
    console.log(`ok ${i + 1} - ${t.name} # ${Date.now() - started} ms`);
  } catch (e) {
    failed++;
    console.log(`not ok ${i + 1} - ${t.name} # ${Date.now() - started} ms`);
    console.log('  ---\n' + String(e.stack || e).split('\n').map((l) => '  # ' + l).join('\n'));
    for (const [k, p] of pages.entries()) { // the fixture's page, then any newPage()
      try {
        const path = await h.screenshot(p, t.name + '.failed' + (k ? '-' + k : ''));
        console.log(`  # screenshot: ${path}`);
      } catch { /* the page is gone */ }
    }
  } finally {
    await h.stopSpawned();
    for (const c of contexts) await c.close().catch(() => {});
  }
}

await browser.close();
writeFileSync(join(outDir, 'axe.json'), JSON.stringify(h.a11yLog, null, 2) + '\n');
await system.stop({ keep: failed > 0 || process.env.EF_E2E_KEEP === '1' });
if (failed) {
  console.log(`# logs: ${system.logs.broker}, ${system.logs.bridge}; data: ${system.dataDir}`);
}
console.log(`# ${chosen.length - failed}/${chosen.length} passed in ${Date.now() - t0} ms`);
process.exit(failed ? 1 : 0);
