// Event explorer (#/events?stream=…&type=…&where=…): the filters, the
// results, and paging by `next_cursor`, for every listing (a search or
// not: each page costs the same however deep; Previous is the stack of
// cursors seen). The query is the hash, so a search is a link. One event (#/events/<id>): its fields, its payload (indented,
// with a copy button) and its life from GET /events/{id}/history:
// received, every attempt, routed copies, the end state.

import { h, fill, table, errorBox, fmtTime, fmtNum, fmtAge, copyButton } from '../ui.js';
import { filterForm, apiFilters } from '../filters.js';

const LIMITS = [10, 20, 50, 100];
const LIMIT = 50;
const PREVIEW = 90;

// cursors of the pages before this one, for Previous, per listing
let trail = { key: null, cursors: [] };

export function render (root, params, ctx) {
  return params.id ? renderEvent (root, params.id, ctx) : renderSearch (root, params, ctx);
}

// stream id → name (the events carry the id)
async function streamNames (api) {
  try {
    const r = await api.get ('/streams');
    const m = {};
    for (const s of (r && r.items) || [])
      m[s.id] = s.name;
    return m;
  } catch (e) {
    return {};
  }
}

export function payloadPreview (p) {
  let s;
  try {
    s = JSON.stringify (p);
  } catch (e) {
    s = String (p);
  }
  if (s === undefined)
    return '—';
  return s.length > PREVIEW ? s.slice (0, PREVIEW - 1) + '…' : s;
}

export function statusCell (s) {
  return h ('span', { class: 'status status-' + s }, s || '—');
}

// the columns of an event list (the explorer's results, the tail's rows)
export function eventColumns (names, opts) {
  const all = [
    { label: 'Received', render: e => h ('time', { datetime: e.received_at }, fmtTime (e.received_at)), class: 'nowrap' },
    { label: 'Stream', render: e => names[e.stream_id] || e.stream_id },
    { label: 'Seq', numeric: true, render: e => fmtNum (e.seq) },
    { label: 'Type', key: 'type' },
    { label: 'Source', key: 'source' },
    { label: 'Status', render: e => statusCell (e.status) },
    { label: 'Event', render: e => h ('a', { href: '#/events/' + encodeURIComponent (e.event_id), class: 'mono', 'aria-label': 'Event ' + e.event_id }, e.event_id.slice (0, 8) + '…') },
    { label: 'Payload', class: 'mono preview', render: e => payloadPreview (e.payload) }
  ];
  return opts && opts.stream === false ? all.filter (c => c.label !== 'Stream') : all;
}

