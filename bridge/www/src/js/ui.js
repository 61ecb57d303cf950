// DOM helpers every page uses: h() builds elements, table() a table with
// header cells, confirmDialog() a modal that traps focus and closes on
// Escape, toast() a polite announcement, copyButton(), errorBox() (an
// API error shown in the page, with its errors by path), chart() (a uPlot
// wrapper that follows the colour scheme) and the formatters. No inline
// styles or handlers: the Content-Security-Policy forbids them.

// h('a', {href: '#/x', class: 'btn', 'on:click': f, 'aria-label': 'X'},
//   'text', node, [more], null)
// attrs: class, for, aria-*, data-*, role, on:<event> handlers; value,
// checked, disabled, hidden, selected, open, textContent are set as
// properties; everything else with setAttribute. Children: strings,
// numbers, nodes, arrays of them; null, undefined and false are skipped.
export function h (tag, attrs, ...children) {
  const el = document.createElement (tag);
  for (const [k, v] of Object.entries (attrs || {})) {
    if (v === null || v === undefined || v === false)
      continue;
    if (k.startsWith ('on:'))
      el.addEventListener (k.slice (3), v);
    else if (k === 'class')
      el.className = Array.isArray (v) ? v.filter (Boolean).join (' ') : v;
    else if (k === 'for')
      el.htmlFor = v;
    else if (['value', 'checked', 'disabled', 'hidden', 'selected', 'open', 'textContent', 'indeterminate'].includes (k))
      el[k] = v;
    else if (k === 'style')
      throw new Error ('h(): no style attribute (CSP); use a class');
    else
      el.setAttribute (k, v === true ? '' : String (v));
  }
  append (el, children);
  return el;
}

function append (el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false)
      continue;
    if (Array.isArray (c))
      append (el, c);
    else if (c instanceof Node)
      el.appendChild (c);
    else
      el.appendChild (document.createTextNode (String (c)));
  }
}

// Empty an element and fill it again.
export function fill (el, ...children) {
  el.replaceChildren ();
  append (el, children);
  return el;
}

