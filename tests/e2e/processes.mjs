// The processes the browser tests and the screenshot script start (broker,
// bridge, the CLI's workers; Chromium through browser.mjs) never outlive
// the node process that started them, however it ends:
// * it exits (the end of the script, process.exit(), an uncaught
//   exception or rejection): an 'exit' handler SIGKILLs every child still
//   running (synchronously: nothing asynchronous runs at exit) and runs
//   the synchronous cleanups (a temporary data dir);
// * SIGINT, SIGTERM or SIGHUP: the asynchronous cleanups run (the browser
//   closes), every child gets SIGTERM and 5 s to exit, then node exits
//   with 128 + the signal's number (a second signal exits at once);
// * SIGKILL (nothing runs in node then): the children are started through
//   util-linux's setpriv with a parent-death signal, so the kernel kills
//   them when their parent goes. (ctest's TIMEOUT kills the test's whole
//   process tree with SIGKILL itself.)

import { spawn as nodeSpawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';

const SETPRIV = '/usr/bin/setpriv';
const TERM_GRACE_MS = 5000;

const children = new Set();
const atExit = new Set();      // synchronous: () => void
const atSignal = new Set();    // asynchronous: () => Promise
let installed = false;
let stopping = false;

function killAll () {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const f of atExit) {
    try { f(); } catch { /* best effort at exit */ }
  }
}

function exited (c) {
  return c.exitCode !== null || c.signalCode !== null;
}

async function onSignal (name) {
  const code = 128 + constants.signals[name];
  if (stopping) process.exit(code);
  stopping = true;
  console.error(`e2e: ${name}: stopping ${children.size} process(es) and the browser`);
  const waits = [...children].filter((c) => !exited(c)).map((c) => new Promise((resolve) => {
    c.once('exit', resolve);
    c.kill('SIGTERM');
  }));
  const grace = new Promise((resolve) => setTimeout(resolve, TERM_GRACE_MS).unref());
  await Promise.race([Promise.all([...[...atSignal].map((f) => f().catch(() => {})), ...waits]), grace]);
  process.exit(code);   // the 'exit' handler kills what is left
}

function install () {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(name, () => { onSignal(name); });
}

// spawn(bin, args, options) as child_process.spawn, through setpriv
// --pdeathsig KILL when it is there; the child is killed when node exits.
export function spawn (bin, args, options) {
  install();
  const child = existsSync(SETPRIV)
    ? nodeSpawn(SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args], options)
    : nodeSpawn(bin, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

// Run f() (synchronous) when node exits; returns a function that cancels it.
export function onExit (f) {
  install();
  atExit.add(f);
  return () => atExit.delete(f);
}

// Run f() (asynchronous: the browser's close) on SIGINT, SIGTERM, SIGHUP
// before exiting; returns a function that cancels it.
export function onSignalStop (f) {
  install();
  atSignal.add(f);
  return () => atSignal.delete(f);
}
