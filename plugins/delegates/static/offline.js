/* The delegates' forms without a connection. A form marked data-offline-form, sent while the phone is
   offline, is kept in the phone's outbox (queue.js) instead of being lost; the outbox is sent when the
   network returns (the "online" event, the page opening, the "Send now" button, and every half minute while
   something waits). Each item is posted as the form would have been, with its client_id, asking for JSON
   (X-Delegates-Offline: 1): 201 new, 200 already stored (both leave the outbox), 403/404/409/422 refused
   (kept, shown with the message, removable), 400 an expired CSRF token (a fresh one is fetched and the item
   sent once more), the sign-in page (kept until the delegate signs in again), anything else kept to retry.
   Online, the form is sent by the browser as without JavaScript; if the network fails under it, the service
   worker (sw.js) keeps it in the same outbox. Without JavaScript the forms are plain POSTs. */
(function () {
  "use strict";
  if (!window.indexedDB || !window.SilaQueue) { return; }
  var Q = window.SilaQueue;
  var busy = null;
  var note = "";

  function panels() { return document.querySelectorAll("[data-offline-queue]"); }

  function setNote(text) {
    note = text;
    panels().forEach(function (p) {
      var el = p.querySelector("[data-queue-note]");
      if (el) { el.textContent = text; }
    });
  }

  function render() {
    return Q.all().then(function (items) {
      panels().forEach(function (panel) {
        panel.hidden = false;
        panel.querySelector("[data-queue-count]").textContent = String(items.length);
        panel.querySelector("[data-net-state]").textContent =
          navigator.onLine ? panel.dataset.msgOnline : panel.dataset.msgOffline;
        panel.classList.toggle("is-offline", !navigator.onLine);
        var list = panel.querySelector("[data-queue-list]");
        list.textContent = "";
        if (!items.length) {
          var empty = document.createElement("li");
          empty.className = "muted";
          empty.textContent = panel.dataset.msgEmpty;
          list.appendChild(empty);
        }
        items.forEach(function (item) {
          var li = document.createElement("li");
          li.dataset.clientId = item.client_id;
          li.className = "queued " + item.state;
          var label = document.createElement("span");
          label.textContent = item.label;
          li.appendChild(label);
          var when = document.createElement("time");
          when.dateTime = item.saved_at;
          when.textContent = " " + new Date(item.saved_at).toLocaleTimeString(document.documentElement.lang || "ar",
                                                                           { hour: "2-digit", minute: "2-digit" });
          li.appendChild(when);
          var other = !mine(item, panel);
          if (item.state === "refused" || item.state === "signin" || other) {
            var msg = document.createElement("p");
            msg.className = "error";
            msg.textContent = other ? panel.dataset.msgOther : item.state === "signin" ? panel.dataset.msgSignin
              : panel.dataset.msgRefused + " " + item.message;
            li.appendChild(msg);
          }
          if (item.state === "refused") {
            var remove = document.createElement("button");
            remove.type = "button";
            remove.className = "link";
            remove.textContent = panel.dataset.msgRemove;
            remove.addEventListener("click", function () { Q.remove(item.client_id).then(render); });
            li.appendChild(remove);
          }
          list.appendChild(li);
        });
        panel.querySelector("[data-queue-note]").textContent = note;
      });
      return items;
    });
  }

  /* Saved by the signed-in user: only their own items are sent (a phone shared by two delegates keeps the
     other's until they sign in; the server refuses an item sent by someone else, too). */
  function mine(item, panel) { return !item.by || item.by === panel.dataset.user; }

  function body(item) {
    var data = new FormData();
    item.fields.forEach(function (f) { data.append(f[0], f[1]); });
    item.files.forEach(function (f) { data.append(f[0], f[1], f[2]); });
    return data;
  }

  function onLoginPage(resp) {
    return resp.redirected && new URL(resp.url).pathname.indexOf("/login") === 0;
  }

  function freshToken(panel) {
    return fetch(panel.dataset.tokenUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) {
        if (onLoginPage(resp) || !resp.ok) { return null; }
        return resp.json().then(function (j) { return j.csrf_token || null; });
      });
  }

  /* Send one item; resolves to "sent", "refused", "signin" or "retry". */
  function sendOne(item, panel, retried) {
    return fetch(item.url, { method: "POST", body: body(item), credentials: "same-origin",
                             headers: { "X-Delegates-Offline": "1", "Accept": "application/json" } })
      .then(function (resp) {
        if (onLoginPage(resp)) { item.state = "signin"; return Q.save(item).then(function () { return "signin"; }); }
        if (resp.status === 200 || resp.status === 201) {
          return Q.remove(item.client_id).then(function () { return "sent"; });
        }
        if (resp.status === 400 && !retried) {
          return freshToken(panel).then(function (token) {
            if (!token) { item.state = "signin"; return Q.save(item).then(function () { return "signin"; }); }
            item.fields = item.fields.filter(function (f) { return f[0] !== "csrf_token"; });
            item.fields.push(["csrf_token", token]);
            return Q.save(item).then(function () { return sendOne(item, panel, true); });
          });
        }
        if ([400, 403, 404, 409, 413, 422].indexOf(resp.status) >= 0) {
          return resp.json().catch(function () { return {}; }).then(function (j) {
            item.state = "refused";
            item.message = j.error || String(resp.status);
            if (j.fields) {
              Object.keys(j.fields).forEach(function (k) { item.message += " " + j.fields[k]; });
            }
            return Q.save(item).then(function () { return "refused"; });
          });
        }
        return "retry";
      }, function () { return "retry"; });
  }

  function flush() {
    if (busy || !navigator.onLine) { return busy || Promise.resolve(); }
    var panel = panels()[0];
    if (!panel) { return Promise.resolve(); }
    busy = Q.all().then(function (items) {
      var sent = [];
      var chain = Promise.resolve();
      items.filter(function (i) { return i.state !== "refused" && mine(i, panel); }).forEach(function (item) {
        chain = chain.then(function () {
          return sendOne(item, panel, false).then(function (result) { if (result === "sent") { sent.push(item.label); } });
        });
      });
      return chain.then(function () {
        if (sent.length) { setNote(panel.dataset.msgSent + " " + sent.join("، ")); }
      });
    }).catch(function () { /* the outbox stays as it is; the next trigger tries again */ })
      .then(function () { busy = null; return render(); });
    return busy;
  }

  function keep(form) {
    var item = Q.fromFormData(new FormData(form), form.action, form.dataset.offlineLabel);
    return Q.save(item).then(function () {
      form.reset();
      var id = form.querySelector("input[name=client_id]");
      if (id) { id.value = Q.newId(); }
      setNote(panels()[0] ? panels()[0].dataset.msgSaved : "");
      return render();
    });
  }

  /* The page's part: register the worker, draw the outbox, send it if something waits. Run on every delegate
     screen, including one htmx swapped in (it runs this script again). */
  function refresh() {
    var first = panels()[0];
    if (first && "serviceWorker" in navigator) {
      navigator.serviceWorker.register(first.dataset.sw, { scope: first.dataset.scope }).catch(function () {});
    }
    return render().then(function (items) { if (items.length && navigator.onLine) { flush(); } });
  }

  if (window.__silaDelegatesOffline) { window.__silaDelegatesOffline.refresh(); return; }
  window.__silaDelegatesOffline = { refresh: refresh };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-offline-form]") || navigator.onLine) { return; }
    event.preventDefault();
    keep(form);
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-queue-send]")) { flush(); }
    var locate = event.target.closest && event.target.closest("[data-locate]");
    if (locate && navigator.geolocation) {
      var form = locate.form;
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector("[name=latitude]").value = pos.coords.latitude.toFixed(6);
        form.querySelector("[name=longitude]").value = pos.coords.longitude.toFixed(6);
      });
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.name === "location_consent" && navigator.geolocation) {
      var button = event.target.form && event.target.form.querySelector("[data-locate]");
      if (button) { button.hidden = !event.target.checked; }
    }
  });

  window.addEventListener("online", function () { render().then(flush); });
  window.addEventListener("offline", render);
  setInterval(function () { if (navigator.onLine && panels().length) { flush(); } }, 30000);
  refresh();
})();
