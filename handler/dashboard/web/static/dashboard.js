// tickflow dashboard: optional enhancements. Every page works without this
// script; it only refreshes live regions in place instead of reloading.
(function () {
  "use strict";

  // A region marked data-refresh="N" (N > 0 seconds) is re-fetched from the
  // same URL every N seconds and replaced by its new version, as is the
  // stale-ticks banner. Refreshing pauses while the tab is hidden or while
  // the user is interacting with a form inside the region.
  function refresher(id) {
    var region = document.getElementById(id);
    if (!region) return;
    var secs = parseInt(region.getAttribute("data-refresh"), 10);
    if (!(secs > 0)) return;
    function schedule() { window.setTimeout(tick, secs * 1000); }
    function tick() {
      if (document.hidden || region.contains(document.activeElement) && document.activeElement !== document.body) {
        schedule();
        return;
      }
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (resp) { return resp.ok ? resp.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById(id);
          if (fresh) {
            region.replaceWith(fresh);
            region = fresh;
            secs = parseInt(region.getAttribute("data-refresh"), 10);
          }
          var banner = doc.getElementById("banner");
          var current = document.getElementById("banner");
          if (banner && current) current.replaceWith(banner);
        })
        .catch(function () { /* keep the page as it is; try again later */ })
        .then(function () { if (secs > 0) schedule(); });
    }
    schedule();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var regions = document.querySelectorAll(".region[data-refresh]");
    for (var i = 0; i < regions.length; i++) {
      if (regions[i].id) refresher(regions[i].id);
    }
    var filters = document.getElementById("filters");
    if (filters) {
      // Leave unset filters out of the URL (disabled fields are not sent).
      var trim = function () {
        var selects = filters.querySelectorAll("select");
        for (var j = 0; j < selects.length; j++) selects[j].disabled = selects[j].value === "";
      };
      filters.addEventListener("submit", trim);
      // Coming back through the history re-enables them.
      window.addEventListener("pageshow", function () {
        var selects = filters.querySelectorAll("select");
        for (var j = 0; j < selects.length; j++) selects[j].disabled = false;
      });
    }
  });
})();
