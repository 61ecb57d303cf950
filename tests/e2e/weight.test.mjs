// The dashboard's weight: everything a first visit transfers, as the
// browser transfers it (gzip, as Chromium asks for it; each response's
// headers and encoded body), in an org with several active streams: the
// sign-in screen, signing in, and the overview with its API answers and
// a few seconds of its live figures. The live feed is a stream (Server-
// Sent Events), not a load: its bytes are reported beside, not counted.
// The whole must stay under 300 KB (issue 12). The figures, by class of
// resource, go to build/e2e/weight.json and to the test's output.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { admin, assert, publish, signIn, sys, test, transferWeight, waitFor } from './harness.mjs';

const LIMIT = 300 * 1024;
const STREAMS = 8;
const LIVE_SECONDS = 3;

// the class of one response: the page, the dashboard's own scripts and
// styles, the vendored uPlot, the API's answers, anything else
function classOf (x) {
  if (x.url.startsWith('/assets/vendor/')) return 'vendor';
  if (x.url.startsWith('/api/')) return 'api';
  return { document: 'html', script: 'js', stylesheet: 'css' }[x.type] || 'other';
}

test('weight: a first visit (sign-in, sign in, the overview) transfers under 300 KB', async ({ page }) => {
  // several streams with traffic within the hour: each has a series in
  // the broker's figures
  for (let i = 1; i <= STREAMS; i++) {
    await admin('POST', '/streams', { name: 'weight-' + i });
    await publish('weight-' + i, [1, 2, 3].map((n) => ({ type: 'weighed', payload: { n, pad: 'x'.repeat(40 * n) } })));
  }
  const stats = await admin('GET', '/stats?seconds=60');
  assert(Object.keys(stats.streams).length >= STREAMS, 'the org has several active streams: ' + Object.keys(stats.streams));

  const visit = await transferWeight(page, async (p, streamed) => {
    await p.goto('/');
    await p.getByLabel('Email').waitFor();
    const hour = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/stats');
    const streams = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/streams');
    await signIn(p);
    await p.getByRole('heading', { name: 'Overview' }).waitFor();
    await (await hour).finished();
    await (await streams).finished();
    await p.getByRole('status').filter({ hasText: /^live$/ }).waitFor();
    // a few seconds of live figures (one event a second)
    await waitFor(`${LIVE_SECONDS} s of live figures`, () => streamed(/\/api\/v1\/live\?/).chunks >= LIVE_SECONDS);
  });

  const assets = visit.list.filter((x) => !x.url.startsWith('/api/'));
  assert(assets.every((x) => x.status === 200), 'every asset answered 200: ' + JSON.stringify(assets));
  const big = visit.list.filter((x) => x.bytes > 1500 && x.encoding !== 'gzip');
  assert(big.length === 0, 'answers over 1.5 KB come gzipped: ' + JSON.stringify(big));
  assert(visit.streams.length === 1 && visit.streams[0].url.startsWith('/api/v1/live?'),
    'the live feed is the one stream: ' + JSON.stringify(visit.streams));

  const classes = {};
  for (const x of visit.list) {
    const c = classes[classOf(x)] || (classes[classOf(x)] = { requests: 0, bytes: 0 });
    c.requests++;
    c.bytes += x.bytes;
  }
  const figures = {
    limit_bytes: LIMIT,
    total_bytes: visit.bytes,
    requests: visit.requests,
    classes,
    live_feed_not_counted: visit.streams,
    list: visit.list,
  };
  writeFileSync(join(sys.outDir, 'weight.json'), JSON.stringify(figures, null, 2) + '\n');
  console.log(`# weight: a first visit transfers ${visit.bytes} B in ${visit.requests} requests (limit ${LIMIT} B): ` +
    Object.entries(classes).map(([k, c]) => `${k} ${c.bytes} B (${c.requests})`).join(', ') +
    `; live feed, not counted: ${visit.streams.map((s) => `${s.bytes} B in ${s.chunks} chunks`).join(', ')}`);
  for (const x of visit.list) console.log(`#   ${String(x.bytes).padStart(7)} B ${x.status} ${x.encoding || '-'} ${x.url}`);
  assert(visit.bytes < LIMIT, `a first visit transfers ${visit.bytes} bytes (over ${LIMIT})`);
});
