// The public event page and the attendee page in headless Chromium at a phone's width, as
// an attendee uses them: read the event, register through the form, land on the attendee
// page with a QR ticket the browser decoded, fix a form error, change the name, cancel
// after the confirmation; no Content-Security-Policy violation on the way, and a form
// posted from another origin refused.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { freePort, openBrowserEnv, untilTicket } from './harness.mjs';

/** 1 March 2030, 18:00 UTC to 21:00 UTC: 19:00 to 22:00 in Berlin (CET, UTC+1). */
const MEETUP = {
  name: 'Rust Meetup',
  date: '2030-03-01T18:00:00Z',
  end_date: '2030-03-01T21:00:00Z',
  timezone: 'Europe/Berlin',
  venue: 'Hall A, Alexanderplatz 1',
  description: 'Talks on async Rust.\nPizza from 18:30.',
  max_capacity: 80,
};

let env;
let organizer;

before(async () => {
  env = await openBrowserEnv();
  organizer = await env.api.organizer();
});

after(async () => {
  await env?.close();
});

/** A new published event (MEETUP unless `fields` say otherwise) and its page's URL. */
async function newEvent(fields = {}) {
  const event = await organizer.createEvent({ ...MEETUP, ...fields });
  return { event, url: env.eventPageUrl(event) };
}

/** The trimmed text of the element `selector` matches (exactly one). */
async function text(page, selector) {
  return (await page.locator(selector).textContent()).trim();
}

/**
 * Fills the event page's form and submits it; resolves to the POST's response (before any
 * redirect is followed) once the browser has loaded where it leads.
 */
async function register(page, { email, fullName, phone = '' }) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Full name').fill(fullName);
  await page.getByLabel('Phone').fill(phone);
  const posted = page.waitForResponse((res) => res.request().method() === 'POST');
  await page.locator('form button[type=submit]').click();
  const response = await posted;
  await page.waitForLoadState('load');
  return response;
}

/** Registers a new attendee through a new event's page: the page, on the attendee page. */
async function registeredAttendee(fullName = 'Ann Lee') {
  const { event, url } = await newEvent();
  const opened = await env.newPage();
  await opened.page.goto(url);
  const response = await register(opened.page, { email: env.api.email('attendee'), fullName });
  assert.equal(response.status(), 303);
  return { event, ...opened };
}

describe('the event page', () => {
  test('a mistyped link shows a 404 page, not a problem document', async () => {
    const { page, violations } = await env.newPage();
    const response = await page.goto(`${env.url}/e/no-such-event`);
    assert.equal(response.status(), 404);
    assert.equal(await text(page, 'h1'), 'Not Found');
    assert.equal(await text(page, 'main p'), 'no such event');
    assert.deepEqual(violations, []);
  });

  test('shows the name, the local date and time and the seats left at a phone width', async () => {
    const { url } = await newEvent();
    const { page, violations, errors } = await env.newPage();
    const response = await page.goto(url);

    assert.equal(response.status(), 200);
    assert.equal(await text(page, 'h1'), 'Rust Meetup');
    assert.equal(await page.title(), 'Rust Meetup');
    const when = await text(page, 'dd:has(time)');
    assert.match(when, /^Friday 1 March 2030, 19:00 CET – 22:00 CET/);
    assert.match(when, /Times in Europe\/Berlin/);
    assert.equal(await text(page, 'dd.status'), '80 seats left');
    assert.equal(await text(page, 'p.description'), 'Talks on async Rust.\nPizza from 18:30.');
    // Mobile-first: nothing wider than the phone's screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    assert.deepEqual(violations, []);
    // Nothing the page asks for fails (the browser's own /favicon.ico request included).
    assert.deepEqual(errors, []);
  });

  test('a form error re-renders the page with the message beside the field and the input kept', async () => {
    const { url } = await newEvent();
    const { page, violations } = await env.newPage();
    await page.goto(url);

    const response = await register(page, { email: 'not an address', fullName: 'Ann Lee', phone: '+49 30 1234567' });

    assert.equal(response.status(), 422);
    assert.equal(page.url(), url);
    const email = page.getByLabel('Email');
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    const describedBy = await email.getAttribute('aria-describedby');
    assert.match(await text(page, `#${describedBy}`), /email address/);
    // The message sits right after its input.
    assert.equal(await page.locator(`#email + #${describedBy}`).count(), 1);
    assert.equal(await email.inputValue(), 'not an address');
    assert.equal(await page.getByLabel('Full name').inputValue(), 'Ann Lee');
    assert.equal(await page.getByLabel('Phone').inputValue(), '+49 30 1234567');
    assert.equal(await page.getByLabel('Full name').getAttribute('aria-invalid'), null);
    assert.deepEqual(violations, []);
  });
});

