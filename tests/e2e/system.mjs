// The system under test for the browser tests and the screenshot script:
// a real eventflow-broker and eventflow-bridge from build/bin on
// 127.0.0.1 (the broker on a port it picks, the bridge on a free one),
// over a fresh data directory. Ready means: the broker logged its
// endpoint, the bridge logged its listen address and answers /health.
// Their logs go to <out>/broker.log and <out>/bridge.log. Both are
// started through processes.mjs: they die with the node process that
// started them, however it ends, and the data directory goes with them.

import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit, spawn } from './processes.mjs';

// Start `bin args`, copy its stderr to logPath, resolve with {child,
// value} where value is the first `"field":"…"` of its log (the ready
// line); reject if it exits first.
function start (bin, args, logPath, field, env) {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const log = createWriteStream(logPath, { flags: 'a' });
  const needle = `"${field}":"`;
  return new Promise((resolve, reject) => {
    let buf = '';
    let ready = false;
    child.stderr.on('data', (chunk) => {
      log.write(chunk);
      if (ready) return;
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const at = line.indexOf(needle);
        if (at < 0) continue;
        const from = at + needle.length;
        ready = true;
        resolve({ child, value: line.slice(from, line.indexOf('"', from)) });
        return;
      }
    });
    child.on('exit', (code, signal) => {
      if (!ready) {
        ready = true;
        reject(new Error(`${bin} exited (${code ?? signal}) before it was ready; log: ${logPath}`));
      }
    });
  });
}

function freePort () {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// GET url/health until it answers 200 (each try waits for the answer;
// the bridge has logged its address by then, so this is a few tries).
async function untilHealthy (url, child, deadlineMs) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error('the bridge exited while starting');
    try {
      const r = await fetch(url + '/health');
      if (r.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > until) throw new Error(`${url}/health did not answer 200`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// SIGTERM, and SIGKILL if it has not exited 10 s later (a hung process
// must not hang the suite until ctest's timeout).
function stop (child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => {
      console.error(`e2e: pid ${child.pid} ignored SIGTERM for 10 s: SIGKILL`);
      child.kill('SIGKILL');
    }, 10000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
}

// Start broker and bridge. opts: {binDir, outDir, brokerArgs, bridgeArgs}.
// Returns {url, endpoint, dataDir, email, password, binDir, env, logs,
// pids, stop()}.
export async function startSystem (opts) {
  const { binDir, outDir } = opts;
  mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'ef-e2e-'));
  const env = { ...process.env };
  delete env.EVENTFLOW_BROKER_ENDPOINT;
  delete env.EVENTFLOW_HTTP_LISTEN;
  env.EVENTFLOW_DATA_DIR = dataDir;
  const forget = onExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const brokerLog = join(outDir, 'broker.log');
  const bridgeLog = join(outDir, 'bridge.log');
  rmSync(brokerLog, { force: true });
  rmSync(bridgeLog, { force: true });

  const broker = await start(join(binDir, 'eventflow-broker'),
    ['--data-dir', dataDir, '--endpoint', 'tcp://127.0.0.1:*', '--log-level', 'info',
      ...(opts.brokerArgs || [])],
    brokerLog, 'endpoint', env);
  env.EVENTFLOW_BROKER_ENDPOINT = broker.value;

  let bridge = null;
  let lastErr = null;
  for (let attempt = 0; attempt < 5 && !bridge; attempt++) {
    const port = await freePort();
    try {
      bridge = await start(join(binDir, 'eventflow-bridge'),
        ['--listen', `127.0.0.1:${port}`, '--broker', broker.value, '--data-dir', dataDir,
          ...(opts.bridgeArgs || [])],
        bridgeLog, 'listen', env);
    } catch (e) {
      lastErr = e; /* the port was taken meanwhile: another one */
    }
  }
  if (!bridge) {
    await stop(broker.child);
    throw lastErr;
  }
  const url = 'http://' + bridge.value.replace(/^https?:\/\//, '');
  await untilHealthy(url, bridge.child, 20000);

  const admin = readFileSync(join(dataDir, 'initial-admin'), 'utf8');
  const email = /^email = (.*)$/m.exec(admin)[1];
  const password = /^password = (.*)$/m.exec(admin)[1];

  return {
    url,
    endpoint: broker.value,
    dataDir,
    email,
    password,
    binDir,
    env,
    logs: { broker: brokerLog, bridge: bridgeLog },
    pids: { broker: broker.child.pid, bridge: bridge.child.pid },
    async stop ({ keep } = {}) {
      await stop(bridge.child);
      await stop(broker.child);
      forget();
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
