// Metric charts on the run, compare and model pages: each <figure data-chart-url> gets
// its series as JSON and is drawn with the vendored uPlot (a file, not inline: the CSP
// allows scripts from 'self' only). The server downsamples very long series; the figure
// says so, and counts the NaN and infinite values the chart cannot place.
(function () {
  "use strict";
  var COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function note(figure, text, cls) {
    var p = document.createElement("p");
    p.className = cls || "grove-muted";
    p.setAttribute("data-chart-note", "");
    var small = document.createElement("small");
    small.textContent = text;
    p.appendChild(small);
    figure.appendChild(p);
  }

  function draw(figure, body) {
    var series = [{ label: "step" }];
    var data = [body.steps];
    body.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: true });
      data.push(s.values);
    });
    var width = Math.max(figure.clientWidth || 0, 280);
    var chart = new window.uPlot(
      {
        width: width,
        height: 220,
        scales: { x: { time: false } },
        series: series,
        axes: [{ label: "step" }, {}],
        legend: { show: true },
      },
      data,
      figure
    );
    figure.setAttribute("data-points", String(body.steps.length));
    var notes = [];
    body.series.forEach(function (s) {
      var who = body.series.length > 1 ? s.label + ": " : "";
      if (s.shown < s.total) {
        notes.push(who + "downsampled on the server: " + s.shown.toLocaleString() + " of " +
          s.total.toLocaleString() + " points drawn (each stretch keeps its lowest and highest value)");
      }
      if (s.non_finite) {
        notes.push(who + s.non_finite.toLocaleString() + " NaN or infinite value" +
          (s.non_finite === 1 ? "" : "s") + " not drawn");
      }
    });
    notes.forEach(function (text) { note(figure, text); });
    figure.setAttribute("data-chart-state", body.downsampled ? "downsampled" : "drawn");
    return chart;
  }

  function load(figure) {
    var url = figure.getAttribute("data-chart-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) {
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        return resp.json();
      })
      .then(function (body) {
        if (typeof window.uPlot !== "function") throw new Error("the chart library did not load");
        draw(figure, body);
      })
      .catch(function (err) {
        note(figure, "This chart could not be drawn (" + err.message + "); reload the page to try again.", "grove-error");
        figure.setAttribute("data-chart-state", "failed");
      });
  }

  function start() {
    document.querySelectorAll("figure[data-chart-url]").forEach(load);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
