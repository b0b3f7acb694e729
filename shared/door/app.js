// The door app: sign in, pick an event, keep its key and revocation list, check tickets
// offline, and sync the scans to POST /checkins when the network allows.
//
// Everything lives in IndexedDB (idb-keyval): the session, the event ('door') and one
// record per scan ('scan:<event>:<registration>'), so a reload, a crash or a day without
// network loses nothing; localStorage would do for the size, but it blocks the page on
// every write and service workers cannot read it.

import { get, set, del, entries } from './idb-keyval.js';
import * as api from './api.js';
import { judge, importTicketKey } from './ticket.js';
import { decodeFile, startCamera } from './scanner.js';

const $ = (id) => document.getElementById(id);

/** The event this device checks: {eventId, name, date, timezone, publicKey, key,
 * cancelled, revoked: Set, cursor, refreshedAt}. */
let door = null;
/** This device's scans of the event, by registration id. */
let scans = new Map();
/** The registration whose verdict the result panel shows. */
let showing = null;
let stopCamera = null;
/** GET /events' answer, by id, while picking. */
let listed = new Map();
let syncing = null;

const scanKey = (scan) => `scan:${scan.eventId}:${scan.registrationId}`;
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
/** The event's start on its own clock (its IANA `timezone`, as its page shows it), whatever
 * the device's zone; the device's zone for events listed before the field existed. */
const eventStart = (event) =>
  new Date(event.date).toLocaleString([], { timeZone: event.timezone || undefined, timeZoneName: 'short' });

function say(text) {
  $('message').textContent = text || '';
  $('message').hidden = !text;
}

function show(section) {
  for (const id of ['signin', 'pick', 'scan']) $(id).hidden = id !== section;
}

function renderStatus() {
  $('network').textContent = navigator.onLine ? 'Online' : 'Offline';
  $('network').className = `badge ${navigator.onLine ? 'online' : 'offline'}`;
  const queued = [...scans.values()].filter((scan) => scan.status === 'queued').length;
  $('queue').textContent = queued ? `${queued} to sync` : 'All synced';
}

function renderEvent() {
  $('event-name').textContent = door.name;
  const revoked = door.revoked.size;
  $('event-info').textContent = [
    door.date ? eventStart(door) : '',
    door.cancelled ? 'EVENT CANCELLED' : `${revoked} cancelled ticket${revoked === 1 ? '' : 's'} known`,
    door.refreshedAt ? `list from ${time(door.refreshedAt)}` : 'no revocation list yet',
  ].filter(Boolean).join(' · ');
}

function describe(scan) {
  switch (scan.status) {
    case 'queued': return 'valid offline, to sync';
    case 'checked-in': return `checked in ${time(scan.checkedInAt || scan.at)}`;
    case 'conflict': return `CONFLICT: already checked in at ${time(scan.firstAt)}`;
    default: return `refused by the server: ${scan.reason}`;
  }
}

function renderScans() {
  const list = $('scans');
  list.replaceChildren(
    ...[...scans.values()].reverse().map((scan) => {
      const item = document.createElement('li');
      item.className = scan.status;
      item.textContent = `${time(scan.at)} · ${scan.name || `ticket …${scan.registrationId.slice(-6)}`} · ${describe(scan)}`;
      return item;
    }),
  );
  renderStatus();
}

/** The result panel: VALID or REFUSED, why, and who. */
function verdict(kind, reason, who = '') {
  $('result').className = `result ${kind}`;
  $('verdict').textContent = { valid: 'VALID', refused: 'REFUSED', idle: 'Ready' }[kind];
  $('reason').textContent = reason;
  $('who').textContent = who;
}

/** Shows the scan's server outcome once it has one (a name, or the conflict). */
function renderShowing() {
  const scan = showing && scans.get(showing);
  if (!scan) return;
  if (scan.status === 'checked-in') verdict('valid', 'Checked in', scan.name);
  else if (scan.status === 'conflict') {
    verdict('refused', `Already checked in elsewhere at ${time(scan.firstAt)}`, scan.name || '');
  } else if (scan.status === 'refused') verdict('refused', scan.reason);
}

async function onScanned(text) {
  if (!door) return;
  const result = await judge(text, {
    eventId: door.eventId,
    key: door.key,
    cancelled: door.cancelled,
    revoked: door.revoked,
    scannedAt: new Map([...scans.values()].map((scan) => [scan.registrationId, scan.at])),
  });
  showing = null;
  if (!result.valid) {
    const when = result.firstAt ? ` at ${time(result.firstAt)}` : '';
    verdict('refused', `${result.reason}${when}`, scans.get(result.ticket?.registrationId)?.name || '');
    return;
  }
  const scan = {
    id: crypto.randomUUID(),
    eventId: door.eventId,
    registrationId: result.ticket.registrationId,
    ticket: result.ticket.text,
    at: new Date().toISOString(),
    status: 'queued',
  };
  scans.set(scan.registrationId, scan);
  await set(scanKey(scan), scan);
  showing = scan.registrationId;
  verdict('valid', navigator.onLine ? 'Valid ticket' : 'Valid ticket (offline, will sync)');
  renderScans();
  if (navigator.onLine) sync();
}

async function loadScans(eventId) {
  scans = new Map(
    (await entries())
      .filter(([key]) => String(key).startsWith(`scan:${eventId}:`))
      .map(([, scan]) => [scan.registrationId, scan])
      .sort((a, b) => a[1].at.localeCompare(b[1].at)),
  );
}

async function saveDoor() {
  const { key, revoked, ...stored } = door;
  await set('door', { ...stored, revoked: [...revoked] });
}

