// Upload progress for forms marked data-upload-progress="<selector of a <progress>>" (htmx posts).
document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target.closest ? event.target.closest("form[data-upload-progress]") : null;
  if (!form || !event.detail.lengthComputable) return;
  var bar = document.querySelector(form.getAttribute("data-upload-progress"));
  if (bar) bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});
