// The dashboard's one way to the bridge: a fetch wrapper for /api/v1,
// the signed-in state (the access and refresh tokens live in this module's
// memory only, never in localStorage or a cookie, so a reload asks to sign
// in again), the refresh ~60 s before the access token expires, and the
// reader of the live feed (GET /api/v1/live, Server-Sent Events read with
// fetch, since EventSource cannot send an Authorization header).
//
// Every error is an ApiError {status, code, message, errors}: from the
// bridge's problem+json body ({code, detail, errors}), from an
// {error: {code, message, errors}} body, or made here (status 0, code
// NETWORK) when the bridge did not answer at all.

const BASE = '/api/v1';
const REFRESH_AHEAD_S = 60;   // refresh this long before expires_in ends
const REFRESH_MIN_S = 5;
const RETRY_REFRESH_S = 10;   // after a refresh the network lost

export class ApiError extends Error {
  constructor (status, code, message, errors) {
    super (message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errors = errors || [];
  }
}

let access = null;
let refreshToken = null;
let refreshTimer = null;
let refreshing = null;          // the refresh under way (one at a time)
const signedOutHandlers = [];

// Turn {a: 1, where: ['x', 'y'], b: null} into "?a=1&where=x&where=y";
// null, undefined and '' are left out, arrays repeat the name.
export function queryString (query) {
  if (!query)
    return '';
  const q = new URLSearchParams ();
  for (const [k, v] of Object.entries (query)) {
    if (Array.isArray (v))
      v.forEach (x => { if (x !== null && x !== undefined && x !== '') q.append (k, String (x)); });
    else if (v !== null && v !== undefined && v !== '')
      q.append (k, String (v));
  }
  const s = q.toString ();
  return s ? '?' + s : '';
}

async function errorFrom (res) {
  let body = null;
  try {
    body = await res.json ();
  } catch (e) {
    body = null;
  }
  const inner = body && body.error && typeof body.error === 'object' ? body.error : body;
  const code = (inner && inner.code) || 'HTTP_' + res.status;
  const message = (inner && (inner.detail || inner.message || inner.title)) ||
                  res.statusText || 'HTTP ' + res.status;
  const errors = (inner && Array.isArray (inner.errors)) ? inner.errors : [];
  const err = new ApiError (res.status, code, message, errors);
  const retry = res.headers.get ('Retry-After');
  if (retry)
    err.retryAfter = Number (retry);
  return err;
}

function networkError (e) {
  return new ApiError (0, 'NETWORK', 'The bridge did not answer (' + (e && e.message || e) + ')', []);
}

async function rawFetch (method, path, body, auth, signal) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined)
    headers['Content-Type'] = 'application/json';
  if (auth && access)
    headers.Authorization = 'Bearer ' + access;
  try {
    return await fetch (BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify (body),
      credentials: 'omit',
      cache: 'no-store',
      signal
    });
  } catch (e) {
    if (e && e.name === 'AbortError')
      throw e;
    throw networkError (e);
  }
}

async function parse (res) {
  if (res.status === 204)
    return null;
  const text = await res.text ();
  if (!text)
    return null;
  try {
    return JSON.parse (text);
  } catch (e) {
    throw new ApiError (res.status, 'MALFORMED_ANSWER', 'The bridge answered something that is not JSON', []);
  }
}

// One request, with the access token; a 401 refreshes once and retries.
async function request (method, path, query, body) {
  const url = path + queryString (query);
  let res = await rawFetch (method, url, body, true);
  if (res.status === 401 && refreshToken) {
    const ok = await refreshNow ();
    if (ok)
      res = await rawFetch (method, url, body, true);
  }
  if (!res.ok) {
    const err = await errorFrom (res);
    if (res.status === 401 && !refreshToken)
      signalSignedOut ('Your session ended: sign in again.');
    throw err;
  }
  return parse (res);
}

export function get (path, query) { return request ('GET', path, query); }
export function post (path, body) { return request ('POST', path, null, body === undefined ? {} : body); }
export function patch (path, body) { return request ('PATCH', path, null, body); }
export function del (path) { return request ('DELETE', path, null); }

