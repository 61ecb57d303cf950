// Streams (#/streams): the list with events, size, rate over the last
// minute (from the stats series) and last event, and the form for a new
// stream. One stream (#/streams/<name>): its facts, the schema and
// pipeline editors, a payload test, and delete behind a confirmation
// that asks for the stream's name. The editors are checked as you type:
// locally for JSON, then (debounced) by POST /streams/check, whose errors
// are shown by path next to the editor they belong to.

import { h, fill, table, errorBox, fmtNum, fmtBytes, fmtAgo, fmtTime, toast, confirmDialog } from '../ui.js';

const CHECK_DELAY_MS = 400;
const RATE_WINDOW_S = 60;
const LIST_REFRESH_MS = 5000;

export function render (root, params, ctx) {
  return params.id ? renderOne (root, params.id, ctx) : renderList (root, params, ctx);
}

// --- the list -------------------------------------------------------------

function renderList (root, params, ctx) {
  const { api } = ctx;
  let destroyed = false;
  let timer = null;
  let editors = null;
  const listEl = h ('div');
  const createEl = h ('section', { class: 'panel', id: 'new-stream', 'aria-labelledby': 'new-stream-title', hidden: true });
  const newBtn = h ('button', { type: 'button', class: 'primary', 'aria-expanded': 'false', 'aria-controls': 'new-stream' }, 'New stream');
  const isAdmin = ctx.user && ctx.user.role === 'admin';

  newBtn.addEventListener ('click', () => {
    const open = createEl.hidden;
    createEl.hidden = !open;
    newBtn.setAttribute ('aria-expanded', String (open));
    if (open) {
      if (!editors)
        buildCreate ();
      createEl.querySelector ('input').focus ();
    }
  });

  fill (root,
    h ('div', { class: 'page-head' }, h ('h1', null, 'Streams'), isAdmin || !ctx.user ? newBtn : null),
    createEl, listEl);

  function buildCreate () {
    const nameErr = h ('ul', { class: 'editor-errors', id: 'ns-name-errors' });
    const name = h ('input', {
      id: 'ns-name', type: 'text', required: true, maxlength: 128, pattern: '[A-Za-z0-9._\\-]{1,128}',
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'ns-name-hint ns-name-errors'
    });
    editors = streamEditors (api, { name: () => name.value.trim () || null, idPrefix: 'ns' });
    const retNew = retentionFields ('ns', null);
    const general = h ('div');
    const submit = h ('button', { type: 'submit', class: 'primary' }, 'Create stream');
    const form = h ('form', { novalidate: true },
      h ('h2', { id: 'new-stream-title' }, 'New stream'),
      h ('div', { class: 'field' },
        h ('label', { for: 'ns-name' }, 'Name'), name,
        h ('span', { class: 'hint', id: 'ns-name-hint' }, 'Letters, digits, dot, underscore and dash; at most 128.'),
        nameErr),
      editors.el,
      retNew.el,
      general,
      h ('div', { class: 'actions' }, submit));
    name.addEventListener ('input', () => { fill (nameErr); name.removeAttribute ('aria-invalid'); editors.changed (); });
    form.addEventListener ('submit', async (e) => {
      e.preventDefault ();
      fill (general);
      fill (nameErr);
      const v = editors.values ();
      if (!name.value.trim ()) {
        showAt (nameErr, name, [{ path: '/name', message: 'a stream needs a name' }]);
        name.focus ();
        return;
      }
      if (!v.ok) {
        fill (general, errorBox ({ message: 'Fix the JSON of the schema or the pipeline first.' }));
        return;
      }
      const body = { name: name.value.trim () };
      if (v.schema !== undefined)
        body.schema = v.schema;
      if (v.pipeline !== undefined)
        body.pipeline = v.pipeline;
      const ret = retNew.value ();
      if (ret)
        body.retention = ret;
      submit.disabled = true;
      try {
        const s = await api.post ('/streams', body);
        toast ('Stream ' + s.name + ' created', 'ok');
        ctx.navigate ('#/streams/' + encodeURIComponent (s.name));
      } catch (ex) {
        const rest = editors.showErrors (ex.errors || []);
        const nameErrs = rest.filter (x => x.path === '/name');
        showAt (nameErr, name, nameErrs);
        fill (general, refusal (ex, rest));
      } finally {
        submit.disabled = false;
      }
    });
    fill (createEl, form, payloadTester (api, editors, 'ns'));
  }

  async function refresh (first) {
    let streams;
    let stats = null;
    try {
      [streams, stats] = await Promise.all ([
        api.get ('/streams'),
        api.get ('/stats', { seconds: RATE_WINDOW_S }).catch (() => null)
      ]);
    } catch (e) {
      if (!destroyed)
        fill (listEl, errorBox (e, 'Streams'));
      return;
    }
    if (destroyed)
      return;
    const rate = (name) => {
      const f = stats && stats.streams && stats.streams[name];
      if (!stats)
        return null;
      if (!f || !Array.isArray (f.ingested))
        return 0;
      return f.ingested.reduce ((a, b) => a + b, 0) / (stats.seconds || RATE_WINDOW_S);
    };
    const items = (streams && streams.items) || [];
    const focused = document.activeElement && listEl.contains (document.activeElement)
      ? document.activeElement.getAttribute ('href') : null;
    fill (listEl, table ([
      { label: 'Name', rowHeader: true, render: s => h ('a', { href: '#/streams/' + encodeURIComponent (s.name) }, s.name) },
      { label: 'Events', numeric: true, render: s => fmtNum (s.events) },
      { label: 'Size', numeric: true, render: s => fmtBytes (s.bytes) },
      { label: 'Rate /s (last min)', numeric: true, render: s => { const r = rate (s.name); return r === null ? '—' : fmtNum (Math.round (r * 100) / 100); } },
      { label: 'Last event', render: s => s.last_event_at === undefined || s.last_event_at === null ? '—'
        : h ('time', { datetime: new Date (toMs (s.last_event_at)).toISOString (), title: fmtTime (s.last_event_at) }, fmtAgo (s.last_event_at)) },
      { label: 'Open', render: s => h ('span', { class: 'row' },
        h ('a', { href: '#/tail/' + encodeURIComponent (s.name), 'aria-label': 'Live tail of ' + s.name }, 'Tail'),
        h ('a', { href: '#/events?stream=' + encodeURIComponent (s.name), 'aria-label': 'Events of ' + s.name }, 'Events')) }
    ], items, { caption: items.length + (items.length === 1 ? ' stream' : ' streams'), empty: 'No streams yet.', label: 'Streams' }));
    if (focused) {
      const a = listEl.querySelector ('a[href="' + CSS.escape (focused) + '"]');
      if (a)
        a.focus ();
    }
    if (first && params.query.get ('new') === '1')
      newBtn.click ();
  }

  const tick = async (first) => {
    await refresh (first);
    if (!destroyed)
      timer = setTimeout (() => tick (false), LIST_REFRESH_MS);
  };
  fill (listEl, h ('p', { class: 'muted' }, 'Loading…'));
  tick (true);

  return {
    destroy () {
      destroyed = true;
      clearTimeout (timer);
      if (editors)
        editors.destroy ();
    }
  };
}

