// The event filters the explorer and the live tail share: event id, type,
// source, status, time range, stream, and payload predicates (rows of
// JSON Pointer + operator + value, sent as `where=pointer:op[:value]`
// the way GET /events takes them). The filters live in the page's hash
// (a URLSearchParams), so a search is a link.

import { h, fill } from './ui.js';

export const OPS = [
  ['eq', 'equals'],
  ['contains', 'contains (text)'],
  ['exists', 'exists'],
  ['lt', '< less than'],
  ['le', '≤ at most'],
  ['gt', '> greater than'],
  ['ge', '≥ at least']
];
export const STATUSES = ['PENDING', 'PROCESSED', 'FILTERED', 'FAILED'];
const OP_RE = /^(.*?):(eq|contains|exists|lt|le|gt|ge)(?::([\s\S]*))?$/;

// "/customer/id:eq:\"c-1\"" → {pointer, op, value}; null if not one
export function parseWhere (w) {
  const m = OP_RE.exec (w);
  return m ? { pointer: m[1], op: m[2], value: m[3] === undefined ? '' : m[3] } : null;
}

// A row's value as typed → its JSON text: eq takes any JSON and a bare
// word as a string; contains always a string; the comparisons a number
// (sent as typed: the broker names a bad one).
export function whereValue (op, text) {
  const t = text.trim ();
  if (op === 'exists')
    return null;
  if (op === 'contains') {
    if (/^".*"$/.test (t)) {
      try {
        if (typeof JSON.parse (t) === 'string')
          return t;
      } catch (e) { /* a word that happens to have quotes */ }
    }
    return JSON.stringify (text);
  }
  if (op === 'eq') {
    try {
      JSON.parse (t);
      return t;
    } catch (e) {
      return JSON.stringify (text);
    }
  }
  return t;
}

export function whereParam (p) {
  const v = whereValue (p.op, p.value);
  return p.pointer + ':' + p.op + (v === null ? '' : ':' + v);
}

// RFC 3339 ↔ the value of <input type=datetime-local> (local time)
function toLocalInput (iso) {
  const ms = Date.parse (iso);
  if (Number.isNaN (ms))
    return '';
  const d = new Date (ms - new Date (ms).getTimezoneOffset () * 60000);
  return d.toISOString ().slice (0, 19);
}
function fromLocalInput (v) {
  if (!v)
    return '';
  const ms = Date.parse (v);   // a local date-time without zone is local
  return Number.isNaN (ms) ? '' : new Date (ms).toISOString ();
}

