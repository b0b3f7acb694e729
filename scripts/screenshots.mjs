// `make screenshots`: docs/event-page.png and docs/attendee-page.png, the two pages at a
// phone's width (390 CSS px, 1 device pixel per CSS pixel, the whole page), as the README
// shows them. Uses the browser tests' harness (tests/browser/harness.mjs): its own
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
} finally {
  await env.close();
}

async function shoot(page, name) {
  const file = path.join(ROOT, 'docs', name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`wrote ${path.relative(ROOT, file)}`);
}
