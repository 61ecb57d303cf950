// What the operations pages (keys, groups, dlq, workers, users) share:
// labelled form fields, a poller that asks again only once the previous
// answer is in, the "for admins" notice, and reading a time field.

import { h } from '../ui.js';

let seq = 0;

// field('Email', input) → <div class=field><label for=…>Email</label>input</div>
// (the input gets an id when it has none). hint: a line under it,
// tied to the input with aria-describedby.
export function field (label, input, hint) {
  if (!input.id)
    input.id = 'f-' + (++seq);
  let hintEl = null;
  if (hint) {
    hintEl = h ('p', { class: 'hint', id: input.id + '-hint' }, hint);
    input.setAttribute ('aria-describedby', hintEl.id);
  }
  return h ('div', { class: 'field' }, h ('label', { for: input.id }, label), input, hintEl);
}

// select(options, value) with options [[value, label], …] or [value, …].
export function select (options, value, attrs) {
  return h ('select', attrs || null, options.map (o => {
    const [v, l] = Array.isArray (o) ? o : [o, o];
    return h ('option', { value: v, selected: v === value }, l);
  }));
}

// poll(fn, everyMs) calls fn() now and again everyMs after each answer
// (never two at once); stop() ends it. fn's errors are fn's to show.
export function poll (fn, everyMs) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped)
      return;
    try {
      await fn ();
    } catch (e) {
      console.error (e);
    }
    if (!stopped)
      timer = setTimeout (tick, everyMs);
  };
  tick ();
  return { stop () { stopped = true; clearTimeout (timer); } };
}

// The notice an admin-only page shows to others (or when the API
// answers 403): what the page is for and who may use it.
export function adminOnly (what, user) {
  return h ('div', { class: 'notice', role: 'status' },
    h ('p', null, what + ' is for admins.'),
    h ('p', { class: 'muted' }, 'You are signed in as ', (user && user.email) || '—',
      ' (role ', (user && user.role) || '—', '); ask an admin of your org.'));
}

export function isAdmin (ctx) {
  return !ctx.user || !ctx.user.role || ctx.user.role === 'admin';
}

// A datetime-local field's value → RFC 3339 (UTC), or null when empty.
export function timeValue (input) {
  if (!input.value)
    return null;
  const ms = new Date (input.value).getTime ();
  return Number.isNaN (ms) ? null : new Date (ms).toISOString ();
}

// A compact id for tables: the first 8 and last 4 characters.
export function shortId (id) {
  return id && id.length > 16 ? id.slice (0, 8) + '…' + id.slice (-4) : id;
}
