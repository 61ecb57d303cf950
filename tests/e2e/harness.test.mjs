// The harness itself: the system answers over HTTP, from node and from
// the browser; axe-core runs in a page under the dashboard's CSP and
// fails on a serious violation.

import { admin, api, assert, assertEqual, checkA11y, publish, test } from './harness.mjs';

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
