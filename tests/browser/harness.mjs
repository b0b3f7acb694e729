// The browser tests' harness: one evreg-dev (embedded mode) for the run, headless Chromium
// (Debian's package, driven by playwright-core over its pipe), pages at a phone's size that
// record Content-Security-Policy violations, and the HTTP API calls that set data up
// (signup, login, POST /events) as the README's journey makes them.
//
// Used by every tests/browser/*.test.mjs file and by scripts/screenshots.mjs:
//
//   const env = await openBrowserEnv();          // evreg-dev + Chromium
//   const { page, violations } = await env.newPage();
//   const organizer = await env.api.organizer(); // a signed-in ORGANIZER
//   const event = await organizer.createEvent({ name: 'Rust Meetup' });
//   await page.goto(env.eventPageUrl(event));
//   ...
//   await env.close();
//
// `tests/browser/run.mjs` starts ONE evreg-dev for all the test files and hands its URL to
// them in EVREG_BROWSER_URL; a file run on its own (`node --test tests/browser/x.test.mjs`)
// starts its own.

import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** The repository's root directory. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Debian's Chromium (scripts/browser_setup.sh installs it); `EVREG_CHROMIUM` overrides. */
export const CHROMIUM = process.env.EVREG_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Chromium's flags. The network here is closed: without the last five, Chromium keeps
 * trying to reach Google's services (QUIC probes, component and sync updates, field
 * trials) and a launch or a navigation can hang on them. `--no-sandbox`: the tests run as
 * root in CI, where Chromium's sandbox refuses to start.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A phone's viewport in CSS pixels (an iPhone 12 to 15's), for a mobile-first page. */
export const PHONE = { width: 390, height: 844 };

/** How long the harness waits for evreg-dev to answer /health, in milliseconds. */
const STARTUP_DEADLINE_MS = 60_000;

/**
 * A free TCP port on 127.0.0.1. With `EVREG_TEST_PORTS=FIRST-LAST` set, the first free
 * one of that range (for machines where a process may only listen on given ports);
 * otherwise one the system picks.
 */
export async function freePort() {
  const range = process.env.EVREG_TEST_PORTS?.match(/^(\d+)-(\d+)$/);
  if (!range) return bindable(0);
  for (let port = Number(range[1]); port <= Number(range[2]); port++) {
    const bound = await bindable(port).catch(() => null);
    if (bound !== null) return bound;
  }
  throw new Error(`no free port in EVREG_TEST_PORTS=${process.env.EVREG_TEST_PORTS}`);
}

function bindable(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
    });
  });
}

/**
 * Starts target/debug/evreg-dev (`EVREG_DEV_BIN` overrides; the test command builds it) on
 * a free 127.0.0.1 port with a fresh data directory under target/ and the per-address
 * throttle off, and waits until GET /health answers 200, failing at once if the process
 * exits first. Returns `{ url, dataDir, log, stop }`; `stop()` ends the process by its PID
 * and waits for it. The process is also killed when this Node process exits, whatever
 * the reason. Its output goes to `<dataDir>/evreg-dev.log`.
 */
