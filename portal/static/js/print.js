// "Print" buttons on printable pages (inline handlers are blocked by the content security policy).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
});