function toMs (t) {
  return typeof t === 'number' ? t : Date.parse (t);
}

// the refusal of a save, without the errors already shown by an input
function refusal (ex, rest) {
  const others = rest.filter (x => x.path !== '/name');
  const shown = (ex.errors || []).length - others.length;
  return errorBox ({
    status: ex.status, code: ex.code, errors: others,
    message: shown > 0 && others.length === 0 ? 'Not saved: see the errors next to the fields.' : ex.message
  });
}

function showAt (list, input, errs) {
  fill (list, errs.map (x => h ('li', null, h ('code', null, x.path || '/'), ' ', x.message)));
  if (errs.length)
    input.setAttribute ('aria-invalid', 'true');
  else
    input.removeAttribute ('aria-invalid');
}

// --- the editors ------------------------------------------------------------

// Schema and pipeline textareas checked as you type. opts: {name() → the
// name to check routes and cycles against, schema, pipeline (initial
// values), idPrefix}. Answers {el, values() → {ok, schema, pipeline}
// (undefined when empty: not sent; null when emptied in an edit),
// showErrors(errors) → the ones not at /schema or /pipeline, changed(),
// destroy()}.
export function streamEditors (api, opts) {
  const p = opts.idPrefix || 'ed';
  const mk = (key, label, hint, initial) => {
    const id = p + '-' + key;
    const ta = h ('textarea', {
      id, class: 'code', rows: 12, spellcheck: 'false', autocomplete: 'off',
      'aria-describedby': id + '-hint ' + id + '-state ' + id + '-errors'
    });
    ta.value = initial === undefined || initial === null ? '' : JSON.stringify (initial, null, 2);
    const state = h ('div', { class: 'editor-state', id: id + '-state', 'aria-live': 'polite' });
    const errs = h ('ul', { class: 'editor-errors', id: id + '-errors' });
    const el = h ('div', { class: 'field' },
      h ('label', { for: id }, label),
      h ('span', { class: 'hint', id: id + '-hint' }, hint),
      ta, state, errs);
    return { key, ta, state, errs, el, local: null };
  };
  const eds = [
    mk ('schema', 'Schema', 'A JSON Schema (draft-07) every payload must match; empty for none.', opts.schema),
    mk ('pipeline', 'Pipeline', 'A JSON array of steps: filter, transform, route, worker; empty for none.', opts.pipeline)
  ];
  const general = h ('ul', { class: 'editor-errors' });
  let timer = null;
  let seq = 0;
  let noCheck = null;     // why the bridge cannot check (no route, a role)

  const parse = (ed) => {
    const text = ed.ta.value.trim ();
    if (!text)
      return { empty: true };
    try {
      return { value: JSON.parse (text) };
    } catch (e) {
      return { error: jsonError (e, ed.ta.value) };
    }
  };

  const setErrors = (ed, list, stateText, cls) => {
    fill (ed.errs, list.map (x => h ('li', null, h ('code', null, x.path || '/'), ' ', x.message)));
    if (list.length)
      ed.ta.setAttribute ('aria-invalid', 'true');
    else
      ed.ta.removeAttribute ('aria-invalid');
    ed.state.className = 'editor-state' + (cls ? ' ' + cls : '');
    ed.state.textContent = stateText;
  };

  // errors from the bridge → each to its editor; answers the others
  const showErrors = (errors) => {
    const rest = [];
    for (const ed of eds)
      ed.bridge = [];
    for (const x of errors) {
      const ed = eds.find (e => x.path === '/' + e.key || (x.path || '').startsWith ('/' + e.key + '/'));
      if (ed)
        ed.bridge.push (x);
      else
        rest.push (x);
    }
    for (const ed of eds) {
      if (ed.local)
        continue;
      const n = ed.bridge.length;
      setErrors (ed, ed.bridge, n ? n + (n === 1 ? ' error' : ' errors') : (ed.ta.value.trim () ? 'Valid' : 'None'), n ? 'invalid' : (ed.ta.value.trim () ? 'valid' : ''));
    }
    fill (general, rest.filter (x => x.path !== '/name' && !(x.path || '').startsWith ('/payload'))
      .map (x => h ('li', null, h ('code', null, x.path || '/'), ' ', x.message)));
    return rest;
  };

  const check = async () => {
    const mine = ++seq;
    const body = {};
    const name = opts.name ? opts.name () : null;
    if (name && /^[A-Za-z0-9._-]{1,128}$/.test (name))
      body.name = name;
    let any = false;
    for (const ed of eds) {
      const r = parse (ed);
      ed.local = r.error ? [r.error] : null;
      if (r.error)
        setErrors (ed, ed.local, 'Not JSON', 'invalid');
      else if (!r.empty) {
        body[ed.key] = r.value;
        any = true;
      } else {
        setErrors (ed, [], 'None', '');
      }
    }
    if (!any)
      return;
    if (noCheck) {
      for (const ed of eds)
        if (!ed.local && body[ed.key] !== undefined)
          setErrors (ed, [], 'JSON; ' + noCheck, '');
      return;
    }
    for (const ed of eds)
      if (!ed.local && body[ed.key] !== undefined)
        ed.state.textContent = 'Checking…';
    try {
      const r = await api.post ('/streams/check', body);
      if (mine !== seq)
        return;
      showErrors ((r && r.errors) || []);
    } catch (e) {
      if (mine !== seq)
        return;
      if (e.status === 404 || e.status === 405)
        noCheck = 'checked by the broker when you save';
      else if (e.status === 403)
        noCheck = 'only an admin can check it';
      else if (e.status === 422 && e.errors && e.errors.length) {
        showErrors (e.errors);
        return;
      }
      for (const ed of eds)
        if (!ed.local && body[ed.key] !== undefined)
          setErrors (ed, [], noCheck ? 'JSON; ' + noCheck : 'Could not check: ' + e.message, '');
    }
  };

  const changed = () => {
    clearTimeout (timer);
    timer = setTimeout (check, CHECK_DELAY_MS);
  };
  eds.forEach (ed => ed.ta.addEventListener ('input', changed));
  if (opts.schema || opts.pipeline)
    changed ();

  return {
    el: h ('div', null, h ('div', { class: 'editors' }, eds.map (e => e.el)), general),
    schemaText: () => eds[0].ta.value,
    values () {
      const out = { ok: true };
      for (const ed of eds) {
        const r = parse (ed);
        if (r.error) {
          out.ok = false;
          setErrors (ed, [r.error], 'Not JSON', 'invalid');
        } else if (r.empty) {
          out[ed.key] = opts.editing ? null : undefined;
        } else {
          out[ed.key] = r.value;
        }
      }
      return out;
    },
    showErrors,
    changed,
    destroy () { clearTimeout (timer); seq++; }
  };
}

