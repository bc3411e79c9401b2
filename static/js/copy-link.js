// "Copy link" buttons: copy the value of the input named by data-copy-target and say so on
// the button for a moment (a file of its own: the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    const input = document.getElementById(button.dataset.copyTarget);
    if (!input) { return; }
    const label = button.textContent;
    button.addEventListener("click", function () {
      const done = function () {
        button.textContent = button.dataset.copiedLabel || "Copied";
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      } else {
        input.select();
        document.execCommand("copy");
        done();
      }
    });
  });
})();
