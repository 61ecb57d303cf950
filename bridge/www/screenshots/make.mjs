// The README's dashboard tour, regenerated (run by make.sh): a broker and
// a bridge from build/bin over a temporary data dir (the browser tests'
// system.mjs), seeded through the HTTP API and the CLI's worker, then one
// 1280x800 PNG of each page into this folder. Nothing here is drawn by
// hand: what the PNGs show is what the dashboard shows.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const e2e = join(root, 'tests/e2e');
const { launch } = await import(join(e2e, 'browser.mjs'));
const { startSystem } = await import(join(e2e, 'system.mjs'));
const h = await import(join(e2e, 'harness.mjs'));
const { admin, publish, api, signIn, worker, waitFor } = h;

const binDir = process.env.EF_BIN_DIR || join(root, 'build/bin');
const system = await startSystem({ binDir, outDir: join(root, 'build/screenshots') });
Object.assign(h.sys, system, { outDir: here });

// --------------------------------------------------------------- the data

const ids = {};

async function seed () {
  await admin('POST', '/streams', {
    name: 'orders',
    schema: {
      type: 'object',
      required: ['id', 'customer', 'total'],
      properties: {
        id: { type: 'integer' },
        customer: { type: 'object', properties: { id: { type: 'string' }, country: { type: 'string' } } },
        total: { type: 'number', minimum: 0 },
      },
    },
  });
  await admin('POST', '/streams', {
    name: 'payments',
    pipeline: [{ type: 'worker', service: 'billing', max_attempts: 2, backoff: { base_ms: 50, max_ms: 100 } }],
  });
  await admin('POST', '/streams', { name: 'clicks' });
  await admin('POST', '/streams', {
    name: 'emails',
    pipeline: [{ type: 'worker', service: 'mailer' }],
  });

  const shop = await admin('POST', '/producers', { name: 'web-shop' });
  const tracker = await admin('POST', '/api-keys', { name: 'click-tracker', role: 'producer', streams: ['clicks'] });
  await admin('POST', '/api-keys', { name: 'analytics', role: 'consumer', streams: ['clicks', 'orders'] });
  const old = await admin('POST', '/api-keys', { name: 'legacy-importer', role: 'producer' });
  await admin('DELETE', '/api-keys/' + old.id);
  ids.shopKey = shop.api_key;
  ids.trackerKey = tracker.api_key;

  for (const [email, role] of [['ana@example.com', 'admin'], ['bo@example.com', 'producer'], ['chen@example.com', 'consumer']]) {
    await admin('POST', '/users', { email, password: 'correct horse battery', role });
  }

  // a worker that fails some payments for good (two reasons) and one
  // that sends mail
  await worker('billing', 'e=$(cat); case "$e" in *declined*) echo "card declined" >&2; exit 100;; ' +
    '*bank*) echo "bank unreachable: timeout after 5000 ms" >&2; exit 100;; esac; echo \'{"charged":true}\'', { capacity: 4 });
  await worker('mailer', 'cat >/dev/null; echo \'{"sent":true}\'', { capacity: 2 });

  const countries = ['DE', 'FR', 'NL', 'SE', 'ES'];
  for (let i = 1; i <= 40; i++) {
    const r = await publish('orders', {
      type: i % 7 === 0 ? 'order.cancelled' : 'order.created',
      payload: { id: 1000 + i, customer: { id: 'c-' + (i % 9), country: countries[i % 5] }, total: Math.round(i * 13.7) / 10 },
    }, { key: shop.api_key });
    if (i === 12) ids.order = r.json.event_id;
  }
  for (let i = 1; i <= 24; i++) {
    const fail = i % 5 === 0 ? 'declined' : (i % 8 === 0 ? 'bank' : null);
    const r = await publish('payments', {
      type: 'payment.requested',
      payload: { order: 1000 + i, amount: i * 4.5, card: fail === 'declined' ? 'declined-test-card' : 'visa', ...(fail === 'bank' ? { bank: 'slow' } : {}) },
    }, { key: shop.api_key });
    if (fail === 'declined' && !ids.dead) ids.dead = r.json.event_id;
  }
  for (let i = 1; i <= 12; i++) await publish('emails', { type: 'email.send', payload: { to: `user${i}@example.com` } });
  for (let i = 1; i <= 30; i++) {
    await publish('clicks', { type: 'click', payload: { page: '/p/' + (i % 6), ms: 100 + i } }, { key: tracker.api_key });
  }

  // consumer groups: one caught up half way (lag), one with a member
  // holding a lease
  const g = await admin('GET', '/streams/clicks/consumer-groups/analytics/events?limit=18');
  await admin('POST', '/streams/clicks/consumer-groups/analytics/offsets', { last_event_id: g.next_offset });
  await admin('GET', '/streams/clicks/consumer-groups/archiver/events?limit=10&consumer_id=archiver-1');
  await admin('GET', '/streams/clicks/consumer-groups/archiver/events?limit=10&consumer_id=archiver-2');

  await waitFor('the failed payments in the DLQ', async () => (await admin('GET', '/dlq?stream=payments')).items.length >= 7, 20000);
}

