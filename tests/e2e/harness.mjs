// What the dashboard's browser tests (tests/e2e/*.test.mjs) use: test()
// to register a test, the running system (sys), and helpers: signIn,
// api/publish (curl-like requests from node), cli/worker (the eventflow
// CLI against the same broker), screenshot, checkA11y (axe-core) and
// pageWeight. run.mjs starts the system and a browser, then runs every
// registered test in a fresh browser context of its own.
//
// No test waits on time: wait for a selector, a response or a state
// (page.waitForResponse, expect-like polling with waitFor below).

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { spawn } from './processes.mjs';

const require = createRequire(import.meta.url);

export const tests = [];

// test(name, async ({page, newPage, sys}) => {…}, {timeout})
// page: a fresh page at 1280x800 in a context of its own (baseURL = the
// bridge). newPage(contextOptions) opens another context (a viewport, a
// colorScheme…), closed after the test.
export function test (name, fn, opts = {}) {
  tests.push({ name, fn, timeout: opts.timeout || 30000 });
}

// Filled by run.mjs before the tests run: {url, endpoint, dataDir,
// email, password, binDir, env, outDir}.
export const sys = {};

// ------------------------------------------------------------ assertions

export function assert (cond, message) {
  if (!cond) throw new Error('assertion failed: ' + message);
}

