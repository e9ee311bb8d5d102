// The main menu is a <details> open in the markup (it works without JS). On a narrow screen it starts
// closed, its summary the disclosure button; on a wide one it stays open and the summary is hidden.
// Once fitted, the menu carries data-fitted, so whoever waits on it (a test, a script) waits for a state.
(function () {
  var narrow = window.matchMedia("(max-width: 760px)");
  function fit() {
    document.querySelectorAll("details[data-nav]").forEach(function (nav) {
      if (narrow.matches) { nav.removeAttribute("open"); } else { nav.setAttribute("open", ""); }
      nav.setAttribute("data-fitted", "");
    });
  }
  document.addEventListener("DOMContentLoaded", fit);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) { fit(); }
  });
  narrow.addEventListener("change", fit);
})();
