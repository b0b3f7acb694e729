// `make screenshots`: docs/event-page.png, docs/attendee-page.png and docs/door.png, the two
// pages and the door app at a phone's width (390 CSS px, 1 device pixel per CSS pixel, the
// whole page), as the README shows them. The door app is signed in as the event's
// organizer (who may check in at their own event, like STAFF) and has just checked the
// attendee's ticket from a photo of its QR code. Uses the browser tests' harness (tests/browser/harness.mjs): its own
// evreg-dev on a free port with a fresh data directory, Debian's Chromium, and an event and
// a registration made through the API and the page's own form.

import path from 'node:path';
import { ROOT, openBrowserEnv, untilTicket } from '../tests/browser/harness.mjs';

const env = await openBrowserEnv();
try {
  const organizer = await env.api.organizer();
  const event = await organizer.createEvent({
    name: 'Rust Meetup Berlin',
    slug: 'rust-meetup-berlin',
    date: '2030-03-01T18:00:00Z',
    end_date: '2030-03-01T21:00:00Z',
    timezone: 'Europe/Berlin',
    venue: 'Hall A, Alexanderplatz 1, Berlin',
    description: 'Two talks on async Rust, then questions and pizza.\nDoors open at 18:30.',
    max_capacity: 80,
  });
  const { page } = await env.newPage();
  await page.goto(env.eventPageUrl(event));
  await shoot(page, 'event-page.png');

  await page.getByLabel('Email').fill('ann@example.org');
  await page.getByLabel('Full name').fill('Ann Lee');
  await page.locator('form button[type=submit]').click();
  await page.waitForURL(/\/registrations\//);
  await untilTicket(page);
  await shoot(page, 'attendee-page.png');

  const attendee = new URL(page.url());
  const ticket = await fetch(`${env.url}${attendee.pathname}/ticket${attendee.search}`);
  const door = (await env.newPage()).page;
  await door.goto(`${env.url}/door`);
  await door.getByLabel('Email').fill(organizer.email);
  await door.getByLabel('Password').fill('correct horse battery');
  await door.click('#signin-form button');
  await door.selectOption('#event-select', event.id);
  await door.click('#pick-form button');
  await door.waitForFunction(() => document.documentElement.dataset.synced);
  await door.setInputFiles('#photo', {
    name: 'ticket.png',
    mimeType: 'image/png',
    buffer: Buffer.from(await ticket.arrayBuffer()),
  });
  await door.waitForFunction(() => document.getElementById('who').textContent === 'Ann Lee');
  await shoot(door, 'door.png');
} finally {
  await env.close();
}

async function shoot(page, name) {
  const file = path.join(ROOT, 'docs', name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`wrote ${path.relative(ROOT, file)}`);
}
