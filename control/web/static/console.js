// Tollgate console: session playback (step and play through a timeline)
// and the live page's refresh. Pages work without it.
(function () {
  "use strict";
  var steps = Array.prototype.slice.call(document.querySelectorAll("#timeline .step"));
  var player = document.getElementById("player");
  if (player && steps.length) {
    player.hidden = false;
    var pos = -1, timer = null;
    var show = function (i) {
      pos = Math.max(-1, Math.min(steps.length - 1, i));
      steps.forEach(function (s, j) { s.hidden = j > pos; s.classList.toggle("current", j === pos); });
      document.getElementById("pos").textContent = (pos + 1) + " of " + steps.length;
    };
    var stop = function () { if (timer) { clearInterval(timer); timer = null; document.getElementById("play").textContent = "▶ Play"; } };
    document.getElementById("next").addEventListener("click", function () { stop(); show(pos + 1); });
    document.getElementById("prev").addEventListener("click", function () { stop(); show(pos - 1); });
    document.getElementById("play").addEventListener("click", function () {
      if (timer) { stop(); return; }
      if (pos >= steps.length - 1) { show(-1); }
      this.textContent = "❚❚ Pause";
      timer = setInterval(function () { if (pos >= steps.length - 1) { stop(); return; } show(pos + 1); }, 700);
    });
    show(steps.length - 1);
  }
  if (document.body.dataset.refresh) {
    // The live table, redrawn when the audit stream has a session start or
    // end (server-sent events); every 2 s if the stream is not available.
    var redraw = function () {
      fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live"), cur = document.getElementById("live");
        if (fresh && cur) { cur.replaceWith(fresh); }
      }).catch(function () {});
    };
    var poll = null;
    if (window.EventSource) {
      var es = new EventSource("/web/live/events");
      es.addEventListener("session", redraw);
      es.onerror = function () { if (!poll) { poll = setInterval(redraw, 2000); } };
      es.onopen = function () { if (poll) { clearInterval(poll); poll = null; } redraw(); };
    } else {
      poll = setInterval(redraw, 2000);
    }
  }
})();
