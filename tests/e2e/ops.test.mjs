// The operations pages in a real browser: API keys, consumer groups, dead
// letters, workers, users. Each test drives a page the way a person
// would (by role and label), saves a screenshot to build/e2e and runs
// axe on what it shows.

import {
  admin, adminToken, api, assert, assertEqual, checkA11y, publish, screenshot, signIn, test, waitFor, worker,
} from './harness.mjs';

const confirmIn = (page) => page.getByRole('dialog');

test('keys: create a key, shown once, revoke it, its next request is refused', async ({ page }) => {
  await admin('POST', '/streams', { name: 'k-orders' });
  await signIn(page);
  await page.goto('/#/keys');
  await page.getByLabel('Name').fill('shop-e2e');
  await page.getByLabel('Role').selectOption('producer');
  await page.getByLabel('Streams').fill('k-orders');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('heading', { name: /New key “shop-e2e”/ }).waitFor();
  await page.getByText('you will not see it again').waitFor();
  await page.getByRole('button', { name: 'Copy key' }).waitFor();
  const key = (await page.locator('#key-secret').textContent()).trim();
  assert(/^efk_/.test(key), 'the key is shown: ' + key);
  await screenshot(page, 'keys-created');
  await checkA11y(page, { name: 'keys (a new key shown)' });

  const ok = await publish('k-orders', { type: 'e2e.key', payload: { n: 1 } }, { key });
  assertEqual(ok.status, 202, 'a request with the new key: ' + ok.text);
  await page.getByRole('button', { name: 'Done' }).click();
  assertEqual(await page.locator('#key-secret').count(), 0, 'the key is not shown again');

  // its last use and rate (the list is asked again when the page opens)
  await page.goto('/#/users');
  await page.goto('/#/keys');
  const row = page.getByRole('region', { name: 'API keys' }).getByRole('row', { name: /shop-e2e/ });
  await row.getByRole('cell', { name: /ago$/ }).waitFor();
  assertEqual(await row.getByRole('cell').nth(5).textContent(), '1', 'requests/min of the new key');
  // Escape closes the confirmation and nothing is revoked; focus is back
  // on the button
  await page.getByRole('button', { name: 'Revoke shop-e2e' }).click();
  await confirmIn(page).getByRole('button', { name: 'Cancel' }).waitFor();
  await page.keyboard.press('Escape');
  await confirmIn(page).waitFor({ state: 'detached' });
  assert(await page.getByRole('button', { name: 'Revoke shop-e2e' }).evaluate((b) => b === document.activeElement),
    'focus is back on the Revoke button');
  assertEqual((await publish('k-orders', { type: 'e2e.key', payload: { n: 1 } }, { key })).status, 202, 'still accepted');
  await page.keyboard.press('Enter');
  await confirmIn(page).getByRole('button', { name: 'Revoke key' }).click();
  await page.getByRole('status').getByText('Revoked the key “shop-e2e”').waitFor();
  await row.waitFor({ state: 'detached' });
  const refused = await publish('k-orders', { type: 'e2e.key', payload: { n: 2 } }, { key });
  assertEqual(refused.status, 401, 'the revoked key\'s next request');

  await page.getByLabel('Show revoked keys').check();
  await page.getByRole('row', { name: /shop-e2e.*revoked/ }).waitFor();
  await screenshot(page, 'keys');
  await checkA11y(page, { name: 'keys' });
});

