// The incoming-call notice (#call-notice): no poll while the tab is hidden, one as soon as it is shown again.
// An htmx trigger filter ("every 3s [document.visibilityState === 'visible']") would need eval, which the
// Content-Security-Policy (script-src 'self') forbids, so the same rule is kept here, in a file.
(function () {
  if (window.silaCallNotice) return; // boosted navigation loads this script again with each page
  window.silaCallNotice = true;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "call-notice" && document.visibilityState === "hidden") event.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    var elt = document.getElementById("call-notice");
    if (elt && window.htmx && document.visibilityState === "visible") window.htmx.trigger(elt, "phone-notice-refresh");
  });
})();
