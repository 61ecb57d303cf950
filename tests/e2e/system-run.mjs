// A system (system.mjs) started in a node process of its own, for the
// harness test that checks nothing outlives that process: prints one
// line of JSON {broker, bridge, dataDir} (the pids) once it is ready, then
// waits for a signal, or, with `throw`, dies of an uncaught exception
// when a line comes on its stdin.
//
// usage: node tests/e2e/system-run.mjs BIN_DIR OUT_DIR [wait|throw]

import { startSystem } from './system.mjs';

const [binDir, outDir, how = 'wait'] = process.argv.slice(2);
const system = await startSystem({ binDir, outDir });
process.stdout.write(JSON.stringify({ ...system.pids, dataDir: system.dataDir }) + '\n');
setInterval(() => {}, 60000);
if (how === 'throw') {
  process.stdin.once('data', () => { throw new Error('system-run: an uncaught exception, on purpose'); });
}
