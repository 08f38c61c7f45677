// kmsd console: the little script the pages need. Loaded from the
// console's own origin (the Content-Security-Policy allows no inline
// script). Forms work without it; it only asks before destructive posts.
"use strict";
document.addEventListener("submit", function (ev) {
  var msg = ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
