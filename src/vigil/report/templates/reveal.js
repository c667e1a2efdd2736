(function () {
  "use strict";
  var all = document.getElementById("reveal-all");
  // Start from the page's default, not from a state the browser restored on reload.
  all.checked = all.defaultChecked;
  function syncAll() {
    document.body.classList.toggle("reveal-all", all.checked);
  }
  all.addEventListener("change", syncAll);
  syncAll();
  document.querySelectorAll("button.reveal").forEach(function (button) {
    var img = button.querySelector("img.thumb");
    function show(on) {
      img.classList.toggle("revealed", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
    button.addEventListener("click", function () { show(!img.classList.contains("revealed")); });
    button.addEventListener("mouseleave", function () { show(false); });
    button.addEventListener("blur", function () { show(false); });
  });
})();