/** Fetches the event's key and the revocations since the last cursor (when online). */
async function refreshDoor() {
  const publicKey = await api.ticketKey(door.eventId);
  if (publicKey !== door.publicKey) {
    door.key = await importTicketKey(publicKey);
    door.publicKey = publicKey;
  }
  const { revoked, cancelled, cursor } = await api.revocations(door.eventId, door.cursor);
  revoked.forEach((id) => door.revoked.add(id));
  Object.assign(door, { cancelled, cursor, refreshedAt: new Date().toISOString() });
  await saveDoor();
  renderEvent();
}

/** Sends every queued scan to POST /checkins, in scan order; stops at the first that
 * cannot be sent now (offline, server trouble), keeping it and the rest queued. */
function syncScans() {
  syncing ??= (async () => {
    for (const scan of scans.values()) {
      if (scan.status !== 'queued') continue;
      const outcome = await api.checkIn(scan.ticket, scan.eventId, scan.id);
      if (!outcome) break;
      Object.assign(scan, outcome);
      await set(scanKey(scan), scan);
      renderScans();
      if (scan.registrationId === showing) renderShowing();
    }
  })().finally(() => {
    syncing = null;
  });
  return syncing;
}

/** Everything the network is for: the key and revocation list, then the queued scans
 * (each on its own: a failing list must not keep the scans from syncing). */
async function sync() {
  if (!door) return;
  const problems = [];
  for (const step of [refreshDoor, syncScans]) {
    try {
      await step();
    } catch (error) {
      if (error instanceof api.SignedOut) {
        show('signin');
        problems.push('Signed out: sign in again to sync.');
        break;
      }
      if (!(error instanceof api.Offline)) problems.push(`Sync failed: ${error.message}.`);
    }
  }
  const conflicts = [...scans.values()].filter((scan) => scan.status === 'conflict').length;
  if (conflicts) {
    problems.push(`${conflicts} ticket${conflicts === 1 ? ' was' : 's were'} already checked in elsewhere: see the list.`);
  }
  say(problems.join(' '));
  renderScans();
  document.documentElement.dataset.synced = new Date().toISOString();
}

async function openEvent(stored) {
  door = { ...stored, revoked: new Set(stored.revoked), key: await importTicketKey(stored.publicKey) };
  await loadScans(door.eventId);
  renderEvent();
  renderScans();
  verdict('idle', 'Scan a ticket');
  show('scan');
}

async function pickEvent() {
  show('pick');
  say('');
  try {
    const events = await api.events();
    listed = new Map(events.map((event) => [event.id, event]));
    $('event-select').replaceChildren(
      ...events.map((event) => new Option(`${event.name} · ${eventStart(event)}`, event.id)),
    );
    if (!events.length) say('No published events.');
  } catch (error) {
    say(error instanceof api.Offline ? 'Offline: connect once to pick an event.' : error.message);
  }
}

async function useEvent(eventId) {
  const event = listed.get(eventId);
  try {
    const publicKey = await api.ticketKey(eventId);
    door = null;
    await openEvent({
      eventId,
      name: event ? event.name : eventId,
      date: event ? event.date : null,
      timezone: event ? event.timezone : null,
      publicKey,
      cancelled: false,
      revoked: [],
      cursor: null,
      refreshedAt: null,
    });
    await saveDoor();
    await sync();
  } catch (error) {
    say(error.message);
  }
}

function wire() {
  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await api.signIn(form.get('email'), form.get('password'));
      event.target.reset();
      say('');
      const stored = await get('door');
      if (stored) {
        await openEvent(stored);
        await sync();
      } else await pickEvent();
    } catch (error) {
      say(error instanceof api.Offline ? 'Offline: signing in needs the network.' : error.message);
    }
  });
  $('pick-form').addEventListener('submit', (event) => {
    event.preventDefault();
    useEvent($('event-select').value);
  });
  $('code-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = $('code').value;
    $('code').value = '';
    await onScanned(text);
  });
  $('photo').addEventListener('change', async (event) => {
    const [file] = event.target.files;
    event.target.value = '';
    if (!file) return;
    const text = await decodeFile(file).catch(() => null);
    if (text) await onScanned(text);
    else verdict('refused', 'No QR code found in the photo');
  });
  $('camera-button').addEventListener('click', async () => {
    if (stopCamera) {
      stopCamera();
      stopCamera = null;
      $('camera').hidden = true;
      $('camera-button').textContent = 'Start camera';
      return;
    }
    try {
      $('camera').hidden = false;
      stopCamera = await startCamera($('camera'), onScanned);
      $('camera-button').textContent = 'Stop camera';
    } catch (error) {
      $('camera').hidden = true;
      say(`No camera: ${error.message}`);
    }
  });
  $('sync').addEventListener('click', sync);
  $('change-event').addEventListener('click', async () => {
    const queued = [...scans.values()].filter((scan) => scan.status === 'queued').length;
    if (queued) {
      say(`${queued} scan${queued === 1 ? '' : 's'} of this event still to sync: sync first.`);
      return;
    }
    door = null;
    scans = new Map();
    await del('door');
    await pickEvent();
  });
  $('sign-out').addEventListener('click', async () => {
    await api.signOut();
    show('signin');
  });
  addEventListener('online', () => {
    renderStatus();
    sync();
  });
  addEventListener('offline', renderStatus);
}

async function start() {
  wire();
  renderStatus();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker
      .register('/door/sw.js', { scope: '/door', type: 'classic' })
      .then(() => navigator.serviceWorker.ready)
      .then(() => {
        document.documentElement.dataset.offline = 'ready';
      })
      .catch((error) => say(`Offline mode unavailable: ${error.message}`));
  }
  if (!(await api.loadSession())) {
    show('signin');
    return;
  }
  const stored = await get('door');
  if (!stored) {
    await pickEvent();
    return;
  }
  await openEvent(stored);
  if (navigator.onLine) await sync();
}

start();