// JSON.parse's message → {path, message} with a line and column when the
// engine names a position.
function jsonError (e, text) {
  const m = /position (\d+)/.exec (e.message);
  let where = '';
  if (m) {
    const pos = Number (m[1]);
    const before = text.slice (0, pos).split ('\n');
    where = ' (line ' + before.length + ', column ' + (before[before.length - 1].length + 1) + ')';
  }
  return { path: '/', message: 'not JSON: ' + e.message.replace (/^JSON\.parse: /, '') + where };
}

// "Test a payload against this schema": the schema as the editor holds it
// now, the payload typed here, POST /streams/check with both.
function payloadTester (api, editors, p) {
  const id = p + '-payload';
  const ta = h ('textarea', { id, class: 'code', rows: 6, spellcheck: 'false', 'aria-describedby': id + '-hint' });
  const out = h ('div', { 'aria-live': 'polite' });
  const btn = h ('button', { type: 'button' }, 'Test payload');
  btn.addEventListener ('click', async () => {
    fill (out);
    let payload;
    try {
      payload = JSON.parse (ta.value);
    } catch (e) {
      fill (out, errorBox ({ message: 'The payload is not JSON: ' + e.message }));
      return;
    }
    const st = editors.schemaText ().trim ();
    let schema;
    try {
      schema = st ? JSON.parse (st) : undefined;
    } catch (e) {
      fill (out, errorBox ({ message: 'The schema is not JSON: ' + e.message }));
      return;
    }
    if (schema === undefined) {
      fill (out, h ('div', { class: 'ok-box' }, 'No schema: every JSON payload is accepted.'));
      return;
    }
    btn.disabled = true;
    try {
      const r = await api.post ('/streams/check', { schema, payload });
      const errs = (r && r.errors) || [];
      const perr = errs.filter (x => (x.path || '').startsWith ('/payload'));
      if (r && r.valid && errs.length === 0)
        fill (out, h ('div', { class: 'ok-box' }, 'The payload matches the schema.'));
      else if (perr.length === 0 && errs.length)
        fill (out, errorBox ({ message: 'The schema has errors; fix them first.', errors: errs }));
      else
        fill (out, errorBox ({ message: 'The payload does not match the schema.', errors: perr }));
    } catch (e) {
      fill (out, errorBox (e, 'Test'));
    } finally {
      btn.disabled = false;
    }
  });
  return h ('div', { class: 'tester' },
    h ('h3', null, 'Test a payload against this schema'),
    h ('div', { class: 'field' },
      h ('label', { for: id }, 'Payload to test'),
      h ('span', { class: 'hint', id: id + '-hint' }, 'A JSON value, checked against the schema in the editor above (nothing is stored).'),
      ta),
    h ('div', { class: 'actions' }, btn), out);
}

