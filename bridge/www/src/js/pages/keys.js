// Producers and API keys (#/keys): create a key (its secret shown once,
// with a copy button), the org's keys with role, streams, created, last
// used and requests per minute (asked again every 5 s), revoke with
// confirmation. A producer is a key with the producer role: the ones made
// with POST /producers or `eventflow apikeys create` are listed here too.

import { field, select, poll, adminOnly, isAdmin } from './ops-lib.js';

const ROLES = [
  ['producer', 'producer: publishes events'],
  ['consumer', 'consumer: reads and consumes'],
  ['admin', 'admin: everything in the org']
];

export function render (root, params, ctx) {
  const { api, ui } = ctx;
  const { h, fill } = ui;

  fill (root, h ('h1', null, 'Producers and API keys'));
  if (!isAdmin (ctx)) {
    root.appendChild (adminOnly ('Managing API keys', ctx.user));
    return { destroy () {} };
  }
  root.appendChild (h ('p', { class: 'muted' },
    'Producers and consumers send an API key with each request (header X-API-Key). ',
    'A key\'s secret is shown once, when it is created; a revoked key is refused from its next request on.'));

  // --- create --------------------------------------------------------------
  const name = h ('input', { type: 'text', required: true, maxlength: '128', autocomplete: 'off' });
  const role = select (ROLES, 'producer');
  const streams = h ('input', { type: 'text', autocomplete: 'off', placeholder: 'orders, payments' });
  const createBtn = h ('button', { type: 'submit', class: 'primary' }, 'Create key');
  const formErr = h ('div', { 'aria-live': 'polite' });
  const created = h ('div', { class: 'key-once-slot' });
  const form = h ('form', { class: 'panel', 'aria-labelledby': 'keys-create-h' },
    h ('h2', { id: 'keys-create-h' }, 'Create a key'),
    h ('div', { class: 'row' },
      field ('Name', name),
      field ('Role', role),
      field ('Streams', streams, 'Names separated by commas; empty: every stream of the org.')),
    formErr,
    h ('div', { class: 'actions' }, createBtn));
  form.addEventListener ('submit', async (e) => {
    e.preventDefault ();
    fill (formErr);
    if (!name.value.trim ()) {
      fill (formErr, ui.errorBox ({ message: 'Give the key a name.' }));
      name.focus ();
      return;
    }
    const list = streams.value.split (',').map (s => s.trim ()).filter (Boolean);
    createBtn.disabled = true;
    try {
      const k = await api.post ('/api-keys', { name: name.value.trim (), role: role.value, streams: list });
      showSecret (k);
      name.value = '';
      streams.value = '';
      refresh ();
    } catch (ex) {
      fill (formErr, ui.errorBox (ex, 'The key was not created'));
    } finally {
      createBtn.disabled = false;
    }
  });

  function showSecret (k) {
    const code = h ('code', { class: 'secret', id: 'key-secret' }, k.api_key);
    const done = h ('button', { type: 'button', class: 'secondary' }, 'Done');
    const panel = h ('section', { class: 'key-once', 'aria-labelledby': 'key-once-h' },
      h ('h2', { id: 'key-once-h' }, 'New key “' + k.name + '” (' + k.role + ')'),
      h ('p', { class: 'warning' }, h ('strong', null, 'Copy it now: you will not see it again.'),
        ' Only a hash of it is kept.'),
      h ('div', { class: 'secret-row' }, code, ui.copyButton (k.api_key, 'Copy key')),
      h ('div', { class: 'actions' }, done));
    done.addEventListener ('click', () => {
      fill (created);
      name.focus ();
    });
    fill (created, panel);
    panel.setAttribute ('tabindex', '-1');
    panel.focus ();
  }

  // --- list ----------------------------------------------------------------
  const showRevoked = h ('input', { type: 'checkbox', id: 'keys-revoked' });
  const listEl = h ('div', { 'aria-live': 'off' });
  root.append (form, created,
    h ('section', { 'aria-labelledby': 'keys-list-h' },
      h ('div', { class: 'section-head' },
        h ('h2', { id: 'keys-list-h' }, 'Keys'),
        h ('div', { class: 'check' }, showRevoked, h ('label', { for: 'keys-revoked' }, 'Show revoked keys'))),
      listEl));
  showRevoked.addEventListener ('change', () => draw ());

  let items = null;
  let shownIds = '';
  const cells = new Map ();   // id → {used, rate}: updated in place

  const usedText = (k) => k.last_used_at === undefined ? '—' : (k.last_used_at ? ui.fmtAgo (k.last_used_at) : 'never');
  const rateText = (k) => k.requests_per_min === undefined || k.requests_per_min === null ? '—' : ui.fmtNum (k.requests_per_min);

  // the keys shown: the active ones (and the revoked on demand, after
  // them), newest first
  const shownRows = () => items.filter (k => showRevoked.checked || !k.revoked_at)
    .sort ((a, b) => (a.revoked_at ? 1 : 0) - (b.revoked_at ? 1 : 0) || (a.created_at < b.created_at ? 1 : -1));

  function draw () {
    if (!items)
      return;
    const rows = shownRows ();
    shownIds = rows.map (k => k.id + (k.revoked_at ? 'r' : '')).join (',');
    cells.clear ();
    const cols = [
      { label: 'Name', rowHeader: true, render: k => k.name },
      { label: 'Key id', render: k => h ('code', null, k.id) },
      { label: 'Role', render: k => h ('span', { class: 'badge' }, k.role) },
      { label: 'Streams', render: k => k.streams && k.streams.length ? k.streams.join (', ') : 'all' },
      { label: 'Created', render: k => h ('time', { datetime: k.created_at }, ui.fmtTime (k.created_at)) },
      {
        label: 'Last used',
        render: k => {
          const el = h ('span', null, usedText (k));
          cells.set (k.id, Object.assign (cells.get (k.id) || {}, { used: el }));
          return el;
        }
      },
      {
        label: 'Requests/min',
        numeric: true,
        render: k => {
          const el = h ('span', null, rateText (k));
          cells.set (k.id, Object.assign (cells.get (k.id) || {}, { rate: el }));
          return el;
        }
      },
      {
        label: 'Status',
        render: k => k.revoked_at
          ? h ('span', { class: 'status status-revoked' }, 'revoked ' + ui.fmtTime (k.revoked_at))
          : h ('span', { class: 'status status-active' }, 'active')
      },
      {
        label: 'Actions',
        render: k => k.revoked_at ? '' : h ('button', {
          type: 'button',
          class: 'danger small',
          'aria-label': 'Revoke ' + k.name,
          'on:click': () => revoke (k)
        }, 'Revoke')
      }
    ];
    fill (listEl, ui.table (cols, rows, {
      label: 'API keys',
      caption: rows.length + (rows.length === 1 ? ' key' : ' keys') + (showRevoked.checked ? '' : ' (active)'),
      empty: 'No keys yet: create one above.'
    }));
  }

  async function revoke (k) {
    const yes = await ui.confirmDialog ('Revoke the key “' + k.name + '”?',
      'Requests with this key are refused from the next one on (401). This cannot be undone: a new key would have to be created and given out.',
      'Revoke key');
    if (!yes)
      return;
    try {
      await api.del ('/api-keys/' + encodeURIComponent (k.id));
      ui.toast ('Revoked the key “' + k.name + '”', 'ok');
      await refresh ();
      focusList ();
    } catch (ex) {
      ui.toast ('The key was not revoked: ' + ui.errorText (ex), 'error');
    }
  }

  // the button pressed is gone with its row: focus goes to the list
  const focusList = () => {
    const r = listEl.querySelector ('[role="region"]');
    if (r)
      r.focus ();
  };

  let failed = false;
  async function refresh () {
    try {
      const r = await api.get ('/api-keys');
      items = (r && r.items) || [];
      failed = false;
    } catch (ex) {
      if (ex.status === 403) {
        fill (root, h ('h1', null, 'Producers and API keys'), adminOnly ('Managing API keys', ctx.user));
        timer.stop ();
        return;
      }
      if (!failed)
        fill (listEl, ui.errorBox (ex, 'The keys could not be listed'));
      failed = true;
      return;
    }
    const ids = shownRows ().map (k => k.id + (k.revoked_at ? 'r' : '')).join (',');
    if (ids !== shownIds || !listEl.querySelector ('table')) {
      draw ();
      return;
    }
    for (const k of items) { // the same keys: only the live figures change
      const c = cells.get (k.id);
      if (!c)
        continue;
      if (c.used && c.used.textContent !== usedText (k))
        c.used.textContent = usedText (k);
      if (c.rate && c.rate.textContent !== rateText (k))
        c.rate.textContent = rateText (k);
    }
  }

  fill (listEl, h ('p', { class: 'muted' }, 'Loading…'));
  const timer = poll (refresh, 5000);
  return { destroy () { timer.stop (); } };
}
