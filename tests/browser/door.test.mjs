// The door app (/door) in headless Chromium at a phone's width, as door staff use it: sign
// in as STAFF, pick the event, sync its key and revocation list; then with the network
// cut, reload (the service worker serves the app) and check tickets on the device: a good
// one (from a photo of its QR code) is VALID, a forged one, a cancelled one and a second
// scan are REFUSED; back online the queue syncs to POST /checkins, and a ticket checked in
// elsewhere meanwhile shows the conflict with the first check-in's time. No
// Content-Security-Policy violation on the way.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { ROOT, openBrowserEnv } from './harness.mjs';

const PASSWORD = 'correct horse battery';

let env;

before(async () => {
  env = await openBrowserEnv();
});

after(async () => {
  await env?.close();
});

/** A STAFF account: an ADMIN (made with `evreg-dev create-admin`, as the README's quick
 * start does) creates it with POST /users. Returns its email. */
async function staffAccount() {
  const admin = env.api.email('admin');
  await promisify(execFile)(
    process.env.EVREG_DEV_BIN ?? path.join(ROOT, 'target/debug/evreg-dev'),
    ['create-admin', '--email', admin],
    { env: { ...process.env, EVREG_DATA_DIR: env.dataDir, EVREG_ADMIN_PASSWORD: PASSWORD } },
  );
  const { access_token: token } = await env.api.call('POST', '/auth/login', { body: { email: admin, password: PASSWORD } });
  const staff = env.api.email('staff');
  await env.api.call('POST', '/users', { token, body: { email: staff, password: PASSWORD, role: 'STAFF' } });
  return staff;
}

/** The registration's QR ticket as a PNG, once the ticket worker has issued it. */
async function ticketPng(registration) {
  const url = `${env.url}/registrations/${registration.id}/ticket?token=${encodeURIComponent(registration.manage_token)}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(url);
    if (response.ok) return Buffer.from(await response.arrayBuffer());
    if (Date.now() > deadline) throw new Error(`no ticket for ${registration.id}: ${response.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The text of a ticket's QR code, read by the app's own decoder in `page`. */
function decodeInPage(page, png) {
  return page.evaluate(async (base64) => {
    const { decodeFile } = await import('/door/scanner.js');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return decodeFile(new Blob([bytes], { type: 'image/png' }));
  }, png.toString('base64'));
}

/** Resolves once the result panel says `verdict` with a reason that contains `reason`. */
async function untilVerdict(page, verdict, reason) {
  await page.waitForFunction(
    ([v, r]) => document.getElementById('verdict').textContent === v && document.getElementById('reason').textContent.includes(r),
    [verdict, reason],
    { timeout: 10_000 },
  );
}

/** Types (pastes) `code` into the ticket field and checks it. */
async function typeCode(page, code) {
  await page.fill('#code', code);
  await page.click('#code-form button');
}

/** Clicks Sync (or runs `action`) and resolves once the sync it starts has finished. */
async function synced(page, action = () => page.click('#sync')) {
  const before = await page.evaluate(() => document.documentElement.dataset.synced ?? '');
  await action();
  await page.waitForFunction((b) => (document.documentElement.dataset.synced ?? '') !== b, before, { timeout: 15_000 });
}

test('the door checks tickets offline and syncs the scans when back online', async () => {
  const staff = await staffAccount();
  const organizer = await env.api.organizer();
  const start = new Date(Date.now() + 3_600_000);
  const event = await organizer.createEvent({
    name: 'Door night',
    // No daylight saving in Tokyo: its offset is the same whenever the test runs.
    timezone: 'Asia/Tokyo',
    date: start.toISOString(),
    end_date: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
  });
  const register = (name) =>
    env.api.call('POST', `/events/${event.id}/registrations`, {
      body: { email: env.api.email(name.split(' ')[0].toLowerCase()), full_name: name, phone: '+44 20 7946 0958' },
    });
  const good = await register('Ann Lee');
  const cancelled = await register('Bo Chen');
  const elsewhere = await register('Cy Diaz');

  const { context, page, violations } = await env.newPage();
  await page.goto(`${env.url}/door`);
  await page.getByLabel('Email').fill(staff);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.click('#signin-form button');
  await page.waitForFunction(() => document.querySelectorAll('#event-select option').length > 0);
  await synced(page, async () => {
    await page.selectOption('#event-select', event.id);
    await page.click('#pick-form button');
  });
  assert.equal((await page.textContent('#event-name')).trim(), 'Door night');
  await page.waitForFunction(() => document.documentElement.dataset.offline === 'ready');

  const goodPng = await ticketPng(good);
  const goodCode = await decodeInPage(page, goodPng);
  assert.match(goodCode, /^EVR1\./);
  const cancelledCode = await decodeInPage(page, await ticketPng(cancelled));
  const elsewhereCode = await decodeInPage(page, await ticketPng(elsewhere));

  // Cancelled before the door goes offline: the revocation list the sync fetches names it.
  await env.api.call('DELETE', `/registrations/${cancelled.id}?token=${encodeURIComponent(cancelled.manage_token)}`);
  await synced(page);
  assert.match(await page.textContent('#event-info'), /1 cancelled ticket known/);
  // The start on the event's own clock, not the device's (the browser here runs in UTC).
  assert.match(await page.textContent('#event-info'), /GMT\+9/);
  assert.equal((await page.textContent('#message')).trim(), '');

  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('#scan:not([hidden])');
  assert.equal(await page.textContent('#network'), 'Offline');

  await page.setInputFiles('#photo', { name: 'ticket.png', mimeType: 'image/png', buffer: goodPng });
  await untilVerdict(page, 'VALID', 'offline');

  // One byte of the signature changed (the payload's last base64url characters).
  const last = goodCode.at(-2);
  const forged = `${goodCode.slice(0, -2)}${last === 'A' ? 'B' : 'A'}${goodCode.at(-1)}`;
  await typeCode(page, forged);
  await untilVerdict(page, 'REFUSED', 'Forged');

  await typeCode(page, cancelledCode);
  await untilVerdict(page, 'REFUSED', 'Registration cancelled');

  await typeCode(page, goodCode);
  await untilVerdict(page, 'REFUSED', 'Already scanned at');

  // Scanned here offline while another door checks the same ticket in online.
  await typeCode(page, elsewhereCode);
  await untilVerdict(page, 'VALID', 'offline');
  const first = await env.api.call('POST', '/checkins', {
    token: organizer.token,
    body: { ticket: elsewhereCode, event_id: event.id },
  });
  assert.equal(await page.textContent('#queue'), '2 to sync');

  await synced(page, () => context.setOffline(false));
  const statuses = Object.fromEntries((await organizer.registrations(event.id)).map((r) => [r.id, r.status]));
  assert.equal(statuses[good.id], 'CHECKED_IN');
  assert.equal(statuses[cancelled.id], 'CANCELLED');
  const firstTime = await page.evaluate(
    (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }),
    first.checked_in_at,
  );
  await untilVerdict(page, 'REFUSED', `Already checked in elsewhere at ${firstTime}`);
  assert.match(await page.textContent('#scans li.conflict'), new RegExp(`already checked in at ${firstTime}`));
  assert.match(await page.textContent('#scans li.checked-in'), /Ann Lee · checked in/);
  assert.equal(await page.textContent('#queue'), 'All synced');
  assert.deepEqual(violations, []);
});
