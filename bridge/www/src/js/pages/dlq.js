// Dead letters (#/dlq, #/dlq/<event_id>): the queue filtered by stream,
// error text, event type and time (kept in the hash, so a reload or a
// link keeps them), grouped by reason with counts (a reason filters the
// list), many selected at once and replayed or deleted after a
// confirmation; one dead letter with its event's payload and its
// attempts.

import { field, adminOnly, isAdmin, timeValue, shortId } from './ops-lib.js';

const PAGE = 50;

export function render (root, params, ctx) {
  ctx.ui.fill (root);
  if (!isAdmin (ctx)) {
    root.append (ctx.ui.h ('h1', null, 'Dead letters'), adminOnly ('The dead-letter queue', ctx.user));
    return { destroy () {} };
  }
  return params && params.id ? renderOne (root, params.id, ctx) : renderList (root, params, ctx);
}

// datetime-local wants "YYYY-MM-DDTHH:MM:SS" in local time
function localInput (iso) {
  const ms = Date.parse (iso);
  if (Number.isNaN (ms))
    return '';
  const d = new Date (ms - new Date (ms).getTimezoneOffset () * 60000);
  return d.toISOString ().slice (0, 19);
}

// --- the queue ---------------------------------------------------------------

function renderList (root, params, ctx) {
  const { api, ui } = ctx;
  const { h, fill } = ui;
  const q = (params && params.query) || new URLSearchParams ();
  let page = Math.max (1, Number (q.get ('page')) || 1);
  let gone = false;

  const stream = h ('select', null, h ('option', { value: '' }, 'All streams'));
  const error = h ('input', { type: 'search', autocomplete: 'off', maxlength: '256', value: q.get ('error') || '' });
  const type = h ('input', { type: 'text', autocomplete: 'off', maxlength: '128', value: q.get ('type') || '' });
  const from = h ('input', { type: 'datetime-local', step: '1', value: q.get ('from') ? localInput (q.get ('from')) : '' });
  const to = h ('input', { type: 'datetime-local', step: '1', value: q.get ('to') ? localInput (q.get ('to')) : '' });
  const wanted = q.get ('stream') || '';
  if (wanted)
    stream.appendChild (h ('option', { value: wanted, selected: true }, wanted));
  const clear = h ('button', { type: 'button', class: 'secondary' }, 'Clear filters');
  const filters = h ('form', { class: 'panel filters', role: 'search', 'aria-label': 'Filter dead letters' },
    h ('div', { class: 'row' },
      field ('Stream', stream), field ('Error text', error), field ('Event type', type),
      field ('From', from), field ('To', to)),
    h ('div', { class: 'actions' }, clear, h ('button', { type: 'submit', class: 'primary' }, 'Apply filters')));

  const reasonsEl = h ('div', { class: 'reasons' });
  const status = h ('div', { 'aria-live': 'polite' });
  const listEl = h ('div');
  const pager = h ('div', { class: 'pager' });
  const selCount = h ('span', { class: 'muted', 'aria-live': 'polite' }, 'None selected');
  const replayBtn = h ('button', { type: 'button', class: 'primary', disabled: true }, 'Replay selected');
  const deleteBtn = h ('button', { type: 'button', class: 'danger', disabled: true }, 'Delete selected');
  const refreshBtn = h ('button', { type: 'button', class: 'secondary' }, 'Refresh');

  fill (root,
    h ('h1', null, 'Dead letters'),
    h ('p', { class: 'muted' }, 'Events whose pipeline failed for good. Replay runs one again from the step that failed, its attempts reset; delete forgets the letter (the event stays FAILED).'),
    filters,
    h ('section', { 'aria-labelledby': 'dlq-reasons-h' },
      h ('h2', { id: 'dlq-reasons-h' }, 'By reason'),
      h ('p', { class: 'muted small' }, 'Choose a reason to list its dead letters.'),
      reasonsEl),
    h ('section', { 'aria-labelledby': 'dlq-list-h' },
      h ('div', { class: 'section-head' },
        h ('h2', { id: 'dlq-list-h' }, 'Queue'),
        h ('div', { class: 'toolbar' }, selCount, replayBtn, deleteBtn, refreshBtn)),
      status, listEl, pager));

  api.get ('/streams').then (r => {
    for (const s of (r && r.items) || []) {
      if (s.name !== wanted)
        stream.appendChild (h ('option', { value: s.name }, s.name));
    }
  }, () => {});

  const selected = new Set ();
  let items = [];

  function filterQuery (withError) {
    return {
      stream: stream.value || null,
      error: withError ? error.value.trim () || null : null,
      type: type.value.trim () || null,
      from: timeValue (from),
      to: timeValue (to)
    };
  }

  // the filters in the hash, without a hashchange (no re-render)
  function keepInHash () {
    const f = filterQuery (true);
    if (page > 1)
      f.page = page;
    const qs = api.queryString ? api.queryString (f) : '';
    history.replaceState (null, '', '#/dlq' + qs);
  }

  function updateSelection () {
    const n = selected.size;
    selCount.textContent = n ? n + ' selected' : 'None selected';
    replayBtn.disabled = deleteBtn.disabled = n === 0;
    const all = listEl.querySelector ('#dlq-all');
    if (all) {
      const onPage = items.filter (d => selected.has (d.event_id)).length;
      all.checked = items.length > 0 && onPage === items.length;
      all.indeterminate = onPage > 0 && onPage < items.length;
    }
  }

  function drawList (r) {
    items = (r && r.items) || [];
    for (const id of [...selected]) {
      if (!items.some (d => d.event_id === id))
        selected.delete (id);
    }
    const all = h ('input', { type: 'checkbox', id: 'dlq-all', 'aria-label': 'Select every dead letter on this page' });
    all.addEventListener ('change', () => {
      for (const d of items) {
        if (all.checked)
          selected.add (d.event_id);
        else
          selected.delete (d.event_id);
      }
      for (const cb of listEl.querySelectorAll ('input[data-id]'))
        cb.checked = selected.has (cb.dataset.id);
      updateSelection ();
    });
    const cols = [
      {
        label: '',
        class: 'select',
        render: d => {
          const cb = h ('input', { type: 'checkbox', 'data-id': d.event_id, checked: selected.has (d.event_id), 'aria-label': 'Select ' + d.event_id });
          cb.addEventListener ('change', () => {
            if (cb.checked)
              selected.add (d.event_id);
            else
              selected.delete (d.event_id);
            updateSelection ();
          });
          return cb;
        }
      },
      { label: 'Event', render: d => h ('a', { href: '#/dlq/' + encodeURIComponent (d.event_id), title: d.event_id }, h ('code', null, shortId (d.event_id))) },
      { label: 'Stream', key: 'stream' },
      { label: 'Step', numeric: true, key: 'step' },
      { label: 'Attempts', numeric: true, key: 'attempts' },
      { label: 'Last error', class: 'wrap', key: 'last_error' },
      { label: 'Last failure', render: d => h ('time', { datetime: d.last_failure_at }, ui.fmtTime (d.last_failure_at)) }
    ];
    const t = ui.table (cols, items, {
      label: 'Dead letters',
      caption: items.length ? 'Page ' + page + ': ' + items.length + (items.length === 1 ? ' dead letter' : ' dead letters') : null,
      empty: 'No dead letters match.'
    });
    // the select-all box goes into the first header cell
    const th = t.querySelector ('thead th');
    if (th) {
      th.replaceChildren (all);
      th.classList.add ('select');
    }
    fill (listEl, t);
    const prev = h ('button', { type: 'button', class: 'secondary small', disabled: page <= 1 }, 'Previous page');
    const next = h ('button', { type: 'button', class: 'secondary small', disabled: !(r && r.has_more) }, 'Next page');
    prev.addEventListener ('click', () => { page--; reload (); });
    next.addEventListener ('click', () => { page++; reload (); });
    if (page > 1 || (r && r.has_more))
      fill (pager, prev, h ('span', { class: 'muted' }, 'Page ' + page), next);
    else
      fill (pager);
    updateSelection ();
  }

  function drawReasons (r) {
    const list = (r && r.items) || [];
    if (!list.length) {
      fill (reasonsEl, h ('p', { class: 'muted' }, 'No dead letters.'));
      return;
    }
    const current = error.value.trim ();
    fill (reasonsEl, h ('ul', { class: 'reason-list' }, list.map (x => {
      const b = h ('button', {
        type: 'button',
        class: 'reason' + (current && current === x.reason ? ' active' : ''),
        'aria-pressed': current === x.reason ? 'true' : 'false',
        title: 'Last failure ' + ui.fmtTime (x.last_failure_at)
      }, h ('span', { class: 'reason-text' }, x.reason || '(no message)'), ' ', h ('span', { class: 'count' }, ui.fmtNum (x.count)));
      b.addEventListener ('click', () => {
        error.value = current === x.reason ? '' : x.reason;
        page = 1;
        reload ();
      });
      return h ('li', null, b);
    })));
  }

  async function reload () {
    keepInHash ();
    const f = filterQuery (true);
    fill (status);
    try {
      const [list, reasons] = await Promise.all ([
        api.get ('/dlq', Object.assign ({ page, limit: PAGE }, f)),
        api.get ('/dlq/reasons', filterQuery (false)).catch (e => ({ failed: e }))
      ]);
      if (gone)
        return;
      drawList (list);
      if (reasons && reasons.failed)
        fill (reasonsEl, h ('p', { class: 'muted' }, reasons.failed.status === 404 ? 'This broker does not group dead letters by reason yet.' : 'Reasons unavailable: ' + ui.errorText (reasons.failed)));
      else
        drawReasons (reasons);
    } catch (ex) {
      if (gone)
        return;
      if (ex.status === 403) {
        fill (root, h ('h1', null, 'Dead letters'), adminOnly ('The dead-letter queue', ctx.user));
        return;
      }
      fill (status, ui.errorBox (ex, 'The dead letters could not be listed'));
    }
  }

  async function act (what) {
    const ids = [...selected];
    const n = ids.length;
    const noun = n === 1 ? 'dead letter' : 'dead letters';
    const replay = what === 'replay';
    const yes = await ui.confirmDialog (
      (replay ? 'Replay ' : 'Delete ') + n + ' ' + noun + '?',
      replay ? 'Each event runs again from the step that failed, its attempts reset, and leaves the queue.'
        : 'The letters leave the queue for good; their events stay FAILED. This cannot be undone.',
      replay ? 'Replay' : 'Delete', { danger: !replay });
    if (!yes)
      return;
    try {
      const r = await api.post (replay ? '/dlq/replay' : '/dlq/delete', { event_ids: ids });
      const done = replay ? (r && r.replayed) : (r && r.deleted);
      ui.toast ((replay ? 'Replayed ' : 'Deleted ') + (done === undefined ? n : done) + ' ' + noun, 'ok');
      selected.clear ();
      await reload ();
      const t = listEl.querySelector ('[role="region"]');
      if (t)
        t.focus ();
    } catch (ex) {
      ui.toast ((replay ? 'Not replayed: ' : 'Not deleted: ') + ui.errorText (ex), 'error');
    }
  }

  replayBtn.addEventListener ('click', () => act ('replay'));
  deleteBtn.addEventListener ('click', () => act ('delete'));
  refreshBtn.addEventListener ('click', () => reload ());
  filters.addEventListener ('submit', (e) => {
    e.preventDefault ();
    page = 1;
    reload ();
  });
  clear.addEventListener ('click', () => {
    stream.value = '';
    error.value = type.value = from.value = to.value = '';
    page = 1;
    reload ();
  });

  fill (listEl, h ('p', { class: 'muted' }, 'Loading…'));
  reload ();
  return { destroy () { gone = true; } };
}