describe('the attendee page', () => {
  test('registering through the form lands (303) on it: status and a QR ticket the browser decoded', async () => {
    const { event, page, violations, errors } = await registeredAttendee();

    assert.match(page.url(), /\/registrations\/[^/?]+\?token=/);
    assert.equal(await text(page, 'h1'), 'Rust Meetup');
    assert.equal(await text(page, '#status'), 'Confirmed');
    assert.match(await text(page, 'dd:has(time)'), /^Friday 1 March 2030, 19:00 CET/);
    const ticket = await untilTicket(page);
    const image = await ticket.evaluate((img) => ({ complete: img.complete, width: img.naturalWidth, height: img.naturalHeight }));
    assert.equal(image.complete, true);
    assert.ok(image.width > 0 && image.width === image.height, `the QR image did not decode: ${JSON.stringify(image)}`);
    assert.equal(await page.locator('a[download]').getAttribute('href'), `${env.eventPageUrl(event)}.ics`);
    assert.deepEqual(violations, []);
    assert.deepEqual(errors, []);
  });

  test('changing the name shows the new name', async () => {
    const { page, violations } = await registeredAttendee('Ann Lee');
    const attendee = page.locator('dt:text-is("Attendee") + dd');
    assert.equal((await attendee.textContent()).trim(), 'Ann Lee');

    await page.getByText('Change name or phone').click();
    await page.getByLabel('Full name').fill('Ann Lee-Smith');
    const posted = page.waitForResponse((res) => res.request().method() === 'POST');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.equal((await posted).status(), 303);
    await page.waitForLoadState('load');

    assert.equal((await attendee.textContent()).trim(), 'Ann Lee-Smith');
    assert.equal(await text(page, '#status'), 'Confirmed');
    assert.deepEqual(violations, []);
  });

  test('cancelling asks for a confirmation, then the page shows it cancelled', async () => {
    const { event, page, violations } = await registeredAttendee();
    const confirm = page.getByRole('button', { name: 'Yes, cancel my registration' });
    assert.equal(await confirm.isVisible(), false, 'the cancel button shows before the confirmation is opened');

    await page.getByText('Cancel my registration', { exact: true }).click();
    const posted = page.waitForResponse((res) => res.request().method() === 'POST');
    await confirm.click();
    assert.equal((await posted).status(), 303);
    await page.waitForLoadState('load');

    assert.equal(await text(page, '#status'), 'Cancelled');
    assert.equal(await page.locator('img.ticket').count(), 0);
    assert.equal(await page.locator('form').count(), 0);
    const [registration] = await organizer.registrations(event.id);
    assert.equal(registration.status, 'CANCELLED');
    assert.deepEqual(violations, []);
  });
});

describe('the Content-Security-Policy', () => {
  test('is watched: a violation on the page is reported', async () => {
    // The check the other tests make (no violation) means something only if one is seen.
    const { url } = await newEvent();
    const { page, violations } = await env.newPage();
    await page.goto(url);
    // An inline style the policy does not admit (its hash is not in style-src).
    const directive = await page.evaluate(() => new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective), { once: true });
      const style = document.createElement('style');
      style.textContent = 'body { color: red }';
      document.head.append(style);
    }));
    assert.equal(directive, 'style-src-elem');
    const deadline = Date.now() + 5_000;
    // Both of the harness's sources: the DOM event and Chromium's console message.
    while (!['securitypolicyviolation', 'console'].every((source) => violations.some((v) => v.source === source))) {
      assert.ok(Date.now() < deadline, `the harness saw no violation: ${JSON.stringify(violations)}`);
      await page.waitForTimeout(20);
    }
    assert.match(violations.find((v) => v.source === 'securitypolicyviolation').text, /^style-src/);
  });

  test('is watched: a resource that fails to load is reported as an error', async () => {
    // Likewise for the "no console error" checks: an image of the page's own origin that 404s.
    const { url } = await newEvent();
    const { page, errors } = await env.newPage();
    await page.goto(url);
    const reported = page.waitForEvent('console', (message) => message.type() === 'error');
    await page.evaluate(() => {
      const image = document.createElement('img');
      image.src = '/no-such-image.png';
      document.body.append(image);
    });
    await reported;
    assert.match(errors.map((error) => error.text).join('\n'), /404/);
  });

  test('a form posted from another origin is refused (403) and registers nobody', async () => {
    const { event, url } = await newEvent();
    const { page, violations } = await env.newPage();
    await page.goto(url);
    // The real form's hidden fields, so that only the origin differs.
    const hidden = await page.locator('form input[type=hidden]').evaluateAll((inputs) => inputs.map((i) => [i.name, i.value]));
    assert.deepEqual(hidden.map(([name]) => name).sort(), ['csrf_token', 'idempotency_key']);

    const attacker = await serveHtml(`<!doctype html><title>Win a prize</title>
      <form method="post" action="${url}">
      ${hidden.map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`).join('\n')}
      <input type="hidden" name="email" value="victim@example.org">
      <input type="hidden" name="full_name" value="Victim">
      <button type="submit">Claim</button></form>`);
    try {
      await page.goto(attacker.url);
      const posted = page.waitForResponse((res) => res.request().method() === 'POST');
      await page.getByRole('button', { name: 'Claim' }).click();
      const response = await posted;
      assert.equal(response.status(), 403);
      assert.equal((await response.request().allHeaders()).origin, attacker.origin);
      // The browser shows why, as a page (an API client gets the problem document).
      assert.match(response.headers()['content-type'], /^text\/html/);
      assert.match(await response.text(), /this form may only be sent from its own page/);
    } finally {
      await attacker.close();
    }
    assert.deepEqual(await organizer.registrations(event.id), []);
    // The event page itself raised none; the attacker's page has no policy.
    assert.deepEqual(violations.filter((v) => v.url.startsWith(env.url)), []);
  });
});

/** A page on another origin (a second port on 127.0.0.1): `{ url, origin, close }`. */
async function serveHtml(html) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