// --------------------------------------------------------------- the pages

async function shoot () {
  const context = await browser.newContext({ baseURL: system.url, viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const save = async (name) => {
    await page.locator('main p.muted', { hasText: /^Loading…$/ }).first().waitFor({ state: 'detached' });
    const path = join(here, name + '.png');
    await page.screenshot({ path });
    console.log('screenshots: ' + path);
  };
  const go = async (hash, ready) => {
    await page.goto('/' + hash);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    if (ready) await ready();
  };

  await page.goto('/');
  await page.getByLabel('Email').waitFor();
  await save('signin');
  await signIn(page);

  // a few seconds of traffic so the live charts have a shape
  let stop = false;
  const traffic = (async () => {
    let i = 0;
    while (!stop) {
      i++;
      await publish('clicks', { type: 'click', payload: { page: '/p/' + (i % 6), ms: 90 + (i % 40) } }, { key: ids.trackerKey });
      if (i % 3 === 0) {
        await publish('orders', { type: 'order.created', payload: { id: 5000 + i, customer: { id: 'c-' + (i % 9), country: 'DE' }, total: 10 + (i % 50) } }, { key: ids.shopKey });
      }
      if (i % 4 === 0) await publish('orders', { type: 'order.created', payload: { id: 'not a number' } }, { key: ids.shopKey });
      if (i % 2 === 0) {
        await publish('payments', { type: 'payment.requested', payload: { order: 7000 + i, amount: i, card: i % 10 === 0 ? 'declined-test-card' : 'visa' } }, { key: ids.shopKey });
      }
      if (i % 3 === 0) await publish('emails', { type: 'email.send', payload: { to: `user${i}@example.com` } });
      await page.waitForTimeout(40 + (i % 5) * 30);   // paces the seeding only, never a test
    }
  })();

  await go('#/overview', () => page.waitForTimeout(8000));
  await save('overview');
  await go('#/streams', () => page.getByRole('link', { name: 'orders', exact: true }).waitFor());
  await save('streams');
  await go('#/streams/orders');
  await save('stream');
  await go('#/events?stream=orders&where=' + encodeURIComponent('/customer/country:eq:"DE"'),
    () => page.getByRole('link', { name: /^Event / }).first().waitFor());
  await save('events');
  await go('#/events/' + ids.order, () => page.getByText('order.created').first().waitFor());
  await save('event');
  // the tail filtered by a payload field (the broker judges it as the
  // feed reads), with rows that arrived live on top of the newest 20
  await go('#/tail/clicks?where=' + encodeURIComponent('/page:eq:"/p/2"'),
    () => page.locator('main tbody tr.fresh').nth(1).waitFor());
  await save('tail');
  await go('#/keys', () => page.getByRole('row', { name: /web-shop/ }).waitFor());
  await page.getByLabel('Name').fill('ci-deployer');
  await page.getByLabel('Streams').fill('orders');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('heading', { name: /New key/ }).waitFor();
  await page.getByRole('row', { name: /ci-deployer/ }).waitFor();
  await save('keys');
  await go('#/groups/clicks', () => page.getByRole('region', { name: 'Consumer groups' }).getByRole('row', { name: /analytics/ }).waitFor().then(() => page.waitForTimeout(8000)));
  await save('groups');
  await go('#/dlq', () => page.getByRole('row', { name: /card declined/ }).first().waitFor());
  await save('dlq');
  await go('#/dlq/' + ids.dead, () => page.getByRole('heading', { name: 'Attempts' }).waitFor());
  await save('dlq-detail');
  await go('#/workers', () => page.getByRole('region', { name: 'Services' }).getByRole('row', { name: /billing/ }).waitFor().then(() => page.waitForTimeout(8000)));
  await save('workers');
  await go('#/users', () => page.getByRole('row', { name: /chen@example.com/ }).waitFor());
  await save('users');
  stop = true;
  await traffic;

  const dark = await browser.newContext({ baseURL: system.url, viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  const dp = await dark.newPage();
  await signIn(dp);
  await dp.goto('/#/overview');
  await dp.getByRole('heading', { level: 1 }).first().waitFor();
  await dp.waitForTimeout(3000);
  await dp.screenshot({ path: join(here, 'overview-dark.png') });
  await dark.close();
  await context.close();
}

// --------------------------------------------------------------- run

const browser = await launch();
let failed = false;
try {
  await seed();
  await shoot();
} catch (e) {
  failed = true;
  console.error('screenshots: ' + (e.stack || e));
} finally {
  await h.stopSpawned();
  await browser.close();
  await system.stop();
}
process.exit(failed ? 1 : 0);