function renderSearch (root, params, ctx) {
  const { api } = ctx;
  const q = params.query;
  let destroyed = false;
  const isSearch = q.getAll ('where').length > 0;
  const limit = LIMITS.includes (Number (q.get ('limit'))) ? Number (q.get ('limit')) : LIMIT;
  const base = new URLSearchParams (q);
  base.delete ('cursor');
  base.delete ('page');
  const key = base.toString ();
  if (trail.key !== key)
    trail = { key, cursors: [] };

  const go = (p) => ctx.navigate ('#/events' + (p.toString () ? '?' + p.toString () : ''));
  const form = filterForm ({ idPrefix: 'ex', query: q, onSubmit: (p) => {
    trail = { key: null, cursors: [] };
    if (q.get ('limit'))
      p.set ('limit', q.get ('limit'));
    go (p);
  }, label: 'Search events' });
  const results = h ('section', { 'aria-labelledby': 'ex-results', 'aria-live': 'polite', 'aria-busy': 'true' });
  fill (root, h ('h1', null, 'Events'), form.el,
    h ('h2', { id: 'ex-results' }, 'Results'), results);
  fill (results, h ('p', { class: 'muted' }, 'Searching…'));

  (async () => {
    const namesP = streamNames (api);
    namesP.then (m => { if (!destroyed) form.setStreams (Object.values (m).sort ()); });
    try {
      const eid = q.get ('event_id');
      if (eid) {
        let ev = null;
        try {
          ev = await api.get ('/events/' + encodeURIComponent (eid));
        } catch (e) {
          if (e.status !== 404)
            throw e;
        }
        const names = await namesP;
        if (destroyed)
          return;
        fill (results, ev
          ? table (eventColumns (names), [ev], { caption: 'The event with this id', label: 'Events found' })
          : h ('p', null, 'No event with the id ', h ('code', null, eid), ' in your org.'));
        results.setAttribute ('aria-busy', 'false');
        return;
      }
      const query = apiFilters (q);
      query.limit = limit;
      if (q.get ('cursor'))
        query.cursor = q.get ('cursor');
      const started = performance.now ();
      const r = await api.get ('/events', query);
      const ms = Math.round (performance.now () - started);
      const names = await namesP;
      if (destroyed)
        return;
      const items = (r && r.items) || [];
      const pager = h ('nav', { class: 'pager', 'aria-label': 'Pages of results' });
      const prev = h ('button', { id: 'ex-prev', type: 'button' }, 'Previous');
      const next = h ('button', { id: 'ex-next', type: 'button' }, 'Next');
      let note = null;
      prev.disabled = trail.cursors.length === 0 && !q.has ('cursor');
      next.disabled = !r.next_cursor;
      prev.addEventListener ('click', () => {
        const p = new URLSearchParams (base);
        const c = trail.cursors.pop ();
        if (c)
          p.set ('cursor', c);
        go (p);
      });
      next.addEventListener ('click', () => {
        trail.cursors.push (q.get ('cursor') || '');
        const p = new URLSearchParams (base);
        p.set ('cursor', r.next_cursor);
        go (p);
      });
      if (r.next_cursor && items.length < limit)
        note = h ('p', { class: 'muted small' },
          'This page stopped at the scan bound with ' + items.length + (items.length === 1 ? ' match' : ' matches') + '; Next looks further back.');
      else if (!r.next_cursor && (isSearch || q.has ('cursor')))
        note = h ('p', { class: 'muted small' }, 'The end: nothing older matches.');
      const per = h ('select', { id: 'ex-limit' }, LIMITS.map (n => h ('option', { value: n, selected: n === limit }, String (n))));
      per.addEventListener ('change', () => {
        const p = new URLSearchParams (base);
        if (Number (per.value) === LIMIT)
          p.delete ('limit');
        else
          p.set ('limit', per.value);
        trail = { key: null, cursors: [] };
        go (p);
      });
      fill (pager, prev, next,
        h ('span', { class: 'field inline' }, h ('label', { for: 'ex-limit' }, 'Per page'), per),
        h ('span', { class: 'muted small' },
        'page ' + (trail.cursors.length + 1) + ' · ' + items.length + ' shown · ' + ms + ' ms'));
      fill (results,
        table (eventColumns (names), items, {
          caption: items.length ? 'Newest first' : null,
          label: 'Events found',
          empty: isSearch ? 'No matching event on this page.' : 'No events match.'
        }),
        note, pager,
        q.get ('stream') ? h ('p', null, h ('a', { href: '#/tail/' + encodeURIComponent (q.get ('stream')) + tailQuery (q) }, 'Tail these live')) : null);
      results.setAttribute ('aria-busy', 'false');
    } catch (e) {
      if (!destroyed) {
        fill (results, errorBox (e, 'Search'));
        results.setAttribute ('aria-busy', 'false');
      }
    }
  }) ();

  return { destroy () { destroyed = true; } };
}

function tailQuery (q) {
  const p = new URLSearchParams ();
  for (const k of ['type', 'source', 'status'])
    if (q.get (k))
      p.set (k, q.get (k));
  for (const w of q.getAll ('where'))
    p.append ('where', w);
  return p.toString () ? '?' + p.toString () : '';
}

// --- one event: fields, payload, life ------------------------------------

const OUTCOME_CLASS = { done: 'ok', routed: 'ok', filtered: 'warn' };
const FOLLOW_MS = 2000;

