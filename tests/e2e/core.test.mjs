// The dashboard's core pages in a real browser: sign-in and the shell,
// the live overview, streams with a schema checked as you type, the live
// tail fed by events sent with curl, and the explorer finding an event
// by a payload field and showing its life.

import { execFile } from 'node:child_process';
import {
  admin, api, assert, assertEqual, checkA11y, publish, screenshot, signIn, test, waitFor, sys, worker,
} from './harness.mjs';

// POST one event with curl, as a user of the HTTP API would.
function curlPublish (stream, key, event) {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-X', 'POST', `${sys.url}/api/v1/streams/${stream}/events`,
      '-H', 'X-API-Key: ' + key, '-H', 'Content-Type: application/json',
      '-d', JSON.stringify(event), '-w', '\n%{http_code}'], (err, stdout, stderr) => {
      if (err) { reject(new Error('curl: ' + stderr)); return; }
      const [body, code] = stdout.trimEnd().split('\n');
      if (code !== '202') { reject(new Error(`curl answered ${code}: ${body}`)); return; }
      resolve(JSON.parse(body));
    });
  });
}

async function producerKey (name) {
  const r = await admin('POST', '/producers', { name });
  assert(r.api_key, 'a producer key: ' + JSON.stringify(r));
  return r.api_key;
}

test('core: sign-in shows errors, the shell, a reload asks again, sign out revokes', async ({ page, newPage }) => {
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in to EventFlow' }).waitFor();
  await checkA11y(page, { name: 'sign-in' });
  await page.getByLabel('Email').fill(sys.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
  await screenshot(page, 'core-signin-error');

  const login = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login') && r.status() === 200);
  await signIn(page);
  const tokens = await (await login).json();
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Overview', 'Streams', 'Events', 'Live tail', 'API keys', 'Consumer groups',
    'Dead letters', 'Workers', 'Users']) {
    await nav.getByRole('link', { name, exact: true }).waitFor();
  }
  assertEqual(await nav.getByRole('link', { name: 'Overview' }).getAttribute('aria-current'), 'page',
    'the current page is marked');
  await page.getByText(sys.email).waitFor();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByText('Ingest rate (events/s)').waitFor();
  await page.getByRole('status').filter({ hasText: /^live/ }).waitFor();
  // the live figures move: events published now show in the ingest rate
  await admin('POST', '/streams', { name: 'overview-e2e' });
  const ingested = page.locator('.tile', { hasText: 'Ingested /s' }).locator('dd');
  await publish('overview-e2e', [1, 2, 3, 4, 5].map((n) => ({ type: 'tick', payload: { n } })));
  await waitFor('the ingest rate above 0', async () => Number(await ingested.textContent()) > 0);
  await screenshot(page, 'core-overview');
  await checkA11y(page, { name: 'overview' });

  // the refresh the page runs ahead of expires_in rotates the tokens; the
  // page goes on working with the new ones
  const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/refresh'));
  assertEqual(await page.evaluate(async () => (await import('/assets/js/api.js')).refreshNow()), true, 'refreshNow');
  assertEqual((await refreshed).status(), 200, 'POST /auth/refresh');
  await nav.getByRole('link', { name: 'Streams' }).click();
  await page.getByRole('region', { name: 'Streams' }).waitFor();
  // the spent refresh token presented again revokes the session: the
  // page's next request is refused, and it asks to sign in again
  const old = await api('POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
  assertEqual(old.status, 401, 'the rotated refresh token is spent');
  await nav.getByRole('link', { name: 'Events' }).click();
  await page.getByRole('heading', { name: 'Sign in to EventFlow' }).waitFor();
  await page.getByText('Your session ended: sign in again.').waitFor();
  await signIn(page);

  // the token lives in memory only: nothing in storage, a reload asks again
  const stored = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie);
  assert(!stored.includes(tokens.access_token) && !stored.includes(tokens.refresh_token), 'no token in storage');
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in to EventFlow' }).waitFor();

  // sign out revokes the session's refresh token
  const login2 = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login') && r.status() === 200);
  await signIn(page);
  const tokens2 = await (await login2).json();
  const logout = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/logout'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  assertEqual((await logout).status(), 204, 'POST /auth/logout');
  await page.getByRole('heading', { name: 'Sign in to EventFlow' }).waitFor();
  await page.getByText('You signed out.').waitFor();
  const r = await api('POST', '/auth/refresh', { body: { refresh_token: tokens2.refresh_token } });
  assertEqual(r.status, 401, 'the signed-out refresh token is refused');

  // a phone's width in the dark: the nav folds behind Menu
  const phone = await newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  await phone.goto('/');
  await signIn(phone);
  const menu = phone.getByRole('button', { name: 'Menu' });
  assert(!(await phone.getByRole('link', { name: 'Streams' }).isVisible()), 'the nav is folded');
  await menu.click();
  assertEqual(await menu.getAttribute('aria-expanded'), 'true', 'Menu is expanded');
  await phone.getByRole('link', { name: 'Streams' }).waitFor();
  await screenshot(phone, 'core-overview-phone-dark');
  await checkA11y(phone, { name: 'overview (phone, dark)' });
});