export async function startEvreg() {
  const bin = process.env.EVREG_DEV_BIN ?? path.join(ROOT, 'target/debug/evreg-dev');
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: build it first (cargo build -p evreg-dev)`);
  }
  mkdirSync(path.join(ROOT, 'target'), { recursive: true });
  const dataDir = mkdtempSync(path.join(ROOT, 'target/browser.'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = path.join(dataDir, 'evreg-dev.log');
  const out = openSync(log, 'a');
  const child = spawn(bin, [], {
    env: { ...process.env, PORT: String(port), EVREG_DATA_DIR: dataDir, EVREG_RATE_LIMITS: 'off' },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let running = true;
  exited.then(() => { running = false; });
  const killOnExit = () => { if (running) process.kill(child.pid, 'SIGKILL'); };
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (running) process.kill(child.pid, 'SIGTERM');
    await exited;
  };

  try {
    await untilHealthy(url, exited, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, dataDir, log, stop };
}

// Polls /health until it answers 200, the process exits or the deadline passes.
async function untilHealthy(url, exited, log) {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  let gone = null;
  exited.then((status) => { gone = status; });
  for (;;) {
    if (gone) throw new Error(`evreg-dev exited (${JSON.stringify(gone)}) before answering; see ${log}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`evreg-dev did not answer ${url}/health in time; see ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Launches Chromium headless with `CHROMIUM_FLAGS` and a fresh, temporary profile. */
export async function launchChromium() {
  // playwright-core makes a new user-data directory for every launch and deletes it on close.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}

/**
 * A new browser context (its own cookies and storage) with one page at `viewport`
 * (default `PHONE`). `violations` collects every Content-Security-Policy violation the
 * page's documents report, across navigations: the `securitypolicyviolation` DOM event
 * (reported through a binding, which the policy cannot block) and Chromium's console
 * message for it, as `{ source, url, text }`. `errors` collects every other message the
 * console shows as an error (a resource that failed to load, an uncaught exception), as
 * `{ url, text }`.
 */
export async function newPage(browser, { viewport = PHONE, deviceScaleFactor = 1 } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor, isMobile: true, hasTouch: true });
  const violations = [];
  await context.exposeBinding('__evregCspViolation', ({ frame }, text) => {
    violations.push({ source: 'securitypolicyviolation', url: frame.url(), text });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__evregCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => {
    // Cut: a blocked data: URL is quoted whole.
    const text = message.text().slice(0, 300);
    if (/Content Security Policy/i.test(text)) {
      violations.push({ source: 'console', url: page.url(), text });
    } else if (message.type() === 'error') {
      errors.push({ url: page.url(), text });
    }
  });
  page.on('pageerror', (error) => errors.push({ url: page.url(), text: String(error).slice(0, 300) }));
  return { context, page, violations, errors };
}

/**
 * Reloads the attendee page on `page` until its QR ticket is there (the tickets worker
 * issues it moments after the registration) or 15 s have passed; the ticket's `<img>`
 * locator.
 */
export async function untilTicket(page) {
  const ticket = page.locator('img.ticket');
  const deadline = Date.now() + 15_000;
  while ((await ticket.count()) === 0) {
    if (Date.now() > deadline) throw new Error(`no ticket on ${page.url()} after 15 s`);
    await page.waitForTimeout(100);
    await page.reload();
  }
  return ticket;
}

/** An HTTP error from the API, with its status and body. */
export class ApiError extends Error {
  constructor(method, url, status, body) {
    super(`${method} ${url}: ${status} ${body}`);
    this.status = status;
    this.body = body;
  }
}

/** The JSON API of the evreg at `url`: what the tests set up through it. */
export class Api {
  constructor(url) {
    this.url = url;
    this.count = 0;
  }

  /** `method path` with a JSON body; the parsed JSON answer (null for 204), else ApiError. */
  async call(method, pathname, { body, token, headers = {} } = {}) {
    const res = await fetch(`${this.url}${pathname}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new ApiError(method, pathname, res.status, text);
    return text ? JSON.parse(text) : null;
  }

  /** A fresh address, unique in this process (`<prefix>-<n>-<pid>@example.org`). */
  email(prefix = 'user') {
    this.count += 1;
    return `${prefix}-${this.count}-${process.pid}@example.org`;
  }

  /** POST /auth/signup then /auth/login: a signed-in ORGANIZER (`Organizer`). */
  async organizer(email = this.email('organizer'), password = 'correct horse battery') {
    await this.call('POST', '/auth/signup', { body: { email, password } });
    const { access_token: token } = await this.call('POST', '/auth/login', { body: { email, password } });
    return new Organizer(this, email, token);
  }
}

/** An ORGANIZER signed in through the API. */
export class Organizer {
  constructor(api, email, token) {
    this.api = api;
    this.email = email;
    this.token = token;
  }

  /**
   * POST /events: a PUBLISHED event, a week from now at 19:00 UTC for 3 hours, in Hall A,
   * 80 seats, free, with a slug unique in this process, unless `fields` says otherwise.
   * Returns the created event (its `id`, `slug`, ...).
   */
  async createEvent(fields = {}) {
    const date = new Date(Date.now() + 7 * 86_400_000);
    date.setUTCHours(19, 0, 0, 0);
    const end = new Date(date.getTime() + 3 * 3_600_000);
    this.api.count += 1;
    return this.api.call('POST', '/events', {
      token: this.token,
      body: {
        name: 'Rust Meetup',
        // A slug derived from the name ends in the id's first 8 hex digits, which in a UUIDv7
        // are the high bits of its timestamp (65 s wide): two events of one name made within
        // a minute would collide (409 slug_taken).
        slug: `event-${this.api.count}-${process.pid}`,
        date: date.toISOString(),
        end_date: end.toISOString(),
        venue: 'Hall A',
        max_capacity: 80,
        status: 'PUBLISHED',
        ...fields,
      },
    });
  }

  /** GET /events/{id}/registrations (every page): the event's registrations. */
  async registrations(eventId) {
    const items = [];
    let cursor = '';
    do {
      const page = await this.api.call('GET', `/events/${eventId}/registrations${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, { token: this.token });
      items.push(...page.items);
      cursor = page.next_cursor ?? '';
    } while (cursor);
    return items;
  }
}

/**
 * evreg-dev and Chromium together: the one evreg-dev of the run when `EVREG_BROWSER_URL`
 * names it (tests/browser/run.mjs, with its data directory in `EVREG_BROWSER_DATA_DIR`),
 * else one of its own. Returns `{ url, dataDir, api, browser, newPage(options),
 * eventPageUrl(event), close() }` (`dataDir`: for `evreg-dev create-admin`); `close()`
 * closes the browser and stops an evreg-dev it started.
 */
export async function openBrowserEnv() {
  const server = process.env.EVREG_BROWSER_URL
    ? { url: process.env.EVREG_BROWSER_URL, dataDir: process.env.EVREG_BROWSER_DATA_DIR, stop: async () => {} }
    : await startEvreg();
  let browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    url: server.url,
    dataDir: server.dataDir,
    api: new Api(server.url),
    browser,
    newPage: (options) => newPage(browser, options),
    eventPageUrl: (event) => `${server.url}/e/${event.slug}`,
    close: async () => {
      try {
        await browser.close();
      } finally {
        await server.stop();
      }
    },
  };
}