function renderEvent (root, id, ctx) {
  const { api } = ctx;
  let destroyed = false;
  let timer = null;
  fill (root, h ('h1', null, 'Event'), h ('p', { class: 'mono' }, id), h ('p', { class: 'muted' }, 'Loading…'));

  (async () => {
    let ev;
    let hist = null;
    let histErr = null;
    try {
      [ev, hist] = await Promise.all ([
        api.get ('/events/' + encodeURIComponent (id)),
        api.get ('/events/' + encodeURIComponent (id) + '/history').catch (e => { histErr = e; return null; })
      ]);
    } catch (e) {
      if (!destroyed)
        fill (root, h ('h1', null, 'Event'), h ('p', { class: 'mono' }, id), errorBox (e),
          h ('p', null, h ('a', { href: '#/events' }, 'Search events')));
      return;
    }
    const names = await streamNames (api);
    if (destroyed)
      return;
    const sname = names[ev.stream_id] || ev.stream_id;
    const ctxo = ev.context || {};
    const facts = h ('dl', { class: 'facts' },
      fact ('Event id', h ('code', null, ev.event_id)),
      fact ('Stream', h ('a', { href: '#/streams/' + encodeURIComponent (sname) }, sname)),
      fact ('Seq', fmtNum (ev.seq)),
      fact ('Type', ev.type),
      fact ('Version', ev.version),
      fact ('Source', ev.source || '—'),
      fact ('Status', statusCell (ev.status)),
      fact ('Attempts', fmtNum (ev.attempts)),
      fact ('Occurred', fmtTime (ev.occurred_at)),
      fact ('Received', fmtTime (ev.received_at)),
      fact ('Processed', fmtTime (ev.processed_at)),
      fact ('Last error', ev.last_error || '—'),
      fact ('API key', ev.api_key_id ? h ('code', null, ev.api_key_id) : '—'),
      fact ('Trace id', ctxo.trace_id ? h ('code', null, ctxo.trace_id) : '—'),
      fact ('Correlation id', ctxo.correlation_id ? h ('code', null, ctxo.correlation_id) : '—'),
      fact ('Request id', ctxo.request_id ? h ('code', null, ctxo.request_id) : '—'));
    const pretty = JSON.stringify (ev.payload, null, 2);
    const payload = h ('section', null,
      h ('div', { class: 'page-head' }, h ('h2', { id: 'ev-payload' }, 'Payload'), copyButton (pretty, 'Copy payload')),
      h ('pre', { class: 'json', tabindex: '0', role: 'region', 'aria-labelledby': 'ev-payload' }, pretty));
    const result = ev.result !== null && ev.result !== undefined
      ? h ('section', null,
        h ('h2', { id: 'ev-result' }, 'Result'),
        h ('pre', { class: 'json', tabindex: '0', role: 'region', 'aria-labelledby': 'ev-result' }, JSON.stringify (ev.result, null, 2)))
      : null;
    const life = h ('section', { 'aria-labelledby': 'ev-life' }, h ('h2', { id: 'ev-life' }, 'Life'));
    fill (root,
      h ('div', { class: 'page-head' }, h ('h1', null, 'Event ' + ev.event_id.slice (0, 8) + '…'),
        h ('span', { class: 'row' },
          h ('a', { href: '#/events?stream=' + encodeURIComponent (sname) }, 'Events of ' + sname),
          copyButton (ev.event_id, 'Copy event id'))),
      h ('div', { class: 'event-top' },
        h ('section', { 'aria-labelledby': 'ev-fields' }, h ('h2', { id: 'ev-fields' }, 'Fields'), facts),
        h ('div', null, payload, result, life)));
    let list = await lifeList (api, ev, hist, histErr, names);
    if (destroyed)
      return;
    life.appendChild (list);
    // while its pipeline runs, follow it
    const follow = async () => {
      if (destroyed)
        return;
      try {
        const [e2, h2] = await Promise.all ([
          api.get ('/events/' + encodeURIComponent (id)),
          api.get ('/events/' + encodeURIComponent (id) + '/history').catch (() => null)
        ]);
        if (destroyed)
          return;
        const next = await lifeList (api, e2, h2, null, names);
        if (destroyed)
          return;
        list.replaceWith (next);
        list = next;
        ev = e2;
      } catch (e) { /* shown as it was; the next turn tries again */ }
      if (ev.status === 'PENDING' && !destroyed)
        timer = setTimeout (follow, FOLLOW_MS);
    };
    if (ev.status === 'PENDING')
      timer = setTimeout (follow, FOLLOW_MS);
  }) ();

  return { destroy () { destroyed = true; clearTimeout (timer); } };
}