export function assertEqual (actual, expected, message) {
  if (actual !== expected) {
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// Wait until fn() returns a truthy value (re-checked when the previous
// check has answered, so a check that makes a request paces itself);
// the value, or an error naming what was awaited after timeoutMs.
export async function waitFor (what, fn, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}` + (last ? `: ${last.message}` : ''));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ------------------------------------------------------------ HTTP from node

// api(method, path, {body, token, key, headers}) → {status, headers, json, text}
// path is under /api/v1 unless it starts with '/health', '/metrics' or
// 'http'. token: a bearer token; key: an API key (X-API-Key).
export async function api (method, path, opts = {}) {
  const url = path.startsWith('http') ? path
    : (/^\/(health|metrics|assets|$)/.test(path) ? sys.url + path : sys.url + '/api/v1' + path);
  const headers = { ...(opts.headers || {}) };
  if (opts.token) headers.Authorization = 'Bearer ' + opts.token;
  if (opts.key) headers['X-API-Key'] = opts.key;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const r = await fetch(url, { method, headers, body });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, json, text };
}

let adminTokenCache = null;

// A bearer token of the first admin (logged in once per run).
export async function adminToken () {
  if (adminTokenCache) return adminTokenCache;
  const r = await api('POST', '/auth/login', { body: { email: sys.email, password: sys.password } });
  assertEqual(r.status, 200, 'admin login: ' + r.text);
  adminTokenCache = r.json.access_token;
  return adminTokenCache;
}

// Admin requests: as api() with the first admin's token; throws unless
// the status is 2xx. The parsed body.
export async function admin (method, path, body) {
  const r = await api(method, path, { body, token: await adminToken() });
  if (r.status < 200 || r.status > 299) {
    throw new Error(`${method} ${path} answered ${r.status}: ${r.text}`);
  }
  return r.json;
}

// Publish like curl would: POST /streams/<stream>/events with an API key
// (or the admin token when no key is given). events: one {type, payload,
// …} or an array of them (one request each). The answers {status, json}.
export async function publish (stream, events, opts = {}) {
  const list = Array.isArray(events) ? events : [events];
  const out = [];
  for (const ev of list) {
    const auth = opts.key ? { key: opts.key } : { token: await adminToken() };
    out.push(await api('POST', `/streams/${encodeURIComponent(stream)}/events`, { body: ev, ...auth }));
  }
  return Array.isArray(events) ? out : out[0];
}

// ------------------------------------------------------------ the CLI

// Run `eventflow args…` against the system (its local admin key in the
// data dir): {code, stdout, stderr}.
export function cli (args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(join(sys.binDir, 'eventflow'), args,
      { env: { ...sys.env, EVENTFLOW_TIMEOUT: '5000', ...(opts.env || {}) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const spawned = new Set();

// Start a long-running `eventflow args…` (a worker, say); stopped at the
// end of the test. Resolves once a line of its stderr matches readyRe
// (when given). Returns the child process.
export function spawnCli (args, opts = {}) {
  const child = spawn(join(sys.binDir, 'eventflow'), args,
    { env: { ...sys.env, ...(opts.env || {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.add(child);
  child.on('exit', () => spawned.delete(child));
  child.output = '';
  child.stdout.on('data', (c) => { child.output += c; });
  child.stderr.on('data', (c) => { child.output += c; });
  if (!opts.readyRe) return Promise.resolve(child);
  return new Promise((resolve, reject) => {
    const check = () => {
      if (opts.readyRe.test(child.output)) { resolve(child); return true; }
      return false;
    };
    if (check()) return;
    child.stderr.on('data', check);
    child.stdout.on('data', check);
    child.on('exit', (code) => reject(new Error(`eventflow ${args.join(' ')} exited (${code}): ${child.output}`)));
  });
}

// Start a worker of `service` that runs `command` (sh) for each job.
// Exit 0: done; exit 100: failed for good (to the DLQ); other: retried.
// Resolves once the broker lists the worker.
export async function worker (service, command, opts = {}) {
  const child = await spawnCli(['worker', '--service', service, '--exec', command,
    '--capacity', String(opts.capacity || 1)]);
  await waitFor(`a worker of ${service} attached`, async () => {
    if (child.exitCode !== null) throw new Error('the worker exited: ' + child.output);
    const w = await admin('GET', '/workers');
    return (w.workers || []).some((x) => x.service === service);
  });
  return child;
}

export async function stopSpawned () {
  const all = [...spawned];
  await Promise.all(all.map((c) => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
    c.once('exit', resolve);
    c.kill('SIGTERM');
  })));
}

// ------------------------------------------------------------ the browser

// Open the dashboard and sign in (the first admin unless given): fills
// the sign-in screen's "Email" and "Password", presses "Sign in", and
// waits for the signed-in shell (its "Sign out" button: the nav is
// folded behind "Menu" on a phone's width).
export async function signIn (page, who = {}) {
  const email = who.email || sys.email;
  const password = who.password || sys.password;
  if (!page.url().startsWith(sys.url)) await page.goto(who.path || '/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

// Save the page as <outDir>/<name>.png (build/e2e by default).
export async function screenshot (page, name, opts = {}) {
  mkdirSync(sys.outDir, { recursive: true });
  const path = join(sys.outDir, name.replace(/[^A-Za-z0-9._-]+/g, '-') + '.png');
  await page.screenshot({ path, fullPage: !!opts.fullPage });
  return path;
}

let axeSource = null;

// Run axe-core in the page (its source injected with page.evaluate: the
// CSP refuses inline scripts) and fail on serious or critical
// violations, listing each with its nodes. Running CSS animations (a
// row's highlight as it arrives) are finished first: axe judges the
// page as it settles, not a frame of a fade. Returns all violations (the
// minor and moderate ones too) for the caller to report.
export async function checkA11y (page, opts = {}) {
  if (!axeSource) axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(axeSource + '\n;void 0');
  const violations = await page.evaluate(async (options) => {
    for (const a of document.getAnimations()) {
      try { a.finish(); } catch { /* an endless one stays */ }
    }
    const context = options.exclude ? { exclude: options.exclude } : document;
    const r = await window.axe.run(context, {
      resultTypes: ['violations'],
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.replace(/\s+/g, ' ') : '')),
    }));
  }, { exclude: opts.exclude || null });
  const label = opts.name || page.url();
  a11yLog.push({ page: label, violations: violations.map((v) => `${v.impact} ${v.id} (${v.nodes.length})`) });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const text = bad.map((v) => `  ${v.impact} ${v.id}: ${v.help}\n` +
      v.nodes.slice(0, 5).map((n) => '      ' + n).join('\n')).join('\n');
    throw new Error(`axe: ${bad.length} serious/critical violation(s) on ${label}:\n${text}`);
  }
  return violations;
}

// What checkA11y saw in this run (run.mjs writes it to <outDir>/axe.json).
export const a11yLog = [];

// Record what a page transfers while visit(page) runs, as the browser
// transfers it (a fresh context is best: nothing cached): each response's
// headers and encoded body (Playwright's request.sizes()), once every
// request begun has finished. A response still streaming when the visit
// ends (the live feed: Server-Sent Events) is no part of a load: it is
// listed apart, with what Chromium received of it so far
// (Network.dataReceived). visit gets (page, streamed), streamed(re) →
// {chunks, bytes} received so far by the requests whose URL matches re.
// Answers {requests, bytes, list: [{url, type, status, bytes, encoding}],
// streams: [{url, chunks, bytes}]}.
export async function transferWeight (page, visit) {
  const begun = [];
  const done = new Set();
  const types = new Map();        // request → its answer's Content-Type
  const onRequest = (r) => begun.push(r);
  const onDone = (r) => done.add(r);
  page.on('request', onRequest);
  page.on('requestfinished', onDone);
  page.on('requestfailed', onDone);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();         // CDP requestId → url
  const received = new Map();     // CDP requestId → {chunks, bytes}
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.dataReceived', (e) => {
    const r = received.get(e.requestId) || { chunks: 0, bytes: 0 };
    r.chunks++;
    r.bytes += e.encodedDataLength || e.dataLength;
    received.set(e.requestId, r);
  });
  const streamed = (re) => {
    const sum = { chunks: 0, bytes: 0 };
    for (const [id, r] of received) {
      if (re.test(urls.get(id) || '')) { sum.chunks += r.chunks; sum.bytes += r.bytes; }
    }
    return sum;
  };
  try {
    await visit(page, streamed);
    // every request begun has finished, but the streams still open
    for (const r of begun) {
      const resp = await r.response();
      types.set(r, resp ? (await resp.allHeaders())['content-type'] || '' : '');
    }
    await waitFor('every request of the visit finished',
      () => begun.every((r) => done.has(r) || /^text\/event-stream/.test(types.get(r))));
  } finally {
    page.off('request', onRequest);
    page.off('requestfinished', onDone);
    page.off('requestfailed', onDone);
  }
  const list = [];
  const streams = [];
  for (const r of begun) {
    const url = r.url().replace(sys.url, '');
    if (!done.has(r)) {
      streams.push({ url, ...streamed({ test: (u) => u === r.url() }) });
      continue;
    }
    const resp = await r.response();
    const sizes = await r.sizes();
    list.push({
      url,
      type: r.resourceType(),
      status: resp ? resp.status() : 0,
      bytes: sizes.responseBodySize + sizes.responseHeadersSize,
      encoding: resp ? (await resp.allHeaders())['content-encoding'] || '' : '',
    });
  }
  await cdp.detach().catch(() => {});
  return { requests: list.length, bytes: list.reduce((n, x) => n + x.bytes, 0), list, streams };
}
