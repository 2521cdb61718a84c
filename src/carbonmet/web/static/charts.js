/* carbonmet: turn every <div data-chart='{ECharts option}'> into a chart (on load and after each htmx swap).
   A custom series with renderItem "errorbar" and data [x index, low, high] draws I-shaped error bars. */
(function () {
  "use strict";
  function errorBar(params, api) {
    var x = api.value(0), lo = api.coord([x, api.value(1)]), hi = api.coord([x, api.value(2)]);
    var w = api.size([1, 0])[0] * 0.15;
    var style = { stroke: "#333", lineWidth: 1.5, fill: null };
    return { type: "group", children: [
      { type: "line", shape: { x1: hi[0] - w, y1: hi[1], x2: hi[0] + w, y2: hi[1] }, style: style },
      { type: "line", shape: { x1: hi[0], y1: hi[1], x2: lo[0], y2: lo[1] }, style: style },
      { type: "line", shape: { x1: lo[0] - w, y1: lo[1], x2: lo[0] + w, y2: lo[1] }, style: style }
    ] };
  }
  function draw(root) {
    if (typeof echarts === "undefined") { return; }
    root = root || document;
    var els = Array.prototype.slice.call(root.querySelectorAll ? root.querySelectorAll("div[data-chart]") : []);
    if (root.matches && root.matches("div[data-chart]")) { els.unshift(root); }  // htmx hands over the new element
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (el.getAttribute("data-drawn")) { continue; }
      var option = JSON.parse(el.getAttribute("data-chart"));
      (option.series || []).forEach(function (s) {
        if (s.type === "custom" && s.renderItem === "errorbar") { s.renderItem = errorBar; s.encode = { x: 0, y: [1, 2] }; s.z = 10; }
      });
      option.animation = false;
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      el.setAttribute("data-drawn", "1");
      window.addEventListener("resize", chart.resize);
    }
  }
  if (typeof htmx !== "undefined") { htmx.onLoad(function (elt) { draw(elt); }); }
  else { document.addEventListener("DOMContentLoaded", function () { draw(document); }); }
})();
