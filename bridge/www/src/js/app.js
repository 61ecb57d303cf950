// The dashboard's shell: the sign-in screen, the header with the nav, the
// signed-in user and Sign out, and the hash router. Each route is a page
// module in ./pages/, loaded on first use, exporting
// render(root, params, ctx) → {destroy()}.
//
// params = {id, rest, query, path}: for '#/events/abc?x=1' id is 'abc'
// (decoded), rest ['abc'], query a URLSearchParams of 'x=1', path
// 'events/abc'. ctx = {api, ui, user, navigate(hash)}.

import { api } from './api.js';
import * as ui from './ui.js';

const { h, fill } = ui;

// route → [page module, nav label]; every route of the dashboard, in the
// nav's order.
const ROUTES = [
  ['overview', 'overview', 'Overview'],
  ['streams', 'streams', 'Streams'],
  ['events', 'explorer', 'Events'],
  ['tail', 'tail', 'Live tail'],
  ['keys', 'keys', 'API keys'],
  ['groups', 'groups', 'Consumer groups'],
  ['dlq', 'dlq', 'Dead letters'],
  ['workers', 'workers', 'Workers'],
  ['users', 'users', 'Users']
];

const app = document.getElementById ('app') || document.body.appendChild (h ('div', { id: 'app' }));
let current = null;       // {route, page, root}
let navLinks = {};
let mainEl = null;
let signinNote = null;    // why the sign-in screen is back

