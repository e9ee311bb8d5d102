/* The letter template editor: merge-field buttons insert "{{ field }}" where the cursor was (in the
   subject or a paragraph). Without JavaScript the buttons stay hidden and the list of fields beside the
   form says what to type. Loaded again by each htmx swap of the page: it wires itself once. */
(function () {
  "use strict";
  if (window.lettersTemplateEditor) { reveal(document); return; }
  window.lettersTemplateEditor = true;
  var last = null;

  function reveal(root) {
    var boxes = root.querySelectorAll ? root.querySelectorAll("[data-merge-buttons]") : [];
    for (var i = 0; i < boxes.length; i++) { boxes[i].hidden = false; }
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-merge-target]")) { last = event.target; }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-insert]") : null;
    if (!button) { return; }
    var target = last && document.contains(last) ? last : document.querySelector("[data-merge-target]");
    if (!target) { return; }
    var text = "{{ " + button.getAttribute("data-insert") + " }}";
    var start = typeof target.selectionStart === "number" ? target.selectionStart : target.value.length;
    var end = typeof target.selectionEnd === "number" ? target.selectionEnd : start;
    target.setRangeText(text, start, end, "end");
    target.focus();
    target.dispatchEvent(new Event("input", { bubbles: true }));
  });

  document.addEventListener("htmx:load", function (event) { reveal(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  } else {
    reveal(document);
  }
})();
