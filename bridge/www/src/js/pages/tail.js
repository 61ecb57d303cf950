// Live tail (#/tail/<stream>?type=…&where=…): the stream's newest matching
// events, then each new one as it arrives, newest at the top (the newest
// 500 kept), from the live feed (GET /api/v1/live?stream=…). Pause keeps
// the feed open and counts what arrives; Resume shows it. The connection's
// state is always on screen: connecting, live, reconnecting (with the
// reason), stopped (with the error). Every filter, payload predicates
// too, goes to the feed: the broker judges them as it reads the stream.

import { h, fill, errorBox, tableRow, scrollRegion, fmtNum } from '../ui.js';
import { filterForm, apiFilters } from '../filters.js';
import { eventColumns } from './explorer.js';

const KEEP = 500;
const SEED = 20;

export function render (root, params, ctx) {
  return params.id ? renderTail (root, params.id, params.query, ctx) : renderPick (root, ctx);
}

function renderPick (root, ctx) {
  const sel = h ('select', { id: 'tail-stream' });
  const out = h ('div');
  const form = h ('form', { class: 'row', 'aria-label': 'Choose a stream' },
    h ('div', { class: 'field' }, h ('label', { for: 'tail-stream' }, 'Stream'), sel),
    h ('button', { type: 'submit', class: 'primary' }, 'Open tail'));
  form.addEventListener ('submit', (e) => {
    e.preventDefault ();
    if (sel.value)
      ctx.navigate ('#/tail/' + encodeURIComponent (sel.value));
  });
  fill (root, h ('h1', null, 'Live tail'), h ('p', null, 'Watch a stream\'s new events as they arrive.'), form, out);
  ctx.api.get ('/streams').then (r => {
    fill (sel, ((r && r.items) || []).map (s => h ('option', { value: s.name }, s.name)));
  }).catch (e => fill (out, errorBox (e, 'Streams')));
  return { destroy () {} };
}

