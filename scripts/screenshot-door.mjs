// docs/door.png: the door app at a phone's width (390 CSS px) after a ticket was scanned
// from a photo of its QR code, in headless Chromium against a fresh evreg-dev. Signed in
// as the event's organizer (who may check in at their own event, like STAFF).
//
//   node scripts/screenshot-door.mjs [path, default docs/door.png]

import { writeFileSync } from 'node:fs';
import { openBrowserEnv } from '../tests/browser/harness.mjs';

const out = process.argv[2] ?? 'docs/door.png';
const env = await openBrowserEnv();
try {
  const password = 'correct horse battery';
  const email = env.api.email('organizer');
  const organizer = await env.api.organizer(email, password);
  const event = await organizer.createEvent({ name: 'Rust Meetup' });
  const attendee = await env.api.call('POST', `/events/${event.id}/registrations`, {
    body: { email: env.api.email('ann'), full_name: 'Ann Lee', phone: '+44 20 7946 0958' },
  });
  const ticketUrl = `${env.url}/registrations/${attendee.id}/ticket?token=${encodeURIComponent(attendee.manage_token)}`;
  let png;
  for (let attempt = 0; !png; attempt++) {
    const response = await fetch(ticketUrl);
    if (response.ok) png = Buffer.from(await response.arrayBuffer());
    else if (attempt > 100) throw new Error(`no ticket: ${response.status}`);
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { page } = await env.newPage();
  await page.goto(`${env.url}/door`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('#signin-form button');
  await page.selectOption('#event-select', event.id);
  await page.click('#pick-form button');
  await page.waitForFunction(() => document.documentElement.dataset.synced);
  await page.setInputFiles('#photo', { name: 'ticket.png', mimeType: 'image/png', buffer: png });
  await page.waitForFunction(() => document.getElementById('who').textContent === 'Ann Lee');
  writeFileSync(out, await page.screenshot({ fullPage: false }));
  console.log(`wrote ${out}`);
} finally {
  await env.close();
}
