// Overview (#/overview, #/overview?stream=NAME&window=S): the org's
// figures, or one stream's, per second: the numbers now, then charts.
// The hour comes from GET /stats?seconds=3600 (&streams=none for the
// org's total alone, &stream=NAME for one stream), then one point a
// second from the live feed (figures=1); after a reconnect the hour is
// read again so the charts have no hole. Without the live route (an older
// bridge) it polls GET /stats?seconds=5 every second instead.
// The charts show a Window of that hour: the one in the address, or else
// the shortest that holds every non-zero figure the hour has (at least a
// minute), so a young broker's charts are not squeezed at the right.

import { h, fill, chart, errorBox, fmtNum } from '../ui.js';

const CHARTS = [
  { title: 'Ingest rate (events/s)', keys: ['ingested'], labels: ['ingested'] },
  { title: 'Rejected and duplicates (events/s)', keys: ['rejected', 'duplicates'], labels: ['rejected', 'duplicates'] },
  { title: 'Processing latency (ms)', keys: ['latency_p50_ms', 'latency_p99_ms'], labels: ['p50', 'p99'], unit: 'ms' },
  { title: 'DLQ size (events)', keys: ['dlq_size'], labels: ['dead letters'] },
  { title: 'Worst consumer lag (events)', keys: ['worst_lag'], labels: ['lag'] },
  { title: 'Workers attached', keys: ['workers'], labels: ['workers'] }
];

// the numbers above the charts: label, how it is taken from the last
// seconds (each an object of one number per figure)
const AVG = 10;
const TILES = [
  ['Ingested /s', 'ingested', 'avg'],
  ['Rejected /s', 'rejected', 'avg'],
  ['Duplicates /s', 'duplicates', 'avg'],
  ['Latency p50', 'latency_p50_ms', 'recent', 'ms'],
  ['Latency p99', 'latency_p99_ms', 'recent', 'ms'],
  ['DLQ size', 'dlq_size', 'last'],
  ['Worst lag', 'worst_lag', 'last'],
  ['Workers', 'workers', 'last']
];

// the Window's choices, shortest first
const WINDOWS = [[60, 'Last minute'], [300, 'Last 5 minutes'], [900, 'Last 15 minutes'], [3600, 'Last hour']];

// The shortest window that holds every non-zero second of a series
// answer's figures (arrays of n seconds, oldest first): the first of
// WINDOWS when all are zero.
export function fittingWindow (figs, n) {
  let first = n;
  for (const a of Object.values (figs || {})) {
    if (!Array.isArray (a))
      continue;
    const i = a.findIndex (x => typeof x === 'number' && x !== 0);
    if (i >= 0 && i < first)
      first = i;
  }
  const age = n - first;
  const w = WINDOWS.find (([s]) => s >= age);
  return w ? w[0] : WINDOWS[WINDOWS.length - 1][0];
}