test('core: the overview asks the org\'s total alone, a stream\'s series when one is picked, and fits its window to young figures', async ({ page }) => {
  await admin('POST', '/streams', { name: 'window-e2e' });
  await publish('window-e2e', { type: 'tick', payload: { n: 1 } });
  const stats = (wanted) => page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/stats' &&
    wanted(new URL(r.url()).searchParams));
  const totalAsked = stats(() => true);
  await page.goto('/#/overview');
  await signIn(page);
  const total = await totalAsked;
  const q = new URL(total.url()).searchParams;
  assertEqual(q.toString(), 'seconds=3600&streams=none', 'the org\'s hour asks no stream\'s series');
  const body = await total.json();
  assertEqual(JSON.stringify(body.streams), '{}', 'no stream series in the answer');

  // Window: the shortest of 1 min, 5 min, 15 min, 1 h that holds every
  // non-zero second of the hour (this broker is minutes old: not the hour)
  let first = body.seconds;
  for (const a of Object.values(body.total)) {
    const i = a.findIndex((x) => x !== 0);
    if (i >= 0 && i < first) first = i;
  }
  const fitting = String([60, 300, 900, 3600].find((w) => w >= body.seconds - first) || 3600);
  const win = page.getByLabel('Window');
  await waitFor(`the window fitted to the figures (${fitting} s)`, async () => (await win.inputValue()) === fitting);
  assert(fitting !== '3600', 'a young broker\'s figures get a short window');

  // one stream: its own series only
  const oneAsked = stats((p) => p.get('stream') === 'window-e2e');
  await page.getByLabel('Stream', { exact: true }).selectOption('window-e2e');
  const one = await oneAsked;
  assertEqual(new URL(one.url()).searchParams.toString(), 'seconds=3600&stream=window-e2e', 'one stream\'s hour');
  assertEqual(JSON.stringify(Object.keys((await one.json()).streams)), '["window-e2e"]', 'that stream\'s series');
  await page.getByRole('heading', { name: 'Overview of window-e2e' }).waitFor();

  // a window picked by hand stays, in the address, and a link keeps it
  await win.selectOption('3600');
  await page.waitForURL(/window=3600/);
  await page.reload();
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview of window-e2e' }).waitFor();
  await page.getByRole('status').filter({ hasText: /^live$/ }).waitFor();
  assertEqual(await win.inputValue(), '3600', 'the hour, as asked');
  await screenshot(page, 'core-overview-stream');
});