// --- one stream ------------------------------------------------------------

function renderOne (root, name, ctx) {
  const { api } = ctx;
  let editors = null;
  let destroyed = false;
  const isAdmin = !ctx.user || ctx.user.role === 'admin';
  fill (root, h ('h1', null, 'Stream ' + name), h ('p', { class: 'muted' }, 'Loading…'));

  api.get ('/streams/' + encodeURIComponent (name)).then (s => {
    if (destroyed)
      return;
    const enc = encodeURIComponent (s.name);
    const facts = h ('dl', { class: 'facts' },
      fact ('Id', h ('code', null, s.id)),
      fact ('Created', fmtTime (s.created_at)),
      fact ('Events', fmtNum (s.events)),
      fact ('Size', fmtBytes (s.bytes)),
      fact ('Seq', s.events ? fmtNum (s.first_seq) + ' – ' + fmtNum (s.last_seq) : '—'),
      fact ('First seq', fmtNum (s.first_seq)),
      fact ('Retention', retentionText (s.retention)),
      fact ('Last event', s.last_event_at === undefined || s.last_event_at === null ? '—' : fmtTime (s.last_event_at) + ' (' + fmtAgo (s.last_event_at) + ')'));
    const links = h ('p', { class: 'row' },
      h ('a', { href: '#/tail/' + enc }, 'Live tail'),
      h ('a', { href: '#/events?stream=' + enc }, 'Explore events'),
      h ('a', { href: '#/overview?stream=' + enc }, 'Figures'),
      h ('a', { href: '#/groups/' + enc }, 'Consumer groups'),
      h ('a', { href: '#/streams' }, 'All streams'));

    const nameErr = h ('ul', { class: 'editor-errors', id: 'es-name-errors' });
    const nameIn = h ('input', { id: 'es-name', type: 'text', value: s.name, maxlength: 128, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'es-name-errors' });
    // only an admin edits (and may ask the broker to check)
    editors = isAdmin ? streamEditors (api, { name: () => s.name, schema: s.schema, pipeline: s.pipeline, idPrefix: 'es', editing: true }) : null;
    const retEdit = retentionFields ('es', s.retention);
    const general = h ('div');
    const save = h ('button', { type: 'submit', class: 'primary' }, 'Save changes');
    const form = isAdmin && h ('form', { class: 'panel', novalidate: true, 'aria-labelledby': 'es-title' },
      h ('h2', { id: 'es-title' }, 'Edit'),
      h ('div', { class: 'field' }, h ('label', { for: 'es-name' }, 'Name'), nameIn, nameErr),
      editors.el, retEdit.el, general,
      h ('div', { class: 'actions' }, save),
      payloadTester (api, editors, 'es'));
    form && form.addEventListener ('submit', async (e) => {
      e.preventDefault ();
      fill (general);
      fill (nameErr);
      const v = editors.values ();
      if (!v.ok) {
        fill (general, errorBox ({ message: 'Fix the JSON of the schema or the pipeline first.' }));
        return;
      }
      const body = { schema: v.schema, pipeline: v.pipeline, retention: retEdit.value () };
      const newName = nameIn.value.trim ();
      if (newName && newName !== s.name)
        body.name = newName;
      save.disabled = true;
      try {
        const r = await api.patch ('/streams/' + encodeURIComponent (s.name), body);
        toast ('Stream ' + r.name + ' saved', 'ok');
        ctx.navigate ('#/streams/' + encodeURIComponent (r.name));
      } catch (ex) {
        const rest = editors.showErrors (ex.errors || []);
        showAt (nameErr, nameIn, rest.filter (x => x.path === '/name'));
        fill (general, refusal (ex, rest));
      } finally {
        save.disabled = false;
      }
    });

    const del = h ('button', { type: 'button', class: 'danger' }, 'Delete stream');
    const delOut = h ('div');
    del.addEventListener ('click', async () => {
      const yes = await confirmDialog ('Delete stream ' + s.name + '?',
        'This deletes the stream and its ' + fmtNum (s.events) + ' events for good.', 'Delete stream',
        { typeToConfirm: s.name });
      if (!yes)
        return;
      try {
        await api.del ('/streams/' + encodeURIComponent (s.name));
        toast ('Stream ' + s.name + ' deleted', 'ok');
        ctx.navigate ('#/streams');
      } catch (ex) {
        fill (delOut, errorBox (ex, 'Delete'));
      }
    });

    fill (root,
      h ('h1', null, 'Stream ' + s.name), links, facts,
      isAdmin ? form : h ('p', { class: 'muted' }, 'Only admins change streams.'),
      isAdmin ? h ('section', { class: 'panel', 'aria-labelledby': 'del-title' },
        h ('h2', { id: 'del-title' }, 'Delete'),
        h ('p', null, 'Deleting a stream deletes its events, its consumer groups and its dead letters.'),
        del, delOut) : null,
      !isAdmin ? h ('pre', { class: 'json', tabindex: '0', role: 'region', 'aria-label': 'Schema, pipeline and retention' }, JSON.stringify ({ schema: s.schema, pipeline: s.pipeline, retention: s.retention }, null, 2)) : null);
  }).catch (e => {
    if (!destroyed)
      fill (root, h ('h1', null, 'Stream ' + name), errorBox (e), h ('p', null, h ('a', { href: '#/streams' }, 'All streams')));
  });

  return {
    destroy () {
      destroyed = true;
      if (editors)
        editors.destroy ();
    }
  };
}