// table(columns, rows, opts?) → <div class=table-wrap><table>…
// columns: [{label, key?, render?(row, i) → text|node, numeric?, class?}]
// (a cell shows render(row) or row[key]; null/undefined shows "—").
// opts: {caption, empty: 'text when no rows', rowClass?(row), label}.
// The wrapper scrolls sideways on a narrow screen; with opts.label it is
// a named region that takes focus, so the arrow keys scroll it.
export function table (columns, rows, opts) {
  opts = opts || {};
  const head = h ('tr', null, columns.map (c =>
    h ('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.label)));
  const body = h ('tbody');
  if (!rows || rows.length === 0) {
    body.appendChild (h ('tr', null,
      h ('td', { colspan: columns.length, class: 'empty' }, opts.empty || 'Nothing to show.')));
  } else {
    rows.forEach ((row, i) => body.appendChild (tableRow (columns, row, i, opts)));
  }
  const t = h ('table', { class: opts.class || null },
    opts.caption ? h ('caption', null, opts.caption) : null,
    h ('thead', null, head), body);
  return scrollRegion (t, opts.label);
}

// the wrapper of a table that may scroll sideways
export function scrollRegion (tableEl, label) {
  return h ('div', label ? { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' } : { class: 'table-wrap' }, tableEl);
}

// One <tr> built as table() builds its rows (for pages that add rows live).
export function tableRow (columns, row, i, opts) {
  const tr = h ('tr', { class: opts && opts.rowClass ? opts.rowClass (row) : null });
  columns.forEach ((c, j) => {
    let v = c.render ? c.render (row, i) : row[c.key];
    if (v === null || v === undefined || v === '')
      v = '—';
    const cls = [c.numeric ? 'num' : null, c.class || null].filter (Boolean).join (' ') || null;
    tr.appendChild (j === 0 && c.rowHeader
      ? h ('th', { scope: 'row', class: cls }, v)
      : h ('td', { class: cls }, v));
  });
  return tr;
}

// --- dialogs -----------------------------------------------------------

let dialogOpen = false;

// A modal <dialog>: focus stays inside, Escape or Cancel answers false.
// opts.typeToConfirm: the confirm button stays disabled until that text
// is typed into a field labelled 'Type "<text>" to confirm'.
// opts.danger: the confirm button is styled as destructive.
export function confirmDialog (title, text, confirmLabel, opts) {
  opts = opts || {};
  return new Promise (resolve => {
    const prev = document.activeElement;
    const id = 'dlg-' + Math.random ().toString (36).slice (2);
    let input = null;
    const ok = h ('button', { type: 'submit', class: opts.danger === false ? 'primary' : 'danger' }, confirmLabel || 'Confirm');
    const cancel = h ('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const parts = [h ('h2', { id: id + '-t' }, title), h ('p', { id: id + '-d' }, text)];
    if (opts.typeToConfirm) {
      ok.disabled = true;
      input = h ('input', {
        id: id + '-i', type: 'text', autocomplete: 'off', spellcheck: 'false',
        'on:input': () => { ok.disabled = input.value !== opts.typeToConfirm; }
      });
      parts.push (h ('div', { class: 'field' },
        h ('label', { for: id + '-i' }, 'Type "' + opts.typeToConfirm + '" to confirm'), input));
    }
    const form = h ('form', { method: 'dialog' }, parts, h ('div', { class: 'actions' }, cancel, ok));
    const dlg = h ('dialog', { 'aria-labelledby': id + '-t', 'aria-describedby': id + '-d', class: 'dialog' }, form);
    let answered = false;
    const done = (v) => {
      if (answered)
        return;
      answered = true;
      dialogOpen = false;
      if (dlg.open)
        dlg.close ();
      dlg.remove ();
      if (prev && prev.focus)
        prev.focus ();
      resolve (v);
    };
    form.addEventListener ('submit', (e) => {
      e.preventDefault ();
      if (!ok.disabled)
        done (true);
    });
    cancel.addEventListener ('click', () => done (false));
    dlg.addEventListener ('cancel', (e) => { e.preventDefault (); done (false); });
    dlg.addEventListener ('close', () => done (false));
    dlg.addEventListener ('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault ();
        done (false);
      } else if (e.key === 'Tab') {
        trapTab (dlg, e);
      }
    });
    document.body.appendChild (dlg);
    dialogOpen = true;
    dlg.showModal ();
    (input || cancel).focus ();
  });
}

function trapTab (root, e) {
  const f = [...root.querySelectorAll ('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')]
    .filter (x => !x.disabled && x.offsetParent !== null);
  if (f.length === 0)
    return;
  const first = f[0];
  const last = f[f.length - 1];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault ();
    last.focus ();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault ();
    first.focus ();
  }
}

export function isDialogOpen () { return dialogOpen; }

// --- toasts, copy ------------------------------------------------------

function toastRegion () {
  let r = document.getElementById ('toasts');
  if (!r) {
    r = h ('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild (r);
  }
  return r;
}

// toast('Saved', 'ok' | 'error' | 'info'): shown for 5 s (errors 8 s),
// announced by screen readers.
export function toast (msg, kind) {
  kind = kind || 'info';
  const t = h ('div', { class: 'toast toast-' + kind }, msg);
  toastRegion ().appendChild (t);
  setTimeout (() => t.remove (), kind === 'error' ? 8000 : 5000);
  return t;
}

export async function copyText (text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText (text);
      return true;
    } catch (e) { /* fall through */ }
  }
  const ta = h ('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.appendChild (ta);
  ta.select ();
  let ok = false;
  try {
    ok = document.execCommand ('copy');
  } catch (e) {
    ok = false;
  }
  ta.remove ();
  return ok;
}

// copyButton(text, label = 'Copy'): a button that copies text (or
// text() when a function) and says so.
export function copyButton (text, label) {
  label = label || 'Copy';
  const b = h ('button', { type: 'button', class: 'secondary small' }, label);
  b.addEventListener ('click', async () => {
    const ok = await copyText (typeof text === 'function' ? text () : text);
    toast (ok ? 'Copied to the clipboard' : 'Could not copy: select the text and copy it by hand', ok ? 'ok' : 'error');
    if (ok) {
      b.textContent = 'Copied';
      setTimeout (() => { b.textContent = label; }, 1500);
    }
  });
  return b;
}

// --- formatters --------------------------------------------------------

function toMs (t) {
  if (t === null || t === undefined || t === '')
    return null;
  if (typeof t === 'number')
    return t;
  const n = Date.parse (t);
  return Number.isNaN (n) ? null : n;
}

const pad = (n, w) => String (n).padStart (w || 2, '0');

// fmtTime(ms | RFC 3339 text) → "2026-12-02 05:31:07.123" (local time);
// "—" for null.
export function fmtTime (t) {
  const ms = toMs (t);
  if (ms === null)
    return '—';
  const d = new Date (ms);
  return d.getFullYear () + '-' + pad (d.getMonth () + 1) + '-' + pad (d.getDate ()) + ' ' +
    pad (d.getHours ()) + ':' + pad (d.getMinutes ()) + ':' + pad (d.getSeconds ()) + '.' +
    pad (d.getMilliseconds (), 3);
}

// fmtAge(ms): a duration in milliseconds, short: "850 ms", "12 s",
// "4 min", "3 h 5 min", "2 d". "—" for null.
export function fmtAge (ms) {
  if (ms === null || ms === undefined || Number.isNaN (Number (ms)))
    return '—';
  ms = Math.max (0, Number (ms));
  if (ms < 1000)
    return Math.round (ms) + ' ms';
  const s = Math.floor (ms / 1000);
  if (s < 60)
    return s + ' s';
  const m = Math.floor (s / 60);
  if (m < 60)
    return m + ' min';
  const hr = Math.floor (m / 60);
  if (hr < 48)
    return hr + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
  return Math.floor (hr / 24) + ' d';
}

// fmtAgo(ms | RFC 3339 text) → "12 s ago"; "—" for null.
export function fmtAgo (t) {
  const ms = toMs (t);
  return ms === null ? '—' : fmtAge (Date.now () - ms) + ' ago';
}

const NUM = new Intl.NumberFormat ('en-US', { maximumFractionDigits: 2 });

// fmtNum(1234.5) → "1,234.5"; "—" for null or not a number.
export function fmtNum (n) {
  if (n === null || n === undefined || n === '' || Number.isNaN (Number (n)))
    return '—';
  return NUM.format (Number (n));
}

// fmtBytes(1536) → "1.5 KiB"; "—" for null.
export function fmtBytes (n) {
  if (n === null || n === undefined || Number.isNaN (Number (n)))
    return '—';
  n = Number (n);
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? n : n.toFixed (n < 10 ? 1 : 0)) + ' ' + u[i];
}

// --- errors --------------------------------------------------------------

export function errorText (err) {
  if (!err)
    return 'Unknown error';
  if (err.status === 403)
    return 'Not allowed for your role: ' + err.message;
  return err.message || String (err);
}

// errorBox(err, title?) → a role=alert box: the message, the code and
// status, and each {path, message} of err.errors.
export function errorBox (err, title) {
  const meta = err && (err.code || err.status)
    ? h ('span', { class: 'error-code' }, [err.code, err.status ? '(' + err.status + ')' : null].filter (Boolean).join (' '))
    : null;
  const list = err && err.errors && err.errors.length
    ? h ('ul', { class: 'error-list' }, err.errors.map (e =>
      h ('li', null, h ('code', null, e.path || '/'), ' ', e.message)))
    : null;
  return h ('div', { class: 'error-box', role: 'alert' },
    title ? h ('strong', null, title + ': ') : null,
    errorText (err), ' ', meta, list);
}

// Run an async loader into el: "Loading…", then what it answers, or an
// errorBox. Answers the loader's result (or null on error).
export async function load (el, loader, title) {
  fill (el, h ('p', { class: 'muted' }, 'Loading…'));
  try {
    const r = await loader ();
    return r;
  } catch (e) {
    console.error (e);
    fill (el, errorBox (e, title));
    return null;
  }
}

// --- charts --------------------------------------------------------------

const SCHEME = window.matchMedia ? window.matchMedia ('(prefers-color-scheme: dark)') : null;

function cssVar (name, fallback) {
  const v = getComputedStyle (document.documentElement).getPropertyValue (name).trim ();
  return v || fallback;
}

const PALETTE = ['--chart-1', '--chart-2', '--chart-3', '--chart-4'];

// the time axis' tick spacings, in seconds: whole seconds at least (the
// points are one a second; uPlot's own choice goes down to milliseconds
// when a chart holds a few seconds)
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

// chart(el, {title, series: [{label, color?}], points?: 3600, unit?,
// height?, window?}) → {push(t, values), setData(xs, ys),
// setWindow(seconds), destroy()}
// t is epoch seconds; values one number (or null) per series. The chart
// keeps the newest `points` points, fills el's width and is drawn again
// when the colour scheme or the width changes. Without uPlot (the vendor
// file missing) it says so and keeps working as a no-op.
export function chart (el, opts) {
  const max = opts.points || 3600;
  const n = opts.series.length;
  let xs = [];
  let ys = opts.series.map (() => []);
  let plot = null;
  const box = h ('div', { class: 'chart-plot' });
  const titleId = 'c-' + Math.random ().toString (36).slice (2);
  const fig = h ('figure', { class: 'chart', 'aria-labelledby': titleId },
    h ('figcaption', { id: titleId }, opts.title), box);
  el.appendChild (fig);

  let dead = false;
  const build = () => {
    if (dead)
      return;
    if (plot) {
      plot.destroy ();
      plot = null;
    }
    if (typeof window.uPlot !== 'function') {
      fill (box, h ('p', { class: 'muted' }, 'Chart unavailable (uPlot did not load).'));
      return;
    }
    const fg = cssVar ('--muted', '#555');
    const grid = cssVar ('--grid', '#ddd');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const width = Math.max (200, box.clientWidth || el.clientWidth || 300);
    plot = new window.uPlot ({
      width,
      height: opts.height || 160,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, lo, hi) => [0, Math.max (1, hi * 1.1)] } },
      axes: [Object.assign ({ incrs: TIME_INCRS }, axis),
        Object.assign ({ size: 56, values: (u, v) => v.map (x => fmtNum (x)) }, axis)],
      series: [{ label: 'time' }].concat (opts.series.map ((s, i) => ({
        label: s.label,
        stroke: s.color || cssVar (PALETTE[i % PALETTE.length], '#0366d6'),
        width: 1.5,
        points: { show: false },
        value: (u, v) => v === null || v === undefined ? '—' : fmtNum (v) + (opts.unit ? ' ' + opts.unit : '')
      })))
    }, [xs].concat (ys), box);
    zoom ();
  };

  let win = opts.window || 0;   // seconds shown, 0: all that is kept
  const zoom = () => {
    if (plot && win && xs.length)
      plot.setScale ('x', { min: xs[xs.length - 1] - win + 1, max: xs[xs.length - 1] });
  };
  const redraw = () => {
    if (plot) {
      plot.setData ([xs].concat (ys));
      zoom ();
    }
  };
  const onScheme = () => build ();
  if (SCHEME && SCHEME.addEventListener)
    SCHEME.addEventListener ('change', onScheme);
  let lastW = 0;
  const ro = typeof ResizeObserver === 'function'
    ? new ResizeObserver (() => {
      const w = box.clientWidth;
      if (plot && w && Math.abs (w - lastW) > 4) {
        lastW = w;
        plot.setSize ({ width: Math.max (200, w), height: opts.height || 160 });
      }
    })
    : null;
  if (ro)
    ro.observe (box);
  requestAnimationFrame (build);

  return {
    push (t, values) {
      if (xs.length && t <= xs[xs.length - 1]) { // the same second again: replace
        const i = xs.length - 1;
        if (t === xs[i]) {
          for (let k = 0; k < n; k++)
            ys[k][i] = values[k] === undefined ? null : values[k];
          redraw ();
        }
        return;
      }
      xs.push (t);
      for (let k = 0; k < n; k++)
        ys[k].push (values[k] === undefined ? null : values[k]);
      if (xs.length > max) {
        xs = xs.slice (xs.length - max);
        ys = ys.map (a => a.slice (a.length - max));
      }
      redraw ();
    },
    // show only the last `seconds` (0: everything kept)
    setWindow (seconds) {
      win = seconds || 0;
      redraw ();
    },
    setData (x, y) {
      xs = x.slice (-max);
      ys = opts.series.map ((s, k) => (y[k] || []).slice (-max));
      if (plot)
        redraw ();
    },
    destroy () {
      dead = true;
      if (SCHEME && SCHEME.removeEventListener)
        SCHEME.removeEventListener ('change', onScheme);
      if (ro)
        ro.disconnect ();
      if (plot)
        plot.destroy ();
      plot = null;
      fig.remove ();
    }
  };
}

export const ui = {
  h, fill, table, tableRow, scrollRegion, confirmDialog, isDialogOpen, toast, copyButton, copyText,
  fmtTime, fmtAge, fmtAgo, fmtNum, fmtBytes, errorText, errorBox, load, chart
};

export default ui;