export function render (root, params, ctx) {
  const { api } = ctx;
  const stream = params.query.get ('stream') || '';
  let feed = null;
  let poll = null;
  let charts = [];
  let recent = [];          // the last AVG seconds: [{figure: n}]
  let destroyed = false;
  let reloads = 0;
  // the stats query: one stream's series, or the org's total alone
  const statsQuery = (seconds) => stream ? { seconds, stream } : { seconds, streams: 'none' };

  const select = h ('select', { id: 'ov-stream' },
    h ('option', { value: '' }, 'All streams (org total)'),
    stream ? h ('option', { value: stream, selected: true }, stream) : null);
  select.addEventListener ('change', () => {
    const q = new URLSearchParams ();
    if (select.value)
      q.set ('stream', select.value);
    if (!autoWin)
      q.set ('window', winSel.value);
    ctx.navigate ('#/overview' + (q.toString () ? '?' + q.toString () : ''));
  });
  const asked = WINDOWS.some (w => String (w[0]) === params.query.get ('window')) ? Number (params.query.get ('window')) : 0;
  let autoWin = !asked;     // chosen from the data until the user picks one
  const win = asked || WINDOWS[0][0];
  const winSel = h ('select', { id: 'ov-window' }, WINDOWS.map (([v, l]) => h ('option', { value: v, selected: v === win }, l)));
  const setWindow = (seconds) => {
    winSel.value = String (seconds);
    charts.forEach (c => c.setWindow (seconds));
  };
  winSel.addEventListener ('change', () => {
    autoWin = false;
    charts.forEach (c => c.setWindow (Number (winSel.value)));
    const q = new URLSearchParams (params.query);
    q.set ('window', winSel.value);
    history.replaceState (null, '', '#/overview?' + q.toString ());
  });
  const conn = h ('span', { class: 'conn conn-connecting', role: 'status' }, 'connecting…');
  const tiles = h ('dl', { class: 'tiles', 'aria-label': 'Figures now' });
  const tileVals = {};
  TILES.forEach (([label, key]) => {
    tileVals[key] = h ('dd', null, '—');
    tiles.appendChild (h ('div', { class: 'tile' }, h ('dt', null, label), tileVals[key]));
  });
  const msg = h ('div');
  const grid = h ('div', { class: 'charts' });
  fill (root,
    h ('div', { class: 'page-head' },
      h ('h1', null, stream ? 'Overview of ' + stream : 'Overview'),
      conn),
    h ('div', { class: 'row' },
      h ('div', { class: 'field' }, h ('label', { for: 'ov-stream' }, 'Stream'), select),
      h ('div', { class: 'field' }, h ('label', { for: 'ov-window' }, 'Window'), winSel)),
    h ('p', { class: 'muted small' }, 'One point per second over the window; the numbers are the last ' + AVG + ' s (rates averaged, gauges now).'),
    tiles, msg, grid);

  api.get ('/streams').then (r => {
    if (destroyed)
      return;
    for (const s of (r && r.items) || []) {
      if (s.name !== stream)
        select.appendChild (h ('option', { value: s.name }, s.name));
    }
  }).catch (e => { if (!destroyed) msg.appendChild (errorBox (e, 'Streams')); });

  charts = CHARTS.map (c => {
    const cell = h ('div');
    grid.appendChild (cell);
    return chart (cell, { title: c.title, unit: c.unit, window: win, series: c.labels.map (l => ({ label: l })) });
  });

  const pick = (figs) => {
    if (!figs)
      return null;
    if (!stream)
      return figs.total || null;
    return (figs.streams && figs.streams[stream]) || null;
  };

  const showTiles = () => {
    for (const [, key, how, unit] of TILES) {
      let v = null;
      const vals = recent.map (r => r[key]).filter (x => typeof x === 'number');
      if (vals.length) {
        if (how === 'avg')
          v = vals.reduce ((a, b) => a + b, 0) / vals.length;
        else if (how === 'last')
          v = vals[vals.length - 1];
        else
          v = [...vals].reverse ().find (x => x > 0) || 0;
      }
      tileVals[key].textContent = v === null ? '—' : fmtNum (how === 'avg' ? Math.round (v * 100) / 100 : v) + (unit ? ' ' + unit : '');
    }
  };

  // one second's figures (one number each) → charts and tiles
  const point = (t, f) => {
    f = f || {};
    CHARTS.forEach ((c, i) => charts[i].push (t, c.keys.map (k => typeof f[k] === 'number' ? f[k] : null)));
    recent.push (f);
    if (recent.length > AVG)
      recent = recent.slice (-AVG);
    showTiles ();
  };

  // a series answer (arrays per figure) → all the charts at once
  const series = (s) => {
    const figs = pick (s) || {};
    const n = s.seconds || 0;
    const xs = [];
    for (let i = 0; i < n; i++)
      xs.push (s.now - n + 1 + i);
    CHARTS.forEach ((c, i) => charts[i].setData (xs, c.keys.map (k =>
      Array.isArray (figs[k]) ? figs[k] : xs.map (() => null))));
    if (autoWin)
      setWindow (fittingWindow (figs, n));
    recent = [];
    for (let i = Math.max (0, n - AVG); i < n; i++) {
      const one = {};
      for (const k of Object.keys (figs))
        one[k] = Array.isArray (figs[k]) ? figs[k][i] : null;
      recent.push (one);
    }
    showTiles ();
  };

  const setConn = (state, text) => {
    conn.className = 'conn conn-' + state;
    conn.textContent = text;
  };

  const loadHour = async () => {
    try {
      const s = await api.get ('/stats', statsQuery (3600));
      if (!destroyed) {
        fill (msg);
        series (s);
      }
      return true;
    } catch (e) {
      if (!destroyed)
        fill (msg, errorBox (e, 'Figures'));
      return false;
    }
  };

  const startPolling = () => {
    setConn ('live', 'live (polling)');
    let last = 0;
    poll = setInterval (async () => {
      try {
        const s = await api.get ('/stats', statsQuery (5));
        if (destroyed)
          return;
        const figs = pick (s) || {};
        for (let i = 0; i < s.seconds; i++) {
          const t = s.now - s.seconds + 1 + i;
          if (t < last)
            continue;
          const one = {};
          for (const k of Object.keys (figs))
            one[k] = figs[k][i];
          point (t, one);
        }
        last = s.now;
        setConn ('live', 'live (polling)');
      } catch (e) {
        setConn ('reconnecting', 'reconnecting… (' + e.message + ')');
      }
    }, 1000);
  };

  (async () => {
    await loadHour ();
    if (destroyed)
      return;
    feed = api.live ({ figures: 1 }, (name, data) => {
      if (destroyed)
        return;
      if (name === 'state') {
        if (data.state === 'live') {
          setConn ('live', 'live');
          if (reloads++ > 0)
            loadHour ();
        } else if (data.state === 'connecting') {
          setConn ('connecting', 'connecting…');
        } else if (data.state === 'reconnecting') {
          setConn ('reconnecting', 'reconnecting in ' + Math.round (data.retry_in_ms / 1000) + ' s…' +
            (data.error ? ' (' + data.error.message + ')' : ''));
        } else if (data.state === 'stopped') {
          if (data.error && (data.error.status === 404 || data.error.status === 405)) {
            startPolling ();
          } else {
            setConn ('stopped', 'stopped');
            fill (msg, errorBox (data.error, 'Live figures'));
          }
        }
      } else if (name === 'figures') {
        const f = pick (data);
        point (data.now, f || zeroFigures ());
      } else if (name === 'error') {
        fill (msg, errorBox (data.error || data, 'Live figures'));
      }
    });
  }) ();

  return {
    destroy () {
      destroyed = true;
      if (feed)
        feed.close ();
      clearInterval (poll);
      charts.forEach (c => c.destroy ());
    }
  };
}

// a stream without traffic in that second is absent from the feed
function zeroFigures () {
  const z = {};
  for (const c of CHARTS)
    for (const k of c.keys)
      z[k] = 0;
  return z;
}