function renderTail (root, stream, q, ctx) {
  const { api } = ctx;
  let destroyed = false;
  let feed = null;
  let paused = false;
  let held = [];          // arrived while paused, oldest first
  let heldCount = 0;
  const shown = new Set ();
  const names = {};
  let columns = eventColumns (names, { stream: false });

  const conn = h ('span', { class: 'conn conn-connecting' }, 'connecting…');
  const connBox = h ('div', { role: 'status', 'aria-live': 'polite' }, conn);
  const problem = h ('div');
  const pauseBtn = h ('button', { type: 'button', 'aria-pressed': 'false' }, 'Pause');
  const clearBtn = h ('button', { type: 'button', class: 'secondary' }, 'Clear list');
  const pausedNote = h ('p', { class: 'notice', hidden: true, role: 'status' });
  const count = h ('span', { class: 'muted small' });
  const tbody = h ('tbody');
  const thead = h ('thead', null, h ('tr', null, columns.map (c => h ('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.label))));
  const empty = h ('tr', null, h ('td', { colspan: columns.length, class: 'empty' }, 'Waiting for events…'));
  tbody.appendChild (empty);
  const tbl = scrollRegion (h ('table', { 'aria-label': 'Events of ' + stream + ', newest first' }, thead, tbody),
    'Live events');

  const form = filterForm ({
    idPrefix: 'tl', query: q, fields: ['type', 'source', 'status'], submitLabel: 'Apply filters',
    label: 'Tail filters',
    onSubmit: (p) => ctx.navigate ('#/tail/' + encodeURIComponent (stream) + (p.toString () ? '?' + p.toString () : ''))
  });
  const enc = encodeURIComponent (stream);
  const active = ['type', 'source', 'status'].filter (k => q.get (k)).length + q.getAll ('where').length;
  fill (root,
    h ('div', { class: 'page-head' }, h ('h1', null, 'Live tail of ' + stream), connBox),
    h ('p', { class: 'row' },
      h ('a', { href: '#/streams/' + enc }, 'Stream ' + stream),
      h ('a', { href: '#/events?stream=' + enc }, 'Search its events'),
      h ('a', { href: '#/tail' }, 'Another stream')),
    h ('details', { class: 'filters-box', open: active > 0 },
      h ('summary', null, active ? 'Filters (' + active + ' active)' : 'Filters'), form.el),
    problem,
    h ('div', { class: 'actions' }, pauseBtn, clearBtn, count),
    pausedNote, tbl);

  const showCount = () => {
    count.textContent = fmtNum (shown.size) + ' shown (the newest ' + KEEP + ' are kept)';
  };
  showCount ();

  const add = (evs, fresh) => {
    // evs oldest first: each goes on top
    for (const ev of evs) {
      if (!ev || shown.has (ev.event_id))
        continue;
      if (empty.isConnected)
        empty.remove ();
      const tr = tableRow (columns, ev, 0, fresh ? { rowClass: () => 'fresh' } : null);
      tr.dataset.id = ev.event_id;
      tbody.insertBefore (tr, tbody.firstChild);
      shown.add (ev.event_id);
    }
    while (tbody.rows.length > KEEP) {
      const last = tbody.rows[tbody.rows.length - 1];
      shown.delete (last.dataset.id);
      last.remove ();
    }
    showCount ();
  };

  const setPaused = (p) => {
    paused = p;
    pauseBtn.textContent = p ? 'Resume' : 'Pause';
    pauseBtn.setAttribute ('aria-pressed', String (p));
    if (!p) {
      add (held, true);
      held = [];
      heldCount = 0;
    }
    showHeld ();
  };
  const showHeld = () => {
    pausedNote.hidden = !paused;
    pausedNote.textContent = 'Paused: ' + fmtNum (heldCount) + (heldCount === 1 ? ' new event' : ' new events') +
      ' arrived since' + (heldCount > KEEP ? ' (the newest ' + KEEP + ' are kept)' : '') + '. Resume to show them.';
  };
  pauseBtn.addEventListener ('click', () => setPaused (!paused));
  clearBtn.addEventListener ('click', () => {
    tbody.replaceChildren (empty);
    shown.clear ();
    showCount ();
  });

  const setConn = (state, text) => {
    conn.className = 'conn conn-' + state;
    conn.textContent = text;
  };

  const filters = apiFilters (q, ['type', 'source', 'status']);

  // new events, oldest first: shown, or held while paused
  const arrived = (evs) => {
    if (paused) {
      heldCount += evs.length;
      held = held.concat (evs).slice (-KEEP);
      showHeld ();
    } else {
      add (evs, true);
    }
  };

  (async () => {
    // the newest matching events first, then the feed from the stream's
    // head as it was before they were read (a duplicate is shown once)
    let after = null;
    try {
      const s = await api.get ('/streams/' + enc);
      after = s.last_seq;
      const r = await api.get ('/events', Object.assign ({ stream, limit: SEED }, filters));
      if (destroyed)
        return;
      const seed = ((r && r.items) || []).slice ().reverse ();
      add (seed, false);
    } catch (e) {
      if (destroyed)
        return;
      fill (problem, errorBox (e, e.status === 404 ? 'Stream' : 'Newest events'));
      if (e.status === 404) {
        setConn ('stopped', 'stopped');
        return;
      }
    }
    if (destroyed)
      return;
    const query = Object.assign ({ stream }, filters);
    if (after !== null && after !== undefined)
      query.after = after;
    feed = api.live (query, (name, data) => {
      if (destroyed)
        return;
      if (name === 'state') {
        if (data.state === 'live') {
          setConn ('live', 'live');
          fill (problem);
        } else if (data.state === 'connecting') {
          setConn ('connecting', 'connecting…');
        } else if (data.state === 'reconnecting') {
          setConn ('reconnecting', 'reconnecting in ' + Math.max (1, Math.round (data.retry_in_ms / 1000)) + ' s…');
          if (data.error && data.error.code !== 'ENDED')
            fill (problem, errorBox (data.error, 'Live feed'));
        } else if (data.state === 'stopped') {
          setConn ('stopped', 'stopped');
          const again = h ('button', { type: 'button' }, 'Try again');
          again.addEventListener ('click', () => ctx.navigate (location.hash));
          fill (problem, errorBox (data.error, 'Live feed'), again);
        }
      } else if (name === 'events') {
        arrived ((data && data.events) || []);
      } else if (name === 'error') {
        fill (problem, errorBox ((data && data.error) || data, 'Live feed'));
      }
    });
  }) ();

  return {
    destroy () {
      destroyed = true;
      if (feed)
        feed.close ();
    }
  };
}