// filterForm({idPrefix, query: URLSearchParams, streams: [name] | null,
// fields: ['stream', 'event_id', 'type', 'source', 'status', 'time'],
// submitLabel, onSubmit(params)}) → {el, params(), setStreams(names)}
// params() → a URLSearchParams of the filled filters (where repeated).
export function filterForm (opts) {
  const p = opts.idPrefix || 'f';
  const q = opts.query || new URLSearchParams ();
  const fields = opts.fields || ['stream', 'event_id', 'type', 'source', 'status', 'time'];
  const inputs = {};
  const row = h ('div', { class: 'row' });
  const field = (key, label, control, hint) => {
    control.id = p + '-' + key;
    if (hint) {
      control.setAttribute ('aria-describedby', p + '-' + key + '-hint');
    }
    inputs[key] = control;
    row.appendChild (h ('div', { class: 'field' }, h ('label', { for: control.id }, label), control,
      hint ? h ('span', { class: 'hint', id: p + '-' + key + '-hint' }, hint) : null));
  };
  const text = (key) => h ('input', { type: 'text', value: q.get (key) || '', autocomplete: 'off', spellcheck: 'false' });

  if (fields.includes ('stream')) {
    const sel = h ('select', null, h ('option', { value: '' }, 'All streams'));
    const cur = q.get ('stream');
    if (cur)
      sel.appendChild (h ('option', { value: cur, selected: true }, cur));
    field ('stream', 'Stream', sel);
  }
  if (fields.includes ('event_id'))
    field ('event_id', 'Event id', text ('event_id'));
  if (fields.includes ('type'))
    field ('type', 'Type', text ('type'));
  if (fields.includes ('source'))
    field ('source', 'Source', text ('source'));
  if (fields.includes ('status')) {
    const sel = h ('select', null, h ('option', { value: '' }, 'Any'),
      STATUSES.map (s => h ('option', { value: s, selected: q.get ('status') === s }, s)));
    field ('status', 'Status', sel);
  }
  if (fields.includes ('time')) {
    field ('from', 'Received from', h ('input', { type: 'datetime-local', step: 1, value: q.get ('from') ? toLocalInput (q.get ('from')) : '' }));
    field ('to', 'Received to', h ('input', { type: 'datetime-local', step: 1, value: q.get ('to') ? toLocalInput (q.get ('to')) : '' }));
  }

  // payload predicates
  const preds = h ('div', { class: 'predicates' });
  let rows = [];
  const renumber = () => rows.forEach ((r, i) => {
    r.num.forEach (s => { s.textContent = ' ' + (i + 1); });
    r.remove.textContent = 'Remove';
    r.remove.setAttribute ('aria-label', 'Remove predicate ' + (i + 1));
  });
  const addRow = (init) => {
    init = init || { pointer: '', op: 'eq', value: '' };
    const k = p + '-w' + Math.random ().toString (36).slice (2, 8);
    const num = [0, 1, 2].map (() => h ('span', { class: 'visually-hidden' }));
    const pointer = h ('input', { id: k + '-p', type: 'text', value: init.pointer, placeholder: '/customer/id', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
    const op = h ('select', { id: k + '-o' }, OPS.map (([v, l]) => h ('option', { value: v, selected: v === init.op }, l)));
    const value = h ('input', { id: k + '-v', type: 'text', value: init.value, autocomplete: 'off', spellcheck: 'false', class: 'mono', 'aria-describedby': p + '-where-hint' });
    const sync = () => { value.disabled = op.value === 'exists'; };
    op.addEventListener ('change', sync);
    sync ();
    const remove = h ('button', { type: 'button', class: 'secondary small' }, 'Remove');
    const el = h ('div', { class: 'predicate' },
      h ('div', { class: 'field' }, h ('label', { for: k + '-p' }, 'JSON Pointer', num[0]), pointer),
      h ('div', { class: 'field' }, h ('label', { for: k + '-o' }, 'Operator', num[1]), op),
      h ('div', { class: 'field' }, h ('label', { for: k + '-v' }, 'Value', num[2]), value),
      remove);
    const r = { el, pointer, op, value, num, remove };
    remove.addEventListener ('click', () => {
      const i = rows.indexOf (r);
      rows = rows.filter (x => x !== r);
      el.remove ();
      renumber ();
      const next = rows[i] || rows[i - 1];
      (next ? next.pointer : addBtn).focus ();
    });
    rows.push (r);
    preds.appendChild (el);
    renumber ();
    return r;
  };
  const addBtn = h ('button', { type: 'button', class: 'secondary small' }, 'Add predicate');
  addBtn.addEventListener ('click', () => addRow ().pointer.focus ());
  for (const w of q.getAll ('where')) {
    const parsed = parseWhere (w);
    if (parsed)
      addRow (parsed);
  }

  const params = () => {
    const out = new URLSearchParams ();
    for (const key of ['stream', 'event_id', 'type', 'source', 'status']) {
      if (inputs[key] && inputs[key].value.trim ())
        out.set (key, inputs[key].value.trim ());
    }
    if (inputs.from && fromLocalInput (inputs.from.value))
      out.set ('from', fromLocalInput (inputs.from.value));
    if (inputs.to && fromLocalInput (inputs.to.value))
      out.set ('to', fromLocalInput (inputs.to.value));
    for (const r of rows) {
      if (r.pointer.value.trim ())
        out.append ('where', whereParam ({ pointer: r.pointer.value.trim (), op: r.op.value, value: r.value.value }));
    }
    return out;
  };

  const submit = h ('button', { id: p + '-submit', type: 'submit', class: 'primary' }, opts.submitLabel || 'Search');
  const clear = h ('button', { id: p + '-clear', type: 'button', class: 'secondary' }, 'Clear');
  const form = h ('form', { class: 'filters', role: 'search', 'aria-label': opts.label || 'Filters', novalidate: true },
    row,
    h ('fieldset', null, h ('legend', null, 'Payload predicates'),
      h ('p', { class: 'hint', id: p + '-where-hint' },
        'All must hold. A pointer such as /customer/id; the value as JSON (a bare word is taken as text).'),
      preds, addBtn),
    h ('div', { class: 'actions' }, submit, clear, opts.extra || null));
  form.addEventListener ('submit', (e) => {
    e.preventDefault ();
    opts.onSubmit (params ());
  });
  clear.addEventListener ('click', () => opts.onSubmit (opts.keepOnClear ? opts.keepOnClear () : new URLSearchParams ()));

  return {
    el: form,
    params,
    setStreams (names) {
      const sel = inputs.stream;
      if (!sel)
        return;
      const cur = sel.value;
      fill (sel, h ('option', { value: '' }, 'All streams'),
        names.map (n => h ('option', { value: n, selected: n === cur }, n)));
      if (cur && !names.includes (cur))
        sel.appendChild (h ('option', { value: cur, selected: true }, cur));
    }
  };
}

// The filters that GET /events and the live feed take, from a hash's
// query: {type, source, status, from, to, where: [...]} (absent ones
// left out).
export function apiFilters (q, keys) {
  const out = {};
  for (const k of keys || ['stream', 'type', 'source', 'status', 'from', 'to'])
    if (q.get (k))
      out[k] = q.get (k);
  const where = q.getAll ('where');
  if (where.length)
    out.where = where;
  return out;
}