function parseHash () {
  const raw = location.hash.replace (/^#\/?/, '');
  const qi = raw.indexOf ('?');
  const path = qi < 0 ? raw : raw.slice (0, qi);
  const query = new URLSearchParams (qi < 0 ? '' : raw.slice (qi + 1));
  const parts = path.split ('/').filter (Boolean).map (p => {
    try {
      return decodeURIComponent (p);
    } catch (e) {
      return p;
    }
  });
  const route = parts[0] || 'overview';
  const rest = parts.slice (1);
  return { route, params: { id: rest.length ? rest.join ('/') : null, rest, query, path } };
}

export function navigate (hash) {
  if (!hash.startsWith ('#'))
    hash = '#' + hash;
  if (location.hash === hash)
    route ();
  else
    location.hash = hash;
}

// --- sign-in -------------------------------------------------------------

function showSignIn () {
  teardown ();
  document.title = 'Sign in · EventFlow';
  const err = h ('div', { class: 'form-error', 'aria-live': 'assertive' });
  const email = h ('input', { id: 'si-email', type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h ('input', { id: 'si-password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h ('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h ('form', { class: 'signin-form', novalidate: true, 'aria-labelledby': 'si-title' },
    h ('h1', { id: 'si-title' }, 'Sign in to EventFlow'),
    signinNote ? h ('p', { class: 'notice', role: 'status' }, signinNote) : null,
    h ('div', { class: 'field' }, h ('label', { for: 'si-email' }, 'Email'), email),
    h ('div', { class: 'field' }, h ('label', { for: 'si-password' }, 'Password'), password),
    err,
    submit,
    h ('p', { class: 'muted small' },
      'You stay signed in while this tab is open: the session is kept in memory only, so reloading the page asks you to sign in again.'));
  form.addEventListener ('submit', async (e) => {
    e.preventDefault ();
    fill (err);
    if (!email.value || !password.value) {
      fill (err, ui.errorBox ({ message: 'Enter your email and your password.' }));
      (email.value ? password : email).focus ();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      await api.login (email.value.trim (), password.value);
      signinNote = null;
      showShell ();
    } catch (ex) {
      const msg = ex.status === 401 ? { message: 'Wrong email or password.' }
        : ex.status === 429 ? { message: 'Too many failed sign-ins: wait ' + (ex.retryAfter ? ex.retryAfter + ' s' : 'a moment') + ' and try again.' }
          : ex;
      fill (err, ui.errorBox (msg));
      password.select ();
      password.focus ();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  fill (app, h ('main', { class: 'signin', id: 'main' }, form));
  email.focus ();
}

// --- the shell -----------------------------------------------------------

function showShell () {
  const user = api.user || {};
  navLinks = {};
  const list = h ('ul', { id: 'nav-list', class: 'nav-list' }, ROUTES.map (([r, , label]) => {
    const a = h ('a', { href: '#/' + r }, label);
    navLinks[r] = a;
    return h ('li', null, a);
  }));
  const toggle = h ('button', {
    type: 'button', class: 'nav-toggle', 'aria-expanded': 'false', 'aria-controls': 'nav-list'
  }, 'Menu');
  toggle.addEventListener ('click', () => {
    const open = toggle.getAttribute ('aria-expanded') !== 'true';
    toggle.setAttribute ('aria-expanded', String (open));
    list.classList.toggle ('open', open);
  });
  list.addEventListener ('keydown', (e) => {
    if (e.key === 'Escape' && list.classList.contains ('open')) {
      toggle.setAttribute ('aria-expanded', 'false');
      list.classList.remove ('open');
      toggle.focus ();
    }
  });
  list.addEventListener ('click', (e) => {
    if (e.target.closest ('a')) {
      toggle.setAttribute ('aria-expanded', 'false');
      list.classList.remove ('open');
    }
  });
  const signOut = h ('button', { type: 'button', class: 'secondary small' }, 'Sign out');
  signOut.addEventListener ('click', async () => {
    signOut.disabled = true;
    await api.logout ();
    signinNote = 'You signed out.';
    showSignIn ();
  });
  mainEl = h ('main', { id: 'main', tabindex: '-1' });
  fill (app,
    h ('a', { href: '#main', class: 'skip', 'on:click': (e) => { e.preventDefault (); focusMain (); } }, 'Skip to content'),
    h ('header', { class: 'topbar' },
      h ('a', { class: 'brand', href: '#/overview' }, 'EventFlow'),
      h ('nav', { 'aria-label': 'Main' }, toggle, list),
      h ('div', { class: 'who' },
        h ('span', { class: 'who-email' }, user.email || '—'),
        h ('span', { class: 'badge' }, user.role || '—'),
        signOut)),
    mainEl);
  current = null;
  route ();
}

function focusMain () {
  const t = mainEl && (mainEl.querySelector ('h1') || mainEl);
  if (t) {
    if (!t.hasAttribute ('tabindex'))
      t.setAttribute ('tabindex', '-1');
    t.focus ();
  }
}

function teardown () {
  if (current && current.page) {
    try {
      current.page.destroy ();
    } catch (e) {
      console.error (e);
    }
  }
  current = null;
}

let routing = 0;

async function route () {
  if (!api.signedIn ()) {
    showSignIn ();
    return;
  }
  if (!mainEl || !mainEl.isConnected) {
    showShell ();
    return;
  }
  const { route: r, params } = parseHash ();
  const entry = ROUTES.find (x => x[0] === r);
  const sameRoute = current && current.route === r;
  const focusedId = sameRoute && document.activeElement && mainEl.contains (document.activeElement)
    ? document.activeElement.id : null;
  teardown ();
  for (const [k, a] of Object.entries (navLinks)) {
    if (k === r)
      a.setAttribute ('aria-current', 'page');
    else
      a.removeAttribute ('aria-current');
  }
  const root = h ('div', { class: 'page page-' + r });
  fill (mainEl, root);
  const mine = ++routing;
  if (!entry) {
    document.title = 'Not found · EventFlow';
    fill (root, h ('h1', null, 'Not found'),
      h ('p', null, 'There is no page at ', h ('code', null, location.hash), '. ',
        h ('a', { href: '#/overview' }, 'Go to the overview'), '.'));
    return;
  }
  document.title = entry[2] + ' · EventFlow';
  let mod;
  try {
    mod = await import ('./pages/' + entry[1] + '.js');
  } catch (e) {
    console.error (e);
    if (mine !== routing)
      return;
    fill (root, h ('h1', null, entry[2]), ui.errorBox ({ message: 'This page could not be loaded (' + (e.message || e) + ').' }));
    return;
  }
  if (mine !== routing)
    return;
  const ctx = { api, ui, user: api.user, navigate };
  try {
    const page = mod.render (root, params, ctx) || {};
    current = { route: r, page: { destroy: page.destroy ? page.destroy.bind (page) : () => {} } };
  } catch (e) {
    console.error (e);
    fill (root, h ('h1', null, entry[2]), ui.errorBox (e));
    current = { route: r, page: { destroy () {} } };
  }
  if (!sameRoute)
    focusMain ();
  else if (focusedId)
    refocus (root, focusedId);
}

// The same page drawn again (a search, a filter, the next page): focus
// goes back to the control of the same id once the page has drawn it,
// unless the user has moved on.
function refocus (root, id) {
  const find = () => {
    const el = root.querySelector ('#' + CSS.escape (id));
    if (el && !el.disabled && (document.activeElement === document.body || document.activeElement === null)) {
      el.focus ();
      return true;
    }
    return !!(el || (document.activeElement && document.activeElement !== document.body));
  };
  if (find ())
    return;
  const mo = new MutationObserver (() => { if (find ()) stop (); });
  const timer = setTimeout (() => stop (), 5000);
  const stop = () => { mo.disconnect (); clearTimeout (timer); };
  mo.observe (root, { childList: true, subtree: true });
}

api.onSignedOut ((why) => {
  signinNote = why;
  showSignIn ();
});

window.addEventListener ('hashchange', () => { route (); });
window.addEventListener ('unhandledrejection', (e) => {
  console.error (e.reason);
  ui.toast ('Something went wrong: ' + ui.errorText (e.reason), 'error');
});
window.addEventListener ('error', (e) => {
  ui.toast ('Something went wrong: ' + (e.message || 'script error'), 'error');
});

route ();