// --- sign-in state ----------------------------------------------------

function takeTokens (t) {
  access = t.access_token;
  refreshToken = t.refresh_token;
  if (t.user)
    api.user = { email: t.user.email, role: t.user.role, org_id: t.user.org_id, id: t.user.id };
  clearTimeout (refreshTimer);
  const inS = Math.max (REFRESH_MIN_S, (Number (t.expires_in) || 900) - REFRESH_AHEAD_S);
  refreshTimer = setTimeout (scheduledRefresh, inS * 1000);
}

function forget () {
  access = null;
  refreshToken = null;
  api.user = null;
  clearTimeout (refreshTimer);
  refreshTimer = null;
}

function signalSignedOut (why) {
  const had = api.user !== null || access !== null;
  forget ();
  if (had)
    signedOutHandlers.forEach (f => { try { f (why); } catch (e) { console.error (e); } });
}

async function scheduledRefresh () {
  const ok = await refreshNow ();
  if (!ok && refreshToken) // the network, not a refusal: try again soon
    refreshTimer = setTimeout (scheduledRefresh, RETRY_REFRESH_S * 1000);
}

// Rotate the refresh token. true when new tokens came; a refusal signs
// out (the handlers show the sign-in screen); a network failure keeps
// the tokens and answers false.
export function refreshNow () {
  if (refreshing)
    return refreshing;
  const token = refreshToken;
  if (!token)
    return Promise.resolve (false);
  refreshing = (async () => {
    try {
      const res = await rawFetch ('POST', '/auth/refresh', { refresh_token: token }, false);
      if (res.ok) {
        takeTokens (await parse (res));
        return true;
      }
      if (res.status >= 400 && res.status < 500 && res.status !== 429)
        signalSignedOut ('Your session ended: sign in again.');
      return false;
    } catch (e) {
      return false;
    } finally {
      refreshing = null;
    }
  }) ();
  return refreshing;
}

export async function login (email, password) {
  const res = await rawFetch ('POST', '/auth/login', { email, password }, false);
  if (!res.ok)
    throw await errorFrom (res);
  const t = await parse (res);
  takeTokens (t);
  if (!api.user) { // an older bridge without `user` in the answer
    api.user = { email, role: null, org_id: null };
  }
  return api.user;
}

// Revoke the session (POST /auth/logout) and forget it, whatever the
// bridge answers.
export async function logout () {
  const token = refreshToken;
  forget ();
  if (token) {
    try {
      await rawFetch ('POST', '/auth/logout', { refresh_token: token }, false);
    } catch (e) { /* forgotten here all the same */ }
  }
}

export function onSignedOut (f) { signedOutHandlers.push (f); }
export function signedIn () { return access !== null; }

// --- the live feed -----------------------------------------------------

const LIVE_BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
const LIVE_SILENCE_MS = 40000;  // pings come every 15 s: silence = dead

// Parse Server-Sent Events text; calls emit(name, dataText) per event and
// answers the unparsed rest.
function sseParse (buf, emit, onAny) {
  let i;
  while ((i = buf.search (/\r?\n\r?\n/)) >= 0) {
    const block = buf.slice (0, i);
    buf = buf.slice (i + (buf[i] === '\r' ? 4 : 2));
    let name = 'message';
    const data = [];
    for (const line of block.split (/\r?\n/)) {
      onAny ();
      if (line === '' || line[0] === ':')
        continue;
      const c = line.indexOf (':');
      const field = c < 0 ? line : line.slice (0, c);
      let value = c < 0 ? '' : line.slice (c + 1);
      if (value[0] === ' ')
        value = value.slice (1);
      if (field === 'event')
        name = value;
      else if (field === 'data')
        data.push (value);
    }
    if (data.length)
      emit (name, data.join ('\n'));
  }
  return buf;
}

