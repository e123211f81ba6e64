// The service worker. BUILD (the line above, written by the server) names the
// hashed static files and the offline page of this version of the UI.
//
// - /static/ files are answered from the cache: their names change with their
//   content, so a kept copy is never stale and a repeat visit fetches none.
// - Page navigations go to the network; when it cannot be reached, the offline
//   page says so plainly instead of the browser's own error.
// - /api and everything else is left to the network: nothing private is kept.
const CACHE = `cnop-${BUILD.version}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(BUILD.precache))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  // Versions of the UI that are no longer served give their space back.
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("cnop-") && name !== CACHE).map((name) => caches.delete(name)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.open(CACHE).then(async (cache) => {
      const kept = await cache.match(request);
      if (kept) return kept;
      const answer = await fetch(request);
      if (answer.ok) await cache.put(request, answer.clone());
      return answer;
    }));
  } else if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(async () => {
      const cache = await caches.open(CACHE);
      return (await cache.match(BUILD.offline)) ?? Response.error();
    }));
  }
});