test('core: create a stream with a schema; a bad schema is shown by path as you type', async ({ page }) => {
  await page.goto('/#/streams');
  await signIn(page);
  await page.getByRole('button', { name: 'New stream' }).click();
  await page.getByLabel('Name', { exact: true }).fill('orders-e2e');
  const schema = page.getByLabel('Schema');
  await schema.fill('{"type": "object", "properties": {"total": {"type": "nope"}}}');
  // checked as typed (POST /streams/check), the error under the editor
  const errs = page.locator('#ns-schema-errors');
  await errs.filter({ hasText: '/schema' }).waitFor();
  assertEqual(await schema.getAttribute('aria-invalid'), 'true', 'the schema editor is marked invalid');
  await schema.fill('{"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}');
  await page.locator('#ns-schema-state').filter({ hasText: 'Valid' }).waitFor();
  await schema.fill('{"type": "object", "properties": {"total": {"type": "nope"}}}');
  await errs.filter({ hasText: '/schema' }).waitFor();
  await screenshot(page, 'core-stream-bad-schema', { fullPage: true });
  await checkA11y(page, { name: 'streams (new, bad schema)' });

  await schema.fill('{"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}');
  await page.getByLabel('Keep at most (events)').fill('1000');
  await page.getByRole('button', { name: 'Create stream' }).click();
  await page.getByRole('heading', { name: 'Stream orders-e2e' }).waitFor();
  const s = await admin('GET', '/streams/orders-e2e');
  assertEqual(JSON.stringify(s.schema.required), '["total"]', 'the stream has its schema');
  assertEqual(s.retention && s.retention.max_events, 1000, 'the stream has its retention');
  await page.getByText('at most 1,000 events').or(page.getByText('at most 1000 events')).first().waitFor();

  // test a payload against this schema
  await page.getByLabel('Payload to test').fill('{"total": "twelve"}');
  await page.getByRole('button', { name: 'Test payload' }).click();
  await page.getByRole('alert').filter({ hasText: '/payload/total' }).waitFor();
  await page.getByLabel('Payload to test').fill('{"total": 12}');
  await page.getByRole('button', { name: 'Test payload' }).click();
  await page.getByText('The payload matches the schema.').waitFor();
  await screenshot(page, 'core-stream', { fullPage: true });
  await checkA11y(page, { name: 'stream orders-e2e' });

  await page.getByRole('link', { name: 'All streams' }).click();
  await page.getByRole('link', { name: 'orders-e2e', exact: true }).waitFor();
});

test('core: events sent with curl appear in the live tail; pause counts them', async ({ page }) => {
  await admin('POST', '/streams', { name: 'tail-e2e' });
  const key = await producerKey('tail-e2e');
  // the first try of the feed fails: the page says so and tries again
  let refused = 0;
  await page.route('**/api/v1/live?*', (route) => { refused++; return route.abort('connectionreset'); }, { times: 1 });
  await page.goto('/#/tail/tail-e2e');
  await signIn(page);
  await page.getByRole('heading', { name: 'Live tail of tail-e2e' }).waitFor();
  await page.getByRole('status').filter({ hasText: /^reconnecting in \d+ s…$/ }).waitFor();
  await page.getByRole('status').filter({ hasText: /^live$/ }).waitFor();
  assertEqual(refused, 1, 'the first feed was refused');
  const rows = page.getByRole('table', { name: 'Events of tail-e2e, newest first' }).locator('tbody tr');

  for (let n = 1; n <= 3; n++) await curlPublish('tail-e2e', key, { type: 'tail.seen', payload: { n } });
  await waitFor('3 rows in the tail', async () => (await rows.count()) === 3 &&
    (await rows.first().textContent()).includes('"n":3'));

  await page.getByRole('button', { name: 'Pause' }).click();
  for (let n = 4; n <= 5; n++) await curlPublish('tail-e2e', key, { type: 'tail.seen', payload: { n } });
  await page.getByText('Paused: 2 new events arrived since').waitFor();
  assertEqual(await rows.count(), 3, 'nothing added while paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await waitFor('5 rows after Resume', async () => (await rows.count()) === 5 &&
    (await rows.first().textContent()).includes('"n":5'));
  await screenshot(page, 'core-tail');
  await checkA11y(page, { name: 'tail' });

  // the same filters as the explorer: only type=other from here on
  await page.getByText('Filters', { exact: true }).click();
  await page.getByLabel('Type').fill('other');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/#\/tail\/tail-e2e\?type=other$/);
  await page.getByRole('status').filter({ hasText: /^live$/ }).waitFor();
  await curlPublish('tail-e2e', key, { type: 'tail.seen', payload: { n: 6 } });
  await curlPublish('tail-e2e', key, { type: 'other', payload: { n: 7 } });
  await waitFor('the matching event only', async () => (await rows.count()) === 1 &&
    (await rows.first().textContent()).includes('"n":7'));

  // and by a payload field
  await page.getByRole('button', { name: 'Add predicate' }).click();
  await page.getByLabel('JSON Pointer 1').fill('/n');
  await page.getByLabel('Operator 1').selectOption('ge');
  await page.getByLabel('Value 1').fill('100');
  await page.getByLabel('Type').fill('');
  // the predicate goes to the live feed (the broker judges it), and the
  // page asks nothing else while it is live: no GET /events polling
  const feedAsked = page.waitForRequest((r) => /\/api\/v1\/live\?.*where=/.test(r.url()));
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/#\/tail\/tail-e2e\?where=/);
  const feed = await feedAsked;
  assert(new URL(feed.url()).searchParams.get('where') === '/n:ge:100', 'the feed asked with where: ' + feed.url());
  await page.getByRole('status').filter({ hasText: /^live$/ }).waitFor();
  const asked = [];
  const onRequest = (r) => { if (new URL(r.url()).pathname.startsWith('/api/v1/events')) asked.push(r.url()); };
  page.on('request', onRequest);
  await curlPublish('tail-e2e', key, { type: 'tail.seen', payload: { n: 8 } });
  await curlPublish('tail-e2e', key, { type: 'tail.seen', payload: { n: 150 } });
  await waitFor('the event whose n is at least 100', async () => (await rows.count()) === 1 &&
    (await rows.first().textContent()).includes('"n":150'));
  page.off('request', onRequest);
  assertEqual(asked.length, 0, 'requests to /events while the feed is live: ' + asked.join(' '));

  // a predicate the broker refuses stops the tail with the error by path
  // (no falling back to asking GET /events)
  await page.goto('/#/tail/tail-e2e?where=' + encodeURIComponent('/n:nope:1'));
  await page.getByRole('status').filter({ hasText: /^stopped$/ }).waitFor();
  await page.getByRole('alert').filter({ hasText: 'Live feed' }).filter({ hasText: '?where' }).waitFor();
  await page.getByRole('button', { name: 'Try again' }).waitFor();
});

