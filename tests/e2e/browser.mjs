// Debian's Chromium, headless, through playwright-core: the one launch of
// the browser tests and of the screenshot script (bridge/www/screenshots).
// Fails clearly when Chromium or the npm packages are missing. Chromium
// does not outlive node: Playwright kills it when node exits, and on
// SIGINT, SIGTERM, SIGHUP processes.mjs closes it before exiting.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onSignalStop } from './processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// null when all is there, or what is missing and how to get it
export function missing () {
  if (!existsSync(chromiumPath)) {
    return `${chromiumPath} is missing: install Debian's chromium package (bash deploy/setup.sh does)`;
  }
  if (!existsSync(join(here, 'node_modules/playwright-core')) || !existsSync(join(here, 'node_modules/axe-core'))) {
    return 'tests/e2e/node_modules is missing: run bash deploy/setup.sh (npm ci in tests/e2e)';
  }
  return null;
}

export async function launch () {
  const why = missing();
  if (why) throw new Error(why);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    // processes.mjs handles the signals (Playwright's own SIGTERM handler
    // closes the browser and leaves node running)
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const cancel = onSignalStop(() => browser.close());
  browser.on('disconnected', cancel);
  return browser;
}
