/* The delegates' service worker (scope /delegates/). It keeps the screens the delegate opened (the route,
   the forms; not the photos) and the portal's styles and scripts, so that they open again without a connection (network
   first, the kept copy when the network fails), and it keeps a form the browser sent while the network failed
   under it in the outbox (queue.js), answering with the route page; the page sends the outbox when the
   network returns. Signing out clears the kept screens. */
importScripts("queue.js");

var CACHE = "sila-delegates-v1";
var ASSETS = ["/static/css/app.css", "/static/css/workflow.css", "/static/vendor/htmx.min.js", "/static/js/nav.js",
              "/delegates/static/delegates.css", "/delegates/static/queue.js", "/delegates/static/offline.js"];
var QUEUED = /^\/delegates\/beneficiaries\/\d+\/(visit|contact)$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(ASSETS.map(function (url) { return cache.add(url).catch(function () {}); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("sila-delegates") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function keepForm(request) {
  return request.formData().then(function (data) {
    var item = self.SilaQueue.fromFormData(data, request.url, "");
    item.label = new URL(request.url).pathname;
    return self.SilaQueue.save(item);
  }).then(function () { return Response.redirect(new URL("/delegates/", self.location.origin).href, 303); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST") {
    if (url.pathname === "/logout") {
      event.respondWith(caches.delete(CACHE).then(function () { return fetch(request); }));
    } else if (request.mode === "navigate" && QUEUED.test(url.pathname)) {
      var copy = request.clone();
      event.respondWith(fetch(request).catch(function () { return keepForm(copy); }));
    }
    return;
  }
  if (request.method !== "GET") { return; }
  if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(fetch(request).then(function (resp) {
      if (resp.ok) { var c = resp.clone(); caches.open(CACHE).then(function (cache) { cache.put(url.pathname, c); }); }
      return resp;
    }).catch(function () { return caches.match(url.pathname); }));
  } else if (url.pathname.indexOf("/delegates/") === 0 && url.pathname.indexOf("/delegates/static/") !== 0
             && url.pathname.indexOf("/delegates/photos/") !== 0
             && (request.mode === "navigate" || request.headers.get("HX-Boosted") === "true")) {
    // A whole page (a navigation, or htmx's boosted navigation, which gets the whole page too), kept by its
    // address: it opens again without a connection.
    event.respondWith(fetch(request).then(function (resp) {
      if (resp.ok && !resp.redirected) {
        var c = resp.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.href, c); });
      }
      return resp;
    }).catch(function () {
      return caches.match(url.href, { ignoreVary: true }).then(function (hit) {
        return hit || caches.match(new URL("/delegates/", self.location.origin).href, { ignoreVary: true });
      });
    }));
  }
});