function fact (k, v) {
  return [h ('dt', null, k), h ('dd', null, v === null || v === undefined || v === '' ? '—' : v)];
}

async function lifeList (api, ev, hist, histErr, names) {
  const items = [];
  const sname = names[ev.stream_id] || ev.stream_id;
  items.push (h ('li', { class: 'ok' },
    h ('strong', null, 'Received'), ' into ', sname, ' as seq ', fmtNum (ev.seq),
    h ('div', { class: 'when' }, fmtTime (ev.received_at),
      ev.occurred_at && ev.occurred_at !== ev.received_at ? ' (occurred ' + fmtTime (ev.occurred_at) + ')' : '')));
  if (histErr) {
    items.push (h ('li', null, errorBox (histErr, 'History')));
  } else if (hist) {
    if (hist.dropped > 0)
      items.push (h ('li', null, h ('span', { class: 'muted' }, fmtNum (hist.dropped) + ' older attempts were not kept (the newest 32 are).')));
    for (const a of hist.history || [])
      items.push (attemptItem (a, names));
  }
  const status = (hist && hist.status) || ev.status;
  items.push (await endItem (api, ev, status));
  return h ('ol', { class: 'life' }, items);
}

function attemptItem (a, names) {
  const cls = OUTCOME_CLASS[a.outcome] || (a.outcome ? 'bad' : '');
  const details = [
    a.worker ? ['worker', h ('code', null, a.worker)] : null,
    a.service ? ['service', a.service] : null,
    ['started', fmtTime (a.started_at)],
    ['took', fmtAge (a.duration_ms)]
  ].filter (Boolean);
  const routed = a.routed_event_id
    ? h ('div', null, 'Routed copy: ',
      h ('a', { href: '#/events/' + encodeURIComponent (a.routed_event_id) },
        'event ' + a.routed_event_id.slice (0, 8) + '… in ' + (names[a.routed_stream_id] || a.routed_stream_id || 'another stream')))
    : null;
  return h ('li', { class: cls },
    h ('strong', null, 'Step ' + a.step + ' · ' + a.kind), ' ',
    h ('span', { class: 'status status-' + a.outcome }, a.outcome),
    h ('div', { class: 'when' }, details.map (([k, v], i) => [i ? ' · ' : '', k + ' ', v])),
    a.error ? h ('div', null, 'Error: ', h ('code', null, a.error)) : null,
    routed);
}

async function endItem (api, ev, status) {
  if (status === 'PROCESSED')
    return h ('li', { class: 'ok' }, h ('strong', null, 'Processed'),
      h ('div', { class: 'when' }, fmtTime (ev.processed_at)));
  if (status === 'FILTERED')
    return h ('li', { class: 'warn' }, h ('strong', null, 'Filtered'), ': a filter step let it go',
      ev.processed_at ? h ('div', { class: 'when' }, fmtTime (ev.processed_at)) : null);
  if (status === 'FAILED') {
    let inDlq = null;
    try {
      await api.get ('/dlq/' + encodeURIComponent (ev.event_id));
      inDlq = true;
    } catch (e) {
      inDlq = e.status === 404 ? false : null;
    }
    return h ('li', { class: 'bad' }, h ('strong', null, 'Failed'),
      ev.last_error ? [': ', h ('code', null, ev.last_error)] : null,
      h ('div', null, inDlq === true
        ? h ('a', { href: '#/dlq/' + encodeURIComponent (ev.event_id) }, 'In the dead-letter queue: open it there')
        : inDlq === false ? 'Not in the dead-letter queue (replayed or deleted).'
          : h ('a', { href: '#/dlq/' + encodeURIComponent (ev.event_id) }, 'Look for it in the dead-letter queue')));
  }
  return h ('li', { class: 'warn' }, h ('strong', null, 'Pending'), ': still in its pipeline (' + fmtNum (ev.attempts) + ' attempts so far)',
    ev.last_error ? h ('div', null, 'Last error: ', h ('code', null, ev.last_error)) : null,
    h ('div', { class: 'when' }, 'This page follows it until it ends.'));
}