// Read GET /api/v1/live?query, calling onEvent(name, data) with each
// event's parsed data ('figures', 'events', 'error'), and
// onEvent('state', {state, retry_in_ms?, error?}) as the connection goes:
// 'connecting', 'live', 'reconnecting' (with retry_in_ms and the error
// that ended the last try), 'stopped' (a refusal that a retry cannot
// cure: a stream that does not exist, a bad filter, a role refused).
// Reconnects after errors and ends of stream with backoff; a stream feed
// resumes after the last seq it delivered. close() ends it for good.
export function live (query, onEvent) {
  let closed = false;
  let ctrl = null;
  let timer = null;
  let failures = 0;
  let lastSeq = null;
  const state = (s, extra) => onEvent ('state', Object.assign ({ state: s }, extra || {}));

  const again = (err) => {
    if (closed)
      return;
    const wait = (err && err.retryAfter) ? err.retryAfter * 1000
      : LIVE_BACKOFF_MS[Math.min (failures, LIVE_BACKOFF_MS.length - 1)];
    failures++;
    state ('reconnecting', { retry_in_ms: wait, error: err || null });
    timer = setTimeout (connect, wait);
  };

  async function connect () {
    if (closed)
      return;
    state ('connecting');
    ctrl = new AbortController ();
    const q = Object.assign ({}, query);
    if (lastSeq !== null && q.stream)
      q.after = lastSeq;
    let silence = null;
    const alive = () => {
      clearTimeout (silence);
      silence = setTimeout (() => ctrl.abort (), LIVE_SILENCE_MS);
    };
    let err = null;
    try {
      alive ();
      let res = await fetch (BASE + '/live' + queryString (q), {
        headers: { Accept: 'text/event-stream', Authorization: 'Bearer ' + access },
        credentials: 'omit', cache: 'no-store', signal: ctrl.signal
      });
      if (res.status === 401 && refreshToken) {
        await refreshNow ();
        if (closed)
          return;
        res = await fetch (BASE + '/live' + queryString (q), {
          headers: { Accept: 'text/event-stream', Authorization: 'Bearer ' + access },
          credentials: 'omit', cache: 'no-store', signal: ctrl.signal
        });
      }
      if (!res.ok) {
        err = await errorFrom (res);
        const curable = err.status === 429 || err.status >= 500 || err.status === 401;
        if (!curable) {
          clearTimeout (silence);
          closed = true;
          state ('stopped', { error: err });
          return;
        }
        if (err.status === 401 && !refreshToken) {
          clearTimeout (silence);
          closed = true;
          state ('stopped', { error: err });
          return;
        }
        throw err;
      }
      failures = 0;
      state ('live');
      const reader = res.body.getReader ();
      const dec = new TextDecoder ();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read ();
        if (done)
          break;
        alive ();
        buf = sseParse (buf + dec.decode (value, { stream: true }), (name, text) => {
          let data = null;
          try {
            data = JSON.parse (text);
          } catch (e) {
            return;
          }
          if (name === 'events' && data && Array.isArray (data.events) && data.events.length) {
            const s = data.events[data.events.length - 1].seq;
            if (typeof s === 'number')
              lastSeq = s;
          }
          if (name === 'error' && data && data.error)
            err = new ApiError (0, data.error.code, data.error.message, []);
          onEvent (name, data);
        }, () => {});
        if (closed)
          break;
      }
      if (!err)
        err = new ApiError (0, 'ENDED', 'The live feed ended', []);
    } catch (e) {
      err = e instanceof ApiError ? e
        : (e && e.name === 'AbortError')
          ? new ApiError (0, 'SILENT', 'The live feed went silent', [])
          : networkError (e);
    }
    clearTimeout (silence);
    if (closed)
      return;
    if (err && err.code === 'AUTH')
      await refreshNow ();
    again (err);
  }

  connect ();
  return {
    close () {
      closed = true;
      clearTimeout (timer);
      if (ctrl)
        ctrl.abort ();
    }
  };
}

export const api = {
  user: null,
  get, post, patch, del, live,
  login, logout, refreshNow, onSignedOut, signedIn, queryString, ApiError
};

export default api;
