// The dashboard's weight: what a first visit transfers (gzip, as Chromium
// asks for it): the sign-in screen, then what signing in adds (the
// overview's module and its API answers). The front end itself (every
// asset) must stay under 300 KB (issue 12); the API answers depend on
// the org's data (GET /stats grows with its streams), so they are
// reported beside it. The figures go to build/e2e/weight.json.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, pageWeight, signIn, sys, test } from './harness.mjs';

test('weight: the first load of / is under 300 KB transferred', async ({ page }) => {
  const first = await pageWeight(page, '/');
  const assets = first.list.filter((x) => !x.url.startsWith('/api/'));
  assert(assets.every((x) => x.status === 200), 'every asset answered 200: ' + JSON.stringify(assets));
  const big = assets.filter((x) => x.bytes > 1500 && x.encoding !== 'gzip');
  assert(big.length === 0, 'assets over 1.5 KB come gzipped: ' + JSON.stringify(big));
  const seen = new Set(first.list.map((x) => x.url));
  const after = await pageWeight(page, '/', async (p) => {
    // the overview's hour of figures, whole (finished, not only begun)
    const stats = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/stats');
    await signIn(p);
    await p.getByRole('heading', { level: 1 }).first().waitFor();
    await (await stats).finished();
  });
  // the second visit in the same context is a reload: count only what
  // the sign-in added (the overview's module and its API answers)
  const added = after.list.filter((x) => !seen.has(x.url) || x.url.startsWith('/api/'));
  const sum = (list) => list.reduce((n, x) => n + x.bytes, 0);
  const all = [...first.list, ...added];
  const front = sum(all.filter((x) => !x.url.startsWith('/api/')));
  const data = sum(all.filter((x) => x.url.startsWith('/api/')));
  writeFileSync(join(sys.outDir, 'weight.json'),
    JSON.stringify({ first, signedIn: added, front_end_bytes: front, api_bytes: data }, null, 2) + '\n');
  console.log(`# weight: / ${first.requests} requests ${first.bytes} B; signed in: +${added.length} requests; ` +
    `front end ${front} B, API answers ${data} B`);
  assert(front < 300 * 1024, `the front end transfers ${front} bytes on a first load (over 300 KB)`);
});