test('dlq: a failing worker puts events in the DLQ; from the UI one is replayed, one deleted', async ({ page }) => {
  await admin('POST', '/streams', {
    name: 'payments',
    pipeline: [{ type: 'worker', service: 'billing-e2e', max_attempts: 1 }],
  });
  const failing = await worker('billing-e2e', 'echo "card declined" >&2; exit 100');
  const sent = await publish('payments', { type: 'payment.requested', payload: { order: 42, amount: 9.5 } });
  const other = await publish('payments', { type: 'payment.refunded', payload: { order: 43, amount: 1 } });
  assertEqual(sent.status, 202, 'publish');
  const id = sent.json.event_id;
  const otherId = other.json.event_id;
  await waitFor('both events in the DLQ', async () =>
    (await admin('GET', '/dlq?stream=payments')).items.length === 2);
  failing.kill('SIGTERM');
  await new Promise((resolve) => failing.once('exit', resolve));

  await signIn(page);
  await page.goto('/#/dlq/' + id);
  await page.getByRole('heading', { name: /Dead letter/, level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Payload' }).waitFor();
  await page.getByText('"amount": 9.5').waitFor();
  await page.getByRole('heading', { name: 'Attempts' }).waitFor();
  // the attempt names the worker that ran it (the hex of its routing id)
  await page.getByRole('region', { name: 'Attempts' }).getByRole('row', { name: /billing-e2e [0-9a-f]{8,} .*card declined/ }).waitFor();
  await screenshot(page, 'dlq-detail');
  await checkA11y(page, { name: 'dlq detail' });

  await page.goto('/#/dlq');
  await page.getByLabel('Stream').selectOption('payments');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  // grouped by reason: choosing one filters the list by it
  await page.getByRole('button', { name: /card declined 2/ }).click();
  await waitFor('the error filter set', async () => (await page.getByLabel('Error text').inputValue()) === 'card declined');
  await page.getByRole('button', { name: /card declined/, pressed: true }).waitFor();
  // by event type: one of the two
  await page.getByLabel('Event type').fill('payment.requested');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('checkbox', { name: 'Select ' + otherId }).waitFor({ state: 'detached' });
  await page.getByLabel('Event type').fill('');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('checkbox', { name: 'Select ' + otherId }).waitFor();
  await page.getByRole('checkbox', { name: 'Select ' + id }).check();
  await screenshot(page, 'dlq');
  await checkA11y(page, { name: 'dlq' });

  await worker('billing-e2e', 'echo \'{"charged":true}\'');
  await page.getByRole('button', { name: 'Replay selected' }).click();
  await confirmIn(page).getByRole('button', { name: 'Replay' }).click();
  await page.getByRole('status').getByText('Replayed 1 dead letter').waitFor();
  await page.getByRole('checkbox', { name: 'Select ' + id }).waitFor({ state: 'detached' });
  await waitFor('the replayed event PROCESSED', async () =>
    (await admin('GET', '/events/' + id)).status === 'PROCESSED');

  // the other one: selected with "select all", deleted
  await page.getByRole('checkbox', { name: 'Select every dead letter on this page' }).check();
  assert(await page.getByRole('checkbox', { name: 'Select ' + otherId }).isChecked(), 'select all ticks the row');
  await page.getByRole('button', { name: 'Delete selected' }).click();
  await confirmIn(page).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('status').getByText('Deleted 1 dead letter').waitFor();
  await page.getByText('No dead letters match.').waitFor();
  assertEqual((await api('GET', '/dlq/' + otherId, { token: await adminToken() })).status, 404, 'the deleted letter');
  assertEqual((await admin('GET', '/events/' + otherId)).status, 'FAILED', 'its event stays FAILED');
});

test('groups: seek a group and watch its lag change', async ({ page }) => {
  await admin('POST', '/streams', { name: 'clicks' });
  for (let i = 0; i < 5; i++) await publish('clicks', { type: 'click', payload: { i } });
  const fetched = await admin('GET', '/streams/clicks/consumer-groups/analytics/events?limit=100');
  assertEqual(fetched.events.length, 5, 'the group fetched the stream');
  await admin('POST', '/streams/clicks/consumer-groups/analytics/offsets', { last_event_id: fetched.next_offset });

  // a second group whose member holds a lease on three events
  await admin('GET', '/streams/clicks/consumer-groups/archiver/events?limit=3&consumer_id=arch-1');

  await signIn(page);
  await page.goto('/#/groups/clicks');
  await page.getByRole('region', { name: 'Members and leases' }).getByRole('row', { name: /archiver arch-1 1 3/ }).waitFor();
  const row = page.getByRole('region', { name: 'Consumer groups' }).getByRole('row', { name: /analytics/ });
  const lag = row.getByRole('cell').nth(1);   // offset, lag, members, actions after the header
  await waitFor('lag 0', async () => (await lag.textContent()) === '0');

  await page.getByRole('button', { name: 'Seek analytics' }).click();
  await page.getByRole('radio', { name: /Earliest/ }).check();
  await page.getByRole('button', { name: 'Seek', exact: true }).click();
  await confirmIn(page).getByRole('button', { name: 'Seek group' }).click();
  await page.getByRole('status').getByText(/now starts after/).waitFor();
  await waitFor('lag 5 after the seek', async () => (await lag.textContent()) === '5');

  const later = [];
  for (let i = 5; i < 7; i++) later.push((await publish('clicks', { type: 'click', payload: { i } })).json.event_id);
  await waitFor('lag 7, live', async () => (await lag.textContent()) === '7');

  // to an event: it is the next one fetched, so the lag counts it and
  // what follows
  await page.getByRole('button', { name: 'Seek analytics' }).click();
  await page.getByLabel('Event id', { exact: true }).fill(later[0]);
  assert(await page.getByRole('radio', { name: /An event/ }).isChecked(), 'typing an id chooses "An event"');
  await page.getByRole('button', { name: 'Seek', exact: true }).click();
  await confirmIn(page).getByText(later[0]).waitFor();
  await confirmIn(page).getByRole('button', { name: 'Seek group' }).click();
  await waitFor('lag 2 after seeking to the 6th event', async () => (await lag.textContent()) === '2');

  // to a time before every event: the whole stream again
  await page.getByRole('button', { name: 'Seek analytics' }).click();
  await page.getByLabel('Time', { exact: true }).fill('2001-01-01T00:00:00');
  assert(await page.getByRole('radio', { name: /A time/ }).isChecked(), 'a time chooses "A time"');
  await page.getByRole('button', { name: 'Seek', exact: true }).click();
  await confirmIn(page).getByRole('button', { name: 'Seek group' }).click();
  await waitFor('lag 7 after seeking to 2001', async () => (await lag.textContent()) === '7');
  await page.getByRole('heading', { name: 'Lag over time' }).waitFor();
  await screenshot(page, 'groups');
  await checkA11y(page, { name: 'groups' });

  // every stream: clicks with its two groups and its worst lag
  await page.getByRole('link', { name: 'Consumer groups' }).click();
  await page.getByRole('row', { name: 'clicks 2 7 analytics, archiver' }).waitFor();
  await page.getByRole('link', { name: 'clicks', exact: true }).click();
  await page.getByRole('heading', { name: 'Consumer groups of clicks' }).waitFor();
});

test('workers: an attached worker with its service, capacity and throughput', async ({ page }) => {
  await admin('POST', '/streams', {
    name: 'mail',
    pipeline: [{ type: 'worker', service: 'mailer-e2e' }],
  });
  await worker('mailer-e2e', 'cat >/dev/null; echo \'{"sent":true}\'', { capacity: 3 });
  await signIn(page);
  await page.goto('/#/workers');
  const svc = page.getByRole('region', { name: 'Services' }).getByRole('row', { name: /mailer-e2e/ });
  await svc.waitFor();
  // the worker by its id, with its capacity
  await page.getByRole('region', { name: 'Attached workers' })
    .getByRole('row', { name: /^[0-9a-f]{8,} mailer-e2e 3 0/ }).waitFor();
  for (let i = 0; i < 3; i++) await publish('mail', { type: 'mail', payload: { i } });
  // done since the broker started, as the page asks every second
  const doneCell = svc.getByRole('cell').nth(7);
  await waitFor('3 jobs done', async () => (await doneCell.textContent()) === '3');
  await page.getByRole('figure', { name: 'Jobs per second' }).waitFor();
  await screenshot(page, 'workers');
  await checkA11y(page, { name: 'workers' });
});

test('users: create a user, change the role, delete; non-admins are told it is for admins', async ({ page, newPage }) => {
  await signIn(page);
  await page.goto('/#/users');
  await page.getByLabel('Email', { exact: true }).fill('carol@example.com');
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByLabel('Role', { exact: true }).selectOption('consumer');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('status').getByText('Created carol@example.com (consumer)').waitFor();
  await page.getByLabel('Role of carol@example.com').selectOption('producer');
  await page.getByRole('status').getByText('The role of carol@example.com is now producer').waitFor();
  const users = await admin('GET', '/users');
  assertEqual(users.items.find((u) => u.email === 'carol@example.com').role, 'producer', 'the role changed');
  await screenshot(page, 'users');
  await checkA11y(page, { name: 'users' });

  const other = await newPage();
  await signIn(other, { email: 'carol@example.com', password: 'correct horse battery' });
  await other.goto('/#/users');
  await other.getByText('Managing users is for admins.').waitFor();
  await checkA11y(other, { name: 'users (not an admin)' });
  for (const [p, text] of [['keys', 'Managing API keys is for admins.'],
    ['dlq', 'The dead-letter queue is for admins.'], ['workers', 'The workers page is for admins.']]) {
    await other.goto('/#/' + p);
    await other.getByText(text).waitFor();
  }

  await page.getByRole('button', { name: 'Delete carol@example.com' }).click();
  await confirmIn(page).getByRole('button', { name: 'Delete user' }).click();
  await page.getByRole('status').getByText('Deleted carol@example.com').waitFor();
  const r = await api('GET', '/users', { token: (await api('POST', '/auth/login', { body: { email: 'carol@example.com', password: 'correct horse battery' } })).json?.access_token });
  assertEqual(r.status, 401, 'the deleted user is refused');
});

// Every page of the dashboard, at a desktop's and a phone's width, light
// and dark: no serious or critical axe violation. The pass seeds its own
// stream (with an event and a group holding a lease), so it runs alone as
// well as after the others.
let axeSeeded = null;
async function axeSeed () {
  if (!axeSeeded) {
    axeSeeded = (async () => {
      await admin('POST', '/streams', { name: 'axe' });
      const r = await publish('axe', { type: 'axe.checked', payload: { ok: true } });
      await admin('GET', '/streams/axe/consumer-groups/readers/events?consumer_id=r-1');
      return r.json.event_id;
    })();
  }
  return axeSeeded;
}
const PAGES = (id) => ['overview', 'streams', 'streams/axe', 'events', 'events/' + id, 'tail', 'tail/axe',
  'keys', 'groups', 'groups/axe', 'dlq', 'workers', 'users'];

// (The phone's width in dark: the overview only, colours do not change
// with the width and the suite's time is counted.)
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
for (const [label, options, only] of [
  ['1280x800 light', { viewport: { width: 1280, height: 800 } }],
  ['390x844 light', PHONE],
  ['1280x800 dark', { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' }],
  ['390x844 dark', { ...PHONE, colorScheme: 'dark' }, ['overview']],
]) {
  test(`axe: ${only ? only.join(', ') : 'every page'} at ${label}`, async ({ newPage }) => {
    const id = await axeSeed();
    const page = await newPage(options);
    await signIn(page);
    for (const p of only || PAGES(id)) {
      await page.goto('/#/' + p);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.locator('main p.muted', { hasText: /^Loading…$/ }).waitFor({ state: 'detached' });
      await screenshot(page, `page-${p.replace(/\/.*/, '-one')}-${label.replace(' ', '-')}`);
      await checkA11y(page, { name: `${p} at ${label}` });
    }
  }, { timeout: 60000 });
}
