// Workers (#/workers): per service, the attached workers, capacity, jobs
// in flight and queued, and throughput and failure rate per second (the
// deltas of the broker's done/failed counts between two answers, so
// they start after the second answer); each worker's id, capacity, jobs
// in flight and last heartbeat. GET /workers every second while open.

import { poll, adminOnly, isAdmin } from './ops-lib.js';

export function render (root, params, ctx) {
  const { api, ui } = ctx;
  const { h, fill } = ui;
  fill (root, h ('h1', null, 'Workers'));
  if (!isAdmin (ctx)) {
    root.appendChild (adminOnly ('The workers page', ctx.user));
    return { destroy () {} };
  }
  const status = h ('div', { 'aria-live': 'polite' });
  const summary = h ('p', { class: 'muted' });
  const servicesEl = h ('div');
  const chartEl = h ('div', { class: 'chart-slot' });
  const workersEl = h ('div');
  root.append (
    h ('p', { class: 'muted' }, 'Workers attach to the broker under a service name and run the jobs of the pipelines\' worker steps (',
      h ('code', null, 'eventflow worker --service S --exec CMD'), ').'),
    status, summary,
    h ('section', null, h ('h2', null, 'Services'), servicesEl),
    h ('section', { 'aria-labelledby': 'thr-h' }, h ('h2', { id: 'thr-h' }, 'Throughput'),
      h ('p', { class: 'muted small' }, 'Jobs per second, all services, measured while this page is open.'), chartEl),
    h ('section', null, h ('h2', null, 'Attached workers'), workersEl));

  let prev = null;          // {t, by service: {done, failed}}
  const rates = new Map (); // service → {done, failed} per second
  let chart = null;

  // services from the answer, or made from the workers when the broker
  // does not send them (no done/failed then)
  function servicesOf (r) {
    if (Array.isArray (r.services))
      return r.services;
    const by = new Map ();
    for (const w of r.workers || []) {
      const s = by.get (w.service) || { service: w.service, workers: 0, capacity: 0, in_flight: 0 };
      s.workers++;
      s.capacity += w.capacity || 0;
      s.in_flight += w.in_flight || 0;
      by.set (w.service, s);
    }
    return [...by.values ()];
  }

  const perSec = (v) => v === undefined || v === null ? '—' : ui.fmtNum (Math.round (v * 10) / 10);

  let failed = false;
  async function refresh () {
    let r;
    try {
      r = await api.get ('/workers');
      if (failed)
        fill (status);
      failed = false;
    } catch (ex) {
      if (ex.status === 403) {
        fill (root, h ('h1', null, 'Workers'), adminOnly ('The workers page', ctx.user));
        timer.stop ();
        return;
      }
      if (!failed)
        fill (status, ui.errorBox (ex, 'The workers could not be read'));
      failed = true;
      return;
    }
    const now = Date.now ();
    const services = servicesOf (r).slice ().sort ((a, b) => a.service < b.service ? -1 : 1);
    let doneSum = null;
    let failSum = null;
    if (prev) {
      const dt = (now - prev.t) / 1000;
      for (const s of services) {
        const p = prev.by[s.service];
        if (!p || typeof s.done !== 'number' || dt <= 0)
          continue;
        const x = { done: Math.max (0, s.done - p.done) / dt, failed: Math.max (0, s.failed - p.failed) / dt };
        rates.set (s.service, x);
        doneSum = (doneSum || 0) + x.done;
        failSum = (failSum || 0) + x.failed;
      }
    }
    prev = { t: now, by: {} };
    for (const s of services) {
      if (typeof s.done === 'number')
        prev.by[s.service] = { done: s.done, failed: s.failed || 0 };
    }

    const workers = r.workers || [];
    summary.textContent = workers.length + (workers.length === 1 ? ' worker' : ' workers') + ' attached, ' +
      ui.fmtNum (r.queued) + ' jobs queued.';
    fill (servicesEl, ui.table ([
      { label: 'Service', rowHeader: true, key: 'service' },
      { label: 'Workers', numeric: true, render: s => ui.fmtNum (s.workers) },
      { label: 'Capacity', numeric: true, render: s => ui.fmtNum (s.capacity) },
      { label: 'In flight', numeric: true, render: s => ui.fmtNum (s.in_flight) },
      { label: 'Queued', numeric: true, render: s => ui.fmtNum (s.queued) },
      { label: 'Done/s', numeric: true, render: s => perSec (rates.has (s.service) ? rates.get (s.service).done : null) },
      { label: 'Failed/s', numeric: true, render: s => perSec (rates.has (s.service) ? rates.get (s.service).failed : null) },
      {
        label: 'Failure rate',
        numeric: true,
        render: s => {
          const x = rates.get (s.service);
          if (!x)
            return null;
          const all = x.done + x.failed;
          return all > 0 ? Math.round (100 * x.failed / all) + ' %' : '0 %';
        }
      },
      { label: 'Done since start', numeric: true, render: s => ui.fmtNum (s.done) },
      { label: 'Failed since start', numeric: true, render: s => ui.fmtNum (s.failed) }
    ], services, { label: 'Services', empty: 'No worker is attached.' }));
    fill (workersEl, ui.table ([
      { label: 'Worker', rowHeader: true, render: w => w.id ? h ('code', null, w.id) : null },
      { label: 'Service', key: 'service' },
      { label: 'Capacity', numeric: true, render: w => ui.fmtNum (w.capacity) },
      { label: 'In flight', numeric: true, render: w => ui.fmtNum (w.in_flight) },
      { label: 'Last seen', numeric: true, render: w => ui.fmtAge (w.seen_ms_ago) + ' ago' }
    ], workers, { label: 'Attached workers', empty: 'No worker is attached.' }));

    if (!chart)
      chart = ui.chart (chartEl, { title: 'Jobs per second', series: [{ label: 'done' }, { label: 'failed' }] });
    if (doneSum !== null)
      chart.push (now / 1000, [doneSum, failSum]);
  }

  fill (servicesEl, h ('p', { class: 'muted' }, 'Loading…'));
  const timer = poll (refresh, 1000);
  return {
    destroy () {
      timer.stop ();
      if (chart)
        chart.destroy ();
    }
  };
}
