// The door app's service worker: keeps every file of the app so /door opens and works
// with no network. Cache first (a door's network is often bad: no waiting on it); the
// server writes the app's version below (a digest of every file), so any change to the
// app changes this script, the browser installs the new worker, and it fetches the whole
// app again in one go (no mix of old and new modules). API requests are never cached.

const VERSION = 'DOOR_VERSION';
const CACHE = `door-${VERSION}`;
/** Every file of the app (handlers::common::door::DOOR_FILES; a test holds them equal). */
const SHELL = [
  '/door',
  '/door/door.css',
  '/door/app.js',
  '/door/ticket.js',
  '/door/api.js',
  '/door/scanner.js',
  '/door/sw.js',
  '/door/manifest.webmanifest',
  '/door/icon.svg',
  '/door/idb-keyval.js',
  '/door/jsQR.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'no-cache' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) {
    return;
  }
  event.respondWith(
    caches.match(url.pathname, { cacheName: CACHE }).then((cached) => cached || fetch(event.request)),
  );
});
