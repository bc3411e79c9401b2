// The header's menu on phones: the links fold behind a "Menu" button (a static file: the
// Content-Security-Policy allows no inline script). Without JavaScript the links stay shown.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector(".menu-toggle button");
  var menu = document.getElementById("site-menu");
  if (!button || !menu) { return; }
  button.addEventListener("click", function () {
    var open = menu.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
});
