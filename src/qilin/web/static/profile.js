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
  if (!points.length) { return; }
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    tooltip: {
      trigger: "item",
      formatter: function (p) {
        var d = points[p.dataIndex];
        var lines = [d.date, "估值：" + d.text, "折合人民币：" + d.cny, "证据等级：" + d.evidence];
        if (d.fx) { lines.push(d.fx); }
        return lines.map(function (s) { return String(s).replace(/[&<>"]/g, function (c) {
          return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
        }); }).join("<br>");
      }
    },
    grid: { left: 60, right: 30, top: 30, bottom: 40 },
    xAxis: { type: "time" },
    yAxis: { type: "value", name: "亿元", scale: true },
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
