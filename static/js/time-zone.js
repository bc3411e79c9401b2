// Fills the hidden time_zone fields of sign-up forms with the browser's own time zone
// (a static file: the Content-Security-Policy allows no inline script).
document.addEventListener("DOMContentLoaded", function () {
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { zone = ""; }
  document.querySelectorAll("input[data-time-zone]").forEach(function (field) {
    if (!field.value) { field.value = zone; }
  });
});