test('core: the explorer finds an event by a payload field and shows its life', async ({ page, newPage }) => {
  await admin('POST', '/streams', { name: 'copies-e2e' });
  await admin('POST', '/streams', {
    name: 'shop-e2e',
    pipeline: [
      { type: 'transform', patch: [{ op: 'add', path: '/seen', value: true }] },
      { type: 'route', stream: 'copies-e2e' },
    ],
  });
  const events = [];
  for (let i = 0; i < 30; i++) events.push({ type: 'order.created', payload: { customer: { id: 'c-' + i }, total: i * 10 } });
  const answers = await publish('shop-e2e', events);
  const wanted = answers[17].json.event_id;

  await page.goto('/#/events');
  await signIn(page);
  await page.getByLabel('Stream').selectOption('shop-e2e');
  await page.getByRole('button', { name: 'Add predicate' }).click();
  await page.getByLabel('JSON Pointer 1').fill('/customer/id');
  await page.getByLabel('Operator 1').selectOption('eq');
  await page.getByLabel('Value 1').fill('c-17');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/where=/);
  const rows = page.locator('#main table tbody tr');
  await waitFor('one match', async () => (await rows.count()) === 1 &&
    (await rows.first().textContent()).includes('"c-17"'));
  await screenshot(page, 'core-explorer');
  await checkA11y(page, { name: 'explorer' });

  // the search is a link
  const link = page.url();
  const other = await newPage();
  await other.goto(link);
  await signIn(other);
  const orows = other.locator('#main table tbody tr');
  await waitFor('the same match from the link', async () => (await orows.count()) === 1 &&
    (await orows.first().textContent()).includes('"c-17"'));

  // a search pages by cursor: 10 a page, Next and Previous
  await other.getByLabel('Per page').selectOption('10');
  await other.waitForURL(/limit=10/);
  await other.getByLabel('Value 1').fill('c-1');
  await other.getByLabel('Operator 1').selectOption('contains');
  await other.getByRole('button', { name: 'Search', exact: true }).click();
  // c-1, c-10 … c-19: 11 matches, newest first
  await waitFor('the first 10 matches', async () => (await orows.count()) === 10 &&
    (await orows.first().textContent()).includes('"c-19"'));
  await other.getByRole('button', { name: 'Next' }).click();
  await other.waitForURL(/cursor=/);
  await waitFor('the 11th match on the next page', async () => (await orows.count()) === 1 &&
    (await orows.first().textContent()).includes('"c-1"'));
  assert(await other.getByRole('button', { name: 'Next' }).isDisabled(), 'no page after the last');
  await other.getByRole('button', { name: 'Previous' }).click();
  await waitFor('the first page again', async () => (await orows.count()) === 10 &&
    (await orows.first().textContent()).includes('"c-19"'));
  // a listing without predicates pages by cursor too, to its end and back
  await other.goto('/#/events?stream=shop-e2e&limit=10');
  await waitFor('page 1', async () => (await orows.count()) === 10 && (await orows.first().textContent()).includes('"c-29"'));
  await other.getByRole('button', { name: 'Next' }).click();
  await other.waitForURL(/cursor=/);
  await waitFor('page 2', async () => (await orows.count()) === 10 && (await orows.first().textContent()).includes('"c-19"') &&
    (await orows.last().textContent()).includes('"c-10"'));
  const second = other.url();
  await other.getByRole('button', { name: 'Next' }).click();
  await other.waitForURL(u => u.toString() !== second);
  await waitFor('page 3, the last', async () => (await orows.count()) === 10 && (await orows.first().textContent()).includes('"c-9"') &&
    await other.getByRole('button', { name: 'Next' }).isDisabled());
  await other.getByRole('button', { name: 'Previous' }).click();
  await waitFor('page 2 again', async () => other.url() === second && (await orows.count()) === 10 &&
    (await orows.first().textContent()).includes('"c-19"'));

  await page.getByRole('link', { name: 'Event ' + wanted }).click();
  await page.getByRole('heading', { name: 'Life' }).waitFor();
  const life = page.locator('ol.life');
  await life.getByText('Received').waitFor();
  await life.getByText('Step 0 · transform').waitFor();
  await life.getByText('Step 1 · route').waitFor();
  await life.getByText('Processed').waitFor();
  await page.getByRole('button', { name: 'Copy payload' }).waitFor();
  assert((await page.locator('pre.json').first().textContent()).includes('"id": "c-17"'), 'the payload, indented');
  await screenshot(page, 'core-event-life', { fullPage: true });
  await checkA11y(page, { name: 'event life' });

  await life.getByRole('link', { name: /in copies-e2e/ }).click();
  await page.getByRole('link', { name: 'copies-e2e', exact: true }).waitFor();
  assert((await page.locator('pre.json').first().textContent()).includes('"seen": true'), 'the routed copy was transformed');
});

test('core: a failed event\'s life names the worker and links to its dead letter', async ({ page }) => {
  await admin('POST', '/streams', {
    name: 'refunds-e2e',
    pipeline: [{ type: 'worker', service: 'refunds-e2e', max_attempts: 1 }],
  });
  await worker('refunds-e2e', 'echo "bank offline" >&2; exit 100');
  const r = await publish('refunds-e2e', { type: 'refund.asked', payload: { order: 7 } });
  const id = r.json.event_id;
  await page.goto('/#/events/' + id);
  await signIn(page);
  const life = page.locator('ol.life');
  // the page follows a pending event until it ends
  await life.getByRole('link', { name: 'In the dead-letter queue: open it there' }).waitFor();
  await life.getByText('Step 0 · worker').waitFor();
  await life.getByText('bank offline').first().waitFor();
  assert(/worker [0-9a-f]+/.test(await life.textContent()), 'the attempt names its worker');
  await screenshot(page, 'core-event-failed', { fullPage: true });
  await checkA11y(page, { name: 'event life (failed)' });
  await life.getByRole('link', { name: 'In the dead-letter queue: open it there' }).click();
  await page.waitForURL(new RegExp('#/dlq/' + id + '$'));
});
