// Draws the server-built Plotly figures and remembers the browser's time zone.
(function () {
  "use strict";
  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("div.plot[data-figure]").forEach(function (el) {
      var fig = JSON.parse(el.getAttribute("data-figure"));
      Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
      el.setAttribute("data-drawn", "1");
    });
  }
  function setZone(zone) {
    document.cookie = "saisei_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("saisei_tz=") === -1) { setZone(zone); }
  var local = document.getElementById("use-local-zone");
  if (local) {
    local.addEventListener("click", function (event) {
      event.preventDefault();
      setZone(zone || "UTC");
      window.location.reload();
    });
  }
  draw();
}());
