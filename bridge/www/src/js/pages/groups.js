// Consumer groups (#/groups, #/groups/<stream>): without a stream, every
// stream with its groups' count and worst lag; with one, its groups with
// committed offset, lag, members and their leases, asked again every
// second, a chart of each group's lag sampled while the page is open, and
// seek (earliest, latest, a time, an event id) behind a confirmation.

import { field, poll, timeValue, shortId } from './ops-lib.js';

export function render (root, params, ctx) {
  const stream = params && params.id ? params.id : null;
  return stream ? renderStream (root, stream, ctx) : renderAll (root, ctx);
}

function streamPicker (ctx, streams, current) {
  const { h } = ctx.ui;
  const sel = h ('select', { id: 'groups-stream' },
    current ? null : h ('option', { value: '', selected: true }, 'Choose a stream'),
    streams.map (s => h ('option', { value: s.name, selected: s.name === current }, s.name)));
  sel.addEventListener ('change', () => {
    if (sel.value)
      ctx.navigate ('#/groups/' + encodeURIComponent (sel.value));
  });
  return field ('Stream', sel);
}

// --- every stream ------------------------------------------------------------

function renderAll (root, ctx) {
  const { api, ui } = ctx;
  const { h, fill } = ui;
  let gone = false;
  const body = h ('div');
  fill (root, h ('h1', null, 'Consumer groups'),
    h ('p', { class: 'muted' }, 'A group reads a stream at its own pace: its committed offset is the last event it acknowledged, its lag the events stored after it.'),
    body);
  (async () => {
    const list = await ui.load (body, () => api.get ('/streams'), 'The streams could not be listed');
    if (!list || gone)
      return;
    const streams = (list.items || []).slice (0, 100);
    const groups = await Promise.all (streams.map (s =>
      api.get ('/streams/' + encodeURIComponent (s.name) + '/consumer-groups').then (r => r.items || [], () => null)));
    if (gone)
      return;
    const rows = streams.map ((s, i) => ({ s, g: groups[i] }));
    fill (body, streamPicker (ctx, streams, null),
      ui.table ([
        { label: 'Stream', rowHeader: true, render: r => h ('a', { href: '#/groups/' + encodeURIComponent (r.s.name) }, r.s.name) },
        { label: 'Groups', numeric: true, render: r => r.g ? ui.fmtNum (r.g.length) : '—' },
        { label: 'Worst lag', numeric: true, render: r => r.g && r.g.length ? ui.fmtNum (Math.max (...r.g.map (g => g.lag))) : '—' },
        { label: 'Groups by name', render: r => r.g && r.g.length ? r.g.map (g => g.group).join (', ') : 'none' }
      ], rows, { label: 'Streams and their consumer groups', caption: 'Streams and their consumer groups', empty: 'No streams yet.' }));
  }) ();
  return { destroy () { gone = true; } };
}

// --- one stream --------------------------------------------------------------

