// Plays the span of a finding in the embedded listening copy and stops at the span's end.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var stopAt = null;
  var activeRow = null;
  function mark(row) {
    if (activeRow) { activeRow.classList.remove("playing"); }
    activeRow = row;
    if (row) { row.classList.add("playing"); }
  }
  function play(start, end, row) {
    if (!audio) { return; }
    if (end - start < 0.25) { start = Math.max(0, start - 1.0); end = end + 1.0; }
    stopAt = end;
    mark(row);
    audio.currentTime = start;
    var p = audio.play();
    if (p && p.catch) { p.catch(function () {}); }
  }
  if (audio) {
    audio.addEventListener("timeupdate", function () {
      if (stopAt !== null && audio.currentTime >= stopAt) {
        audio.pause();
        stopAt = null;
        mark(null);
      }
    });
    audio.addEventListener("pause", function () { if (stopAt === null) { mark(null); } });
  }
  var buttons = document.querySelectorAll("button.play");
  for (var i = 0; i < buttons.length; i++) {
    if (!audio) { buttons[i].disabled = true; continue; }
    buttons[i].addEventListener("click", function (ev) {
      var b = ev.currentTarget;
      var row = b.closest ? b.closest("tr") : null;
      play(parseFloat(b.getAttribute("data-start")), parseFloat(b.getAttribute("data-end")), row);
    });
  }
  var table = document.getElementById("findings");
  if (table) { table.setAttribute("data-ready", "1"); }
})();
