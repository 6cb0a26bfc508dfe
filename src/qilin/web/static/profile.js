// The enterprise profile's valuation chart (ECharts). Data comes from the page's JSON block (CSP: no inline
// scripts): points in 亿元 converted at each valuation date's yearly average rate, labelled with the
// evidence grade.
(function () {
  "use strict";
  var holder = document.getElementById("profile-data");
  var el = document.getElementById("valuation-chart");
  if (!holder || !el || typeof echarts === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var points = data.points || [];
  var words = data.labels || {};  // the message catalog's
  if (!points.length) { return; }
  var DAY = 24 * 3600 * 1000;
  // A time axis around a single point would span hours: show a year on each side of it instead.
  var only = points.length === 1 ? Date.parse(points[0].date) : null;
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    tooltip: {
      trigger: "item",
      formatter: function (p) {
        var d = points[p.dataIndex];
        var lines = [d.date, words.valuation + "：" + d.text, words.cny + "：" + d.cny, words.evidence + "：" + d.evidence];
        if (d.fx) { lines.push(d.fx); }
        return lines.map(function (s) { return String(s).replace(/[&<>"]/g, function (c) {
          return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
        }); }).join("<br>");
      }
    },
    grid: { left: 60, right: 30, top: 30, bottom: 40 },
    xAxis: { type: "time", minInterval: 30 * DAY, axisLabel: { formatter: "{yyyy}-{MM}" },
             min: only === null ? null : only - 365 * DAY, max: only === null ? null : only + 365 * DAY },
    yAxis: { type: "value", name: words.unit, scale: true },
    series: [{
      type: "line",
      data: points.map(function (d) { return [d.date, d.value]; }),
      symbolSize: 8,
      itemStyle: { color: "#1f5fa8" },
      label: { show: true, position: "top", fontSize: 11,
               formatter: function (p) { return points[p.dataIndex].evidence; } }
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