// A stream's retention as a short text ("keeps everything" when none).
function retentionText (r) {
  if (!r)
    return 'Keeps everything';
  const parts = [];
  if (r.max_events)
    parts.push ('at most ' + fmtNum (r.max_events) + ' events');
  if (r.max_bytes)
    parts.push ('at most ' + fmtBytes (r.max_bytes));
  if (r.max_age_ms)
    parts.push ('events younger than ' + fmtNum (r.max_age_ms) + ' ms');
  if (r.after_groups)
    parts.push (parts.length ? 'only what every consumer group committed' : 'what every consumer group committed goes');
  return parts.join ('; ');
}

// The retention fields of a form (labelled inputs; empty or 0 = no
// limit). Answers {el, value() → the body's retention, or null}.
function retentionFields (idPrefix, r) {
  const num = (key, label, hint) => {
    const id = idPrefix + '-ret-' + key;
    const input = h ('input', { id, type: 'number', min: 0, step: 1, inputmode: 'numeric', value: r && r[key] ? String (r[key]) : '', 'aria-describedby': id + '-hint' });
    return { key, input, el: h ('div', { class: 'field' }, h ('label', { for: id }, label), input, h ('span', { class: 'hint', id: id + '-hint' }, hint)) };
  };
  const fields = [
    num ('max_events', 'Keep at most (events)', 'The oldest events beyond this many are deleted; empty for no limit.'),
    num ('max_bytes', 'Keep at most (bytes)', 'The oldest events are deleted while the stream holds more; empty for no limit.'),
    num ('max_age_ms', 'Keep for (ms)', 'Events received longer ago are deleted; empty for no limit.')
  ];
  const groupsId = idPrefix + '-ret-after-groups';
  const groups = h ('input', { id: groupsId, type: 'checkbox' });
  groups.checked = !!(r && r.after_groups);
  const el = h ('fieldset', { class: 'retention' },
    h ('legend', null, 'Retention'),
    ...fields.map (f => f.el),
    h ('div', { class: 'field' }, groups, h ('label', { for: groupsId }, 'Only delete what every consumer group has committed')));
  return {
    el,
    value () {
      const out = {};
      let any = groups.checked;
      for (const f of fields) {
        const v = f.input.value.trim () === '' ? 0 : Number (f.input.value);
        out[f.key] = v;
        any = any || v > 0;
      }
      out.after_groups = groups.checked;
      return any ? out : null;
    }
  };
}

function fact (k, v) {
  return [h ('dt', null, k), h ('dd', null, v)];
}
