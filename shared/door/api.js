// The API calls the door makes: sign-in, the bearer token and its refresh, the event's
// key and revocation list, check-ins. Same origin only (the page's connect-src 'self').

import { get, set, del } from './idb-keyval.js';

/** No session, or the refresh token was refused: sign in again. */
export class SignedOut extends Error {}
/** The request never reached the API (no network). */
export class Offline extends Error {}

let session;
let refreshing = null;

async function send(method, path, body, token, extra = {}) {
  const headers = { ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new Offline(error.message);
  }
}

/** A problem document's (RFC 9457) text for people, from a failed response. */
export async function problemText(response) {
  try {
    const problem = await response.json();
    return problem.detail || problem.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

/** The stored session ({email, access_token, refresh_token}), if any. */
export async function loadSession() {
  session = await get('session');
  return session;
}

async function keep(email, pair) {
  session = { email, access_token: pair.access_token, refresh_token: pair.refresh_token };
  await set('session', session);
}

/** POST /auth/login; throws with the API's message when refused. */
export async function signIn(email, password) {
  const response = await send('POST', '/auth/login', { email, password });
  if (!response.ok) throw new Error(await problemText(response));
  await keep(email, await response.json());
  return session;
}

/** Forgets the session on this device, and ends it at the API when online
 * (POST /auth/logout revokes the refresh token's family). */
export async function signOut() {
  if (session) send('POST', '/auth/logout', { refresh_token: session.refresh_token }).catch(() => {});
  session = undefined;
  refreshing = null;
  await del('session');
}

/** POST /auth/refresh, once at a time: each refresh token is good for one use, and
 * presenting it twice revokes the whole family (auth_refresh.rs). */
function refresh() {
  refreshing ??= (async () => {
    const response = await send('POST', '/auth/refresh', { refresh_token: session.refresh_token });
    if (response.status >= 400 && response.status < 500) {
      session = undefined;
      await del('session');
      throw new SignedOut('signed out: sign in again');
    }
    if (!response.ok) throw new Error(await problemText(response));
    await keep(session.email, await response.json());
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** A request with the bearer token (and `headers`); a 401 (the access token expired)
 * refreshes it and tries once more. */
export async function authed(method, path, body, headers) {
  if (!session) throw new SignedOut('sign in first');
  if (refreshing) await refreshing;
  let response = await send(method, path, body, session.access_token, headers);
  if (response.status === 401) {
    await refresh();
    response = await send(method, path, body, session.access_token, headers);
  }
  return response;
}

/** GET /events: the published events, soonest first. */
export async function events() {
  const response = await send('GET', '/events?limit=100');
  if (!response.ok) throw new Error(await problemText(response));
  return (await response.json()).items;
}

/** GET /events/{id}/ticket-key: the event's Ed25519 public key, base64url. */
export async function ticketKey(eventId) {
  const response = await send('GET', `/events/${eventId}/ticket-key`);
  if (!response.ok) throw new Error(await problemText(response));
  const key = await response.json();
  if (key.algorithm !== 'Ed25519' || key.format !== 'EVR1') throw new Error('unknown ticket format');
  return key.public_key;
}

/** GET /events/{id}/revocations from `cursor` (from the start when null), every page:
 * {revoked: [registration ids], cancelled, cursor} where `cursor` is where to ask next. */
export async function revocations(eventId, cursor) {
  const revoked = [];
  let cancelled = false;
  let more = true;
  while (more) {
    const query = new URLSearchParams({ limit: '1000' });
    if (cursor) query.set('since', cursor);
    const response = await authed('GET', `/events/${eventId}/revocations?${query}`);
    if (!response.ok) throw new Error(await problemText(response));
    const page = await response.json();
    revoked.push(...page.revocations.map((entry) => entry.registration_id));
    cancelled = page.event_status === 'CANCELLED';
    cursor = page.next_cursor;
    more = page.has_more && page.revocations.length > 0;
  }
  return { revoked, cancelled, cursor };
}

/** POST /checkins of one scan: {status: 'checked-in', name, checkedInAt} when the API checked it
 * in, {status: 'conflict', name?, firstAt} when it was already checked in (here or
 * elsewhere), {status: 'refused', reason} for any other refusal; null when the API could
 * not answer now (keep it queued). `scanId` is the Idempotency-Key: a scan whose answer
 * was lost, sent again, gets that answer back instead of a conflict with itself. */
export async function checkIn(ticket, eventId, scanId) {
  const headers = scanId ? { 'idempotency-key': scanId } : {};
  const response = await authed('POST', '/checkins', { ticket, event_id: eventId }, headers);
  if (response.ok) {
    const body = await response.json();
    return { status: 'checked-in', name: body.full_name, checkedInAt: body.checked_in_at };
  }
  if (response.status >= 500 || response.status === 429) return null;
  const problem = await response.json().catch(() => ({}));
  if (problem.code === 'already_checked_in') {
    return { status: 'conflict', firstAt: problem.checked_in_at };
  }
  return { status: 'refused', reason: problem.detail || `HTTP ${response.status}` };
}