// --- one dead letter ---------------------------------------------------------

function renderOne (root, id, ctx) {
  const { api, ui } = ctx;
  const { h, fill } = ui;
  let gone = false;
  const body = h ('div');
  fill (root,
    h ('p', null, h ('a', { href: '#/dlq' }, '← All dead letters')),
    h ('h1', null, 'Dead letter ', h ('code', { class: 'mono' }, id)),
    body);

  (async () => {
    const r = await ui.load (body, () => api.get ('/dlq/' + encodeURIComponent (id)), 'The dead letter could not be read');
    if (!r || gone)
      return;
    const d = r.dead || {};
    const ev = r.event || {};
    let history = r.history;
    let dropped = 0;
    if (!Array.isArray (history)) { // a broker without history in GET /dlq/{id}
      try {
        const hr = await api.get ('/events/' + encodeURIComponent (id) + '/history');
        history = hr.history || [];
        dropped = hr.dropped || 0;
      } catch (e) {
        history = null;
      }
    } else if (r.history_dropped) {
      dropped = r.history_dropped;
    }
    if (gone)
      return;

    const dl = h ('dl', { class: 'facts' });
    const fact = (k, v) => dl.append (h ('dt', null, k), h ('dd', null, v === null || v === undefined || v === '' ? '—' : v));
    fact ('Stream', d.stream ? h ('a', { href: '#/streams/' + encodeURIComponent (d.stream) }, d.stream) : null);
    fact ('Event type', ev.type);
    fact ('Sequence', ui.fmtNum (d.seq));
    fact ('Failed step', d.step);
    fact ('Attempts', d.attempts);
    fact ('Last error', h ('span', { class: 'wrap' }, d.last_error || '—'));
    fact ('First failure', ui.fmtTime (d.first_failure_at));
    fact ('Last failure', ui.fmtTime (d.last_failure_at));
    fact ('Status', ev.status ? h ('span', { class: 'status status-' + ev.status }, ev.status) : null);
    fact ('Received', ui.fmtTime (ev.received_at));

    const replay = h ('button', { type: 'button', class: 'primary' }, 'Replay');
    const del = h ('button', { type: 'button', class: 'danger' }, 'Delete');
    replay.addEventListener ('click', async () => {
      if (!await ui.confirmDialog ('Replay this dead letter?', 'The event runs again from step ' + d.step + ', its attempts reset, and leaves the queue.', 'Replay', { danger: false }))
        return;
      try {
        await api.post ('/dlq/' + encodeURIComponent (id) + '/replay');
        ui.toast ('Replayed ' + shortId (id), 'ok');
        ctx.navigate ('#/dlq');
      } catch (ex) {
        ui.toast ('Not replayed: ' + ui.errorText (ex), 'error');
      }
    });
    del.addEventListener ('click', async () => {
      if (!await ui.confirmDialog ('Delete this dead letter?', 'The letter leaves the queue for good; the event stays FAILED.', 'Delete'))
        return;
      try {
        await api.del ('/dlq/' + encodeURIComponent (id));
        ui.toast ('Deleted ' + shortId (id), 'ok');
        ctx.navigate ('#/dlq');
      } catch (ex) {
        ui.toast ('Not deleted: ' + ui.errorText (ex), 'error');
      }
    });

    const payload = JSON.stringify (ev.payload === undefined ? null : ev.payload, null, 2);
    const attempts = history === null
      ? h ('p', { class: 'muted' }, 'The attempts could not be read.')
      : ui.table ([
        { label: '#', numeric: true, render: (a, i) => i + 1 },
        { label: 'Step', numeric: true, key: 'step' },
        { label: 'Kind', key: 'kind' },
        { label: 'Service', key: 'service' },
        { label: 'Worker', render: a => a.worker ? h ('code', null, a.worker) : null },
        { label: 'Started', render: a => ui.fmtTime (a.started_at) },
        { label: 'Duration', numeric: true, render: a => ui.fmtAge (a.duration_ms) },
        { label: 'Outcome', render: a => h ('span', { class: 'status status-' + a.outcome }, a.outcome) },
        { label: 'Error', class: 'wrap', key: 'error' }
      ], history, { label: 'Attempts', caption: dropped ? dropped + ' older attempts are not kept' : null, empty: 'No attempts recorded.' });

    fill (body,
      h ('div', { class: 'actions' }, replay, del,
        h ('a', { href: '#/events/' + encodeURIComponent (id), class: 'button-link' }, 'The event\'s life')),
      dl,
      h ('section', { 'aria-labelledby': 'dl-payload-h' },
        h ('div', { class: 'section-head' }, h ('h2', { id: 'dl-payload-h' }, 'Payload'), ui.copyButton (payload, 'Copy payload')),
        h ('pre', { class: 'json', tabindex: '0', 'aria-labelledby': 'dl-payload-h' }, payload)),
      h ('section', null, h ('h2', null, 'Attempts'), attempts));
  }) ();
  return { destroy () { gone = true; } };
}
