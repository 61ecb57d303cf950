// The harness itself: the system answers over HTTP, from node and from
// the browser; axe-core runs in a page under the dashboard's CSP and
// fails on a serious violation; the broker and the bridge it starts die
// with the node process that started them, however that ends.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { admin, api, assert, assertEqual, checkA11y, publish, test, waitFor } from './harness.mjs';
import { spawn } from './processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

test('harness: broker, bridge and browser are up; axe runs under the CSP', async ({ page, sys }) => {
  const health = await api('GET', '/health');
  assertEqual(health.status, 200, 'GET /health');
  await admin('POST', '/streams', { name: 'harness' });
  const r = await publish('harness', { type: 'harness.checked', payload: { ok: true } });
  assertEqual(r.status, 202, 'publish: ' + r.text);
  const resp = await page.goto(sys.url + '/health');
  assertEqual(resp.status(), 200, 'the browser reaches /health');

  // a page served with the dashboard's CSP: axe is injected all the same
  const pages = {
    '/e2e-good': '<!doctype html><html lang="en"><title>EventFlow</title><main><h1>EventFlow</h1><p>Fine.</p></main></html>',
    '/e2e-bad': '<!doctype html><html><main><h1>EventFlow</h1><input></main></html>',
  };
  await page.route(sys.url + '/e2e-*', (route) => route.fulfill({
    status: 200,
    contentType: 'text/html',
    headers: { 'Content-Security-Policy': CSP },
    body: pages[new URL(route.request().url()).pathname],
  }));
  await page.goto(sys.url + '/e2e-good');
  const inline = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.inlineRan = 1';
    document.head.append(s);
    return window.inlineRan;
  });
  assertEqual(inline, undefined, 'the CSP refuses an inline script');
  const v = await checkA11y(page, { name: 'harness-good' });
  assertEqual(v.length, 0, 'violations on a good page');
  await page.goto(sys.url + '/e2e-bad');
  let refused = null;
  try { await checkA11y(page, { name: 'harness-bad' }); } catch (e) { refused = e; }
  assert(refused && /serious|critical/.test(refused.message) && /label/.test(refused.message),
    'checkA11y fails on an unlabelled input: ' + (refused && refused.message));
});

// true once pid is gone (a zombie nobody reaps counts as gone)
function gone (pid) {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return true;
  }
}

// Start system-run.mjs in a node of its own, end that node by `how`
// (a signal, or `throw`: an uncaught exception), and wait for its broker
// and bridge to be gone.
async function outlives (sys, how) {
  const out = join(sys.outDir, 'system-run-' + how);
  const child = spawn(process.execPath, [join(here, 'system-run.mjs'), sys.binDir, out, how === 'throw' ? 'throw' : 'wait'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c) => { text += c; });
  child.stderr.on('data', (c) => { text += c; });
  const ended = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const line = await waitFor(`system-run ${how} ready`, () => {
    if (child.exitCode !== null && !text.includes('\n')) throw new Error('system-run exited: ' + text);
    return text.includes('\n') && text.slice(0, text.indexOf('\n'));
  }, 20000);
  const started = JSON.parse(line);
  assert(!gone(started.broker) && !gone(started.bridge), `${how}: broker and bridge run: ${line}`);
  if (how === 'throw') child.stdin.write('throw\n');
  else child.kill(how);
  const end = await ended;
  await waitFor(`${how}: broker ${started.broker} and bridge ${started.bridge} gone after the runner ended (${end})`,
    () => gone(started.broker) && gone(started.bridge), 10000);
  if (how === 'SIGKILL') {
    rmSync(started.dataDir, { recursive: true, force: true }); // nothing ran in node to remove it
  } else {
    assert(!existsSync(started.dataDir), `${how}: the data dir ${started.dataDir} is removed`);
  }
  return end;
}

test('harness: broker and bridge do not outlive the runner (SIGTERM, SIGINT, an uncaught exception, SIGKILL)', async ({ sys }) => {
  const ends = await Promise.all(['SIGTERM', 'SIGINT', 'throw', 'SIGKILL'].map((how) => outlives(sys, how)));
  assertEqual(JSON.stringify(ends), JSON.stringify([143, 130, 1, 'SIGKILL']), 'how the runners ended');
});
