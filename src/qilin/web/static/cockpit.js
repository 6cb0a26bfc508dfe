// Cockpit charts (ECharts). Data comes from the page's JSON block; no inline scripts (CSP).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cockpit-data").textContent);
  var words = JSON.parse(document.getElementById("cockpit-labels").textContent);  // the message catalog's
  var bar = document.querySelector(".progress .bar");
  if (bar) { bar.style.width = Math.round(parseFloat(bar.dataset.share) * 100) + "%"; }
  if (typeof echarts === "undefined") { return; }
  var charts = [];
  function chart(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var c = echarts.init(el, null, { renderer: "canvas" });
    charts.push(c);
    return c;
  }

  // The province's cities, or (a city chosen, or an officer's own city) that city's counties.
  var counties = data.map.level === "county";
  var geoUrl = counties ? "/geo/zhejiang-counties/" + encodeURIComponent(data.map.code) + ".geojson"
                        : "/geo/zhejiang-cities.geojson";
  fetch(geoUrl, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("geojson " + r.status); } return r.json(); })
    .then(function (geo) {
      var mapName = "qilin-" + data.map.code;
      echarts.registerMap(mapName, geo);
      var map = chart("zj-map");
      if (!map) { return; }
      var rows = counties ? data.by_county : data.by_city;
      var values = rows.map(function (c) { return { name: c.name, value: c.tiered, code: c.code, unicorns: c.unicorns }; });
      var max = Math.max.apply(null, values.map(function (v) { return v.value; }).concat([1]));
      map.setOption({
        tooltip: { trigger: "item", formatter: function (p) {
          var d = p.data || {};
          return p.name + "<br>" + words.tiered + "：" + (d.value || 0) + "<br>" + words.unicorn + "：" + (d.unicorns || 0);
        } },
        visualMap: { min: 0, max: max, left: "left", bottom: 10, text: [words.more, words.less], calculable: true,
                     inRange: { color: ["#e8f1fb", "#1f5fa8"] } },
        series: [{ type: "map", map: mapName, roam: false, nameProperty: "name",
                   label: { show: true, fontSize: 11, color: "#1d2733", textBorderColor: "#fff", textBorderWidth: 2 },
                   selectedMode: "single", data: values }]
      });
      map.on("click", function (p) {
        if (!p.data || !p.data.code) { return; }
        window.location.href = counties ? "/enterprises?county=" + encodeURIComponent(p.data.code)
                                        : "/?city=" + encodeURIComponent(p.data.code);
      });
    })
    .catch(function (e) { var el = document.getElementById("zj-map"); if (el) { el.textContent = words.map_failed + e.message; } });

  var track = chart("track-chart");
  if (track) {
    var rows = data.by_track.slice(0, 15).reverse();
    track.setOption({
      tooltip: { trigger: "axis" }, grid: { left: 130, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value", minInterval: 1, name: words.unit },  // whole enterprises: no 0.5 ticks
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
      series: [{ type: "bar", data: rows.map(function (r) { return r.count; }), itemStyle: { color: "#1f5fa8" } }]
    });
  }
  var trend = chart("trend-chart");
  if (trend) {
    trend.setOption({
      tooltip: { trigger: "axis" }, legend: { data: [words.unicorn, words.tiered], top: 0, left: "center" },
      grid: { left: 50, right: 30, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.trend.map(function (r) { return String(r.year); }) },
      yAxis: { type: "value", minInterval: 1, name: words.unit },
      series: [
        { name: words.unicorn, type: "line", data: data.trend.map(function (r) { return r.unicorns; }),
          markLine: data.province_view ? { symbol: "none", data: [{ yAxis: data.target, name: words.target_line }],
                      label: { position: "insideEndTop", formatter: words.target_line } } : undefined },
        { name: words.tiered, type: "bar", data: data.trend.map(function (r) { return r.tiered; }), itemStyle: { color: "#9cc3e6" } }
      ]
    });
  }
  var funnel = chart("funnel-chart");
  if (funnel) {
    funnel.setOption({
      tooltip: { trigger: "item" },
      // labels to the right of a narrower funnel: centred outer labels were cut at the card's edges
      series: [{ type: "funnel", sort: "descending", left: "4%", width: "52%", minSize: "8%",
                 label: { position: "right", formatter: "{b}：{c}" },
                 data: data.funnel.map(function (f) { return { name: f.stage, value: f.count }; }) }]
    });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