function renderStream (root, stream, ctx) {
  const { api, ui } = ctx;
  const { h, fill } = ui;
  const path = '/streams/' + encodeURIComponent (stream) + '/consumer-groups';
  const picker = h ('div');
  const status = h ('div', { 'aria-live': 'polite' });
  const tableEl = h ('div');
  const chartEl = h ('div', { class: 'chart-slot' });
  const leasesEl = h ('div');
  const seekEl = h ('div');
  fill (root,
    h ('h1', null, 'Consumer groups of ', h ('span', { class: 'mono' }, stream)),
    picker, status,
    h ('section', { 'aria-labelledby': 'groups-h' }, h ('h2', { id: 'groups-h' }, 'Groups'), tableEl),
    seekEl,
    h ('section', { 'aria-labelledby': 'lag-h' }, h ('h2', { id: 'lag-h' }, 'Lag over time'),
      h ('p', { class: 'muted small' }, 'Sampled every second while this page is open.'), chartEl),
    h ('section', null, h ('h2', null, 'Members and leases'), leasesEl));

  api.get ('/streams').then (r => fill (picker, streamPicker (ctx, r.items || [], stream)), () => {});

  // lag samples, kept here so a chart rebuilt for a new set of groups
  // keeps what was seen
  const xs = [];
  const lags = new Map ();   // group → [lag per sample]
  let chart = null;
  let chartGroups = '';
  let shown = '';             // the group names the table shows
  const cells = new Map ();   // group → {offset, lag, members}
  let items = [];

  const offsetText = (g) => g.committed_offset ? shortId (g.committed_offset) : 'start of the stream';

  function drawTable () {
    cells.clear ();
    shown = items.map (g => g.group).join ('\n');
    const cell = (g, k, text) => {
      const el = h ('span', null, text);
      cells.set (g.group, Object.assign (cells.get (g.group) || {}, { [k]: el }));
      return el;
    };
    fill (tableEl, ui.table ([
      { label: 'Group', rowHeader: true, render: g => g.group },
      { label: 'Committed offset', render: g => cell (g, 'offset', offsetText (g)) },
      { label: 'Lag', numeric: true, render: g => cell (g, 'lag', ui.fmtNum (g.lag)) },
      { label: 'Members', numeric: true, render: g => cell (g, 'members', ui.fmtNum (g.members)) },
      {
        label: 'Actions',
        render: g => h ('button', {
          type: 'button', class: 'secondary small', 'aria-label': 'Seek ' + g.group,
          'on:click': () => openSeek (g.group)
        }, 'Seek…')
      }
    ], items, { label: 'Consumer groups', caption: items.length + (items.length === 1 ? ' group' : ' groups'), empty: 'No consumer group reads this stream yet.' }));
  }

  function updateCells () {
    for (const g of items) {
      const c = cells.get (g.group);
      if (!c)
        continue;
      const set = (el, t) => { if (el && el.textContent !== t) el.textContent = t; };
      set (c.offset, offsetText (g));
      set (c.lag, ui.fmtNum (g.lag));
      set (c.members, ui.fmtNum (g.members));
    }
  }

  function drawLeases () {
    const rows = [];
    for (const g of items) {
      for (const m of g.members_detail || [])
        rows.push (Object.assign ({ group: g.group }, m));
    }
    const known = items.some (g => Array.isArray (g.members_detail));
    fill (leasesEl, ui.table ([
      { label: 'Group', rowHeader: true, key: 'group' },
      { label: 'Member', render: r => h ('code', null, r.consumer_id) },
      { label: 'From seq', numeric: true, render: r => ui.fmtNum (r.from_seq) },
      { label: 'To seq', numeric: true, render: r => ui.fmtNum (r.to_seq) },
      { label: 'Lease expires in', numeric: true, render: r => ui.fmtAge (r.expires_in_ms) }
    ], rows, { label: 'Members and leases', empty: known || !items.length ? 'No open leases.' : 'Leases are not reported by this broker (members: see the count above).' }));
  }

  function sample () {
    const t = Date.now () / 1000;
    xs.push (t);
    const names = items.map (g => g.group);
    for (const n of names) {
      if (!lags.has (n))
        lags.set (n, xs.slice (0, -1).map (() => null));
    }
    for (const [n, a] of lags)
      a.push (names.includes (n) ? items.find (g => g.group === n).lag : null);
    if (xs.length > 3600) {
      xs.shift ();
      for (const a of lags.values ())
        a.shift ();
    }
    const keys = [...lags.keys ()].slice (0, 8);
    if (!keys.length)
      return;
    if (keys.join ('\n') !== chartGroups) {
      if (chart)
        chart.destroy ();
      chartGroups = keys.join ('\n');
      chart = ui.chart (chartEl, { title: 'Lag (events) of each group', series: keys.map (k => ({ label: k })) });
    }
    if (xs.length > 1) // one point has no time axis to speak of
      chart.setData (xs, keys.map (k => lags.get (k)));
  }

  let failed = false;
  async function refresh () {
    try {
      const r = await api.get (path);
      items = (r && r.items) || [];
      if (failed)
        fill (status);
      failed = false;
    } catch (ex) {
      if (!failed) // the first answer: in place of the table; later: above it
        fill (tableEl.querySelector ('table') ? status : tableEl, ui.errorBox (ex, 'The groups could not be read'));
      failed = true;
      return;
    }
    if (items.map (g => g.group).join ('\n') !== shown || !tableEl.querySelector ('table'))
      drawTable ();
    else
      updateCells ();
    drawLeases ();
    sample ();
  }

  // --- seek --------------------------------------------------------------
  function openSeek (group) {
    const name = 'seek-to';
    const radio = (value, label, checked) => {
      const id = 'seek-' + value;
      return h ('div', { class: 'check' },
        h ('input', { type: 'radio', name, id, value, checked: !!checked }),
        h ('label', { for: id }, label));
    };
    const when = h ('input', { type: 'datetime-local', step: '1' });
    const eventId = h ('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: '019…', maxlength: '64' });
    const err = h ('div', { 'aria-live': 'polite' });
    const cancel = h ('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const form = h ('form', { class: 'panel seek', 'aria-labelledby': 'seek-h' },
      h ('h2', { id: 'seek-h', tabindex: '-1' }, 'Seek the group “' + group + '”'),
      h ('fieldset', null,
        h ('legend', null, 'Move the committed offset to'),
        radio ('earliest', 'Earliest: replay the whole stream', true),
        radio ('latest', 'Latest: skip everything stored'),
        radio ('time', 'A time: the first event received at or after it'),
        radio ('event', 'An event: it is the next one fetched')),
      h ('div', { class: 'row' }, field ('Time', when), field ('Event id', eventId)),
      err,
      h ('div', { class: 'actions' }, cancel, h ('button', { type: 'submit', class: 'primary' }, 'Seek')));
    const choice = () => form.querySelector ('input[name="' + name + '"]:checked').value;
    when.addEventListener ('input', () => { form.querySelector ('#seek-time').checked = true; });
    eventId.addEventListener ('input', () => { form.querySelector ('#seek-event').checked = true; });
    cancel.addEventListener ('click', () => fill (seekEl));
    form.addEventListener ('submit', async (e) => {
      e.preventDefault ();
      fill (err);
      const c = choice ();
      let to;
      let said;
      if (c === 'earliest') {
        to = 'earliest';
        said = 'the oldest stored event: the group reads the whole stream again';
      } else if (c === 'latest') {
        to = 'latest';
        said = 'the end of the stream: the events stored now are skipped';
      } else if (c === 'time') {
        const t = timeValue (when);
        if (!t) {
          fill (err, ui.errorBox ({ message: 'Enter a time.' }));
          when.focus ();
          return;
        }
        to = { timestamp: t };
        said = 'the first event received at or after ' + ui.fmtTime (t);
      } else {
        const id = eventId.value.trim ();
        if (!id) {
          fill (err, ui.errorBox ({ message: 'Enter an event id of the stream.' }));
          eventId.focus ();
          return;
        }
        to = id;
        said = 'the event ' + id;
      }
      const yes = await ui.confirmDialog ('Seek the group “' + group + '”?',
        'Its committed offset moves to ' + said + '. Open leases are dropped; its consumers fetch from there.',
        'Seek group', { danger: false });
      if (!yes)
        return;
      try {
        const r = await api.post (path + '/' + encodeURIComponent (group) + '/seek', { to });
        ui.toast ('The group “' + group + '” now starts after ' + (r && r.committed_offset ? shortId (r.committed_offset) : 'the start of the stream'), 'ok');
        fill (seekEl);
        await refresh ();
      } catch (ex) {
        fill (err, ui.errorBox (ex, 'The group was not moved'));
      }
    });
    fill (seekEl, form);
    form.querySelector ('h2').focus ();
  }

  fill (tableEl, h ('p', { class: 'muted' }, 'Loading…'));
  const timer = poll (refresh, 1000);
  return {
    destroy () {
      timer.stop ();
      if (chart)
        chart.destroy ();
    }
  };
}
