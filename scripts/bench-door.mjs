// The door app's offline verification time per ticket, in headless Chromium: N tickets
// (default 200) of one event, each decoded from its QR PNG by the app's own decoder
// (scanner.js: BarcodeDetector where the browser has it, else the vendored jsQR) and
// judged by ticket.js (parse, event, Ed25519 signature with WebCrypto, revocations, second
// scan). The PNGs are fetched before timing, as a camera frame would already be in memory.
// Prints a table (milliseconds per ticket). Needs target/debug/evreg-dev and Chromium
// (`make test-browser` installs both); recorded in BENCHMARKS.md.
//
//   node scripts/bench-door.mjs [N]

import { openBrowserEnv } from '../tests/browser/harness.mjs';

const count = Number(process.argv[2] ?? 200);
const env = await openBrowserEnv();
try {
  const organizer = await env.api.organizer();
  const event = await organizer.createEvent({ name: 'Door bench', max_capacity: count });
  const registrations = [];
  for (let i = 0; i < count; i++) {
    registrations.push(
      await env.api.call('POST', `/events/${event.id}/registrations`, {
        body: { email: env.api.email('attendee'), full_name: `Attendee ${i}`, phone: '+44 20 7946 0958' },
      }),
    );
  }
  const { page } = await env.newPage();
  await page.goto(`${env.url}/door`);
  const result = await page.evaluate(
    async ({ eventId, tickets }) => {
      const { judge, importTicketKey } = await import('/door/ticket.js');
      const { decode, decoderName } = await import('/door/scanner.js');
      const key = await (await fetch(`/events/${eventId}/ticket-key`)).json();
      const door = {
        eventId,
        key: await importTicketKey(key.public_key),
        cancelled: false,
        revoked: new Set(),
        scannedAt: new Map(),
      };
      const images = [];
      for (const url of tickets) {
        for (let attempt = 0; ; attempt++) {
          const response = await fetch(url);
          if (response.ok) {
            images.push(await createImageBitmap(await response.blob()));
            break;
          }
          // The ticket worker issues the PNG just after the registration.
          if (attempt > 100) throw new Error(`${url}: ${response.status}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      const texts = [];
      const decodeStart = performance.now();
      for (const image of images) texts.push(await decode(image, image.width, image.height));
      const decodeMs = performance.now() - decodeStart;
      const verifyStart = performance.now();
      let valid = 0;
      for (const text of texts) if ((await judge(text, door)).valid) valid += 1;
      const verifyMs = performance.now() - verifyStart;
      return { decoder: await decoderName(), width: images[0].width, valid, decodeMs, verifyMs };
    },
    {
      eventId: event.id,
      tickets: registrations.map((r) => `/registrations/${r.id}/ticket?token=${encodeURIComponent(r.manage_token)}`),
    },
  );
  if (result.valid !== count) throw new Error(`${result.valid} of ${count} tickets verified`);
  const row = (name, ms) => `| ${name} | ${(ms / count).toFixed(3)} | ${ms.toFixed(0)} |`;
  console.log(`door app, ${count} tickets, QR PNG ${result.width} px wide, decoder ${result.decoder}, Chromium headless`);
  console.log('| step | ms per ticket | ms total |');
  console.log('| --- | ---: | ---: |');
  console.log(row('decode (QR image → text)', result.decodeMs));
  console.log(row('verify (parse, event, Ed25519, revocations, second scan)', result.verifyMs));
  console.log(row('decode + verify', result.decodeMs + result.verifyMs));
} finally {
  await env.close();
}
