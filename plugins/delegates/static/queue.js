/* The phone's outbox of the delegates' forms (IndexedDB), shared by the pages (offline.js) and the service
   worker (sw.js). One item per form sent while the network was down, keyed by the form's client_id, so
   keeping the same form twice keeps it once; the server makes one record per client_id however often the
   item is sent. An item: {client_id, by (the user who saved it), url, label, fields: [[name, value]],
   files: [[name, Blob, filename]], saved_at, state: "waiting" | "refused" | "signin", message}. */
(function (scope) {
  "use strict";
  var DB_NAME = "sila-delegates", STORE = "outbox";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var req = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  /* An item from a form's data: text fields as they are, chosen files (not the empty ones). */
  function fromFormData(data, url, label) {
    var item = { url: url, label: label || "", fields: [], files: [], saved_at: new Date().toISOString(),
                 state: "waiting", message: "" };
    data.forEach(function (value, name) {
      if (typeof value === "string") {
        item.fields.push([name, value]);
        if (name === "client_id") { item.client_id = value; }
        if (name === "by") { item.by = value; }
      } else if (value && value.size > 0) {
        item.files.push([name, value, value.name || "photo"]);
      }
    });
    if (!item.client_id) { item.client_id = newId(); item.fields.push(["client_id", item.client_id]); }
    return item;
  }

  function newId() {
    if (scope.crypto && scope.crypto.randomUUID) { return scope.crypto.randomUUID(); }
    var b = new Uint8Array(16);
    scope.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  scope.SilaQueue = {
    fromFormData: fromFormData,
    newId: newId,
    save: function (item) { return run("readwrite", function (s) { return s.put(item); }); },
    all: function () {
      return run("readonly", function (s) { return s.getAll(); }).then(function (items) {
        return (items || []).sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
      });
    },
    remove: function (id) { return run("readwrite", function (s) { return s.delete(id); }); }
  };
})(self);
