// Small SVG charts, drawn here so the pages need nothing from the internet.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#b42318", "#2b6cb0", "#2f855a", "#c05621", "#6b46c1", "#0987a0", "#975a16",
  "#b83280", "#4a5568", "#718096", "#38a169", "#d69e2e", "#805ad5"];

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Horizontal bars of rates (0..1) per label; `null` is drawn as "无数据".
function rateBars(container, items, target) {
  // Room for the longest unit name (15 characters at 12 px) on the left and "100.0% (999/999)"
  // on the right: nothing is cut at the edges.
  const row = 26, left = 200, width = 640, height = Math.max(items.length, 1) * row + 30;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  const scale = (v) => left + v * (width - left - 120);
  items.forEach((item, i) => {
    const y = 10 + i * row;
    chart.append(svg("text", { x: left - 8, y: y + 15, "text-anchor": "end", "font-size": 12 }, item.label));
    if (item.value === null) {
      chart.append(svg("text", { x: left + 4, y: y + 15, "font-size": 12, fill: "#9aa5b1" }, "无数据"));
      return;
    }
    chart.append(svg("rect", { x: left, y, width: Math.max(scale(item.value) - left, 1), height: row - 8,
      fill: target !== undefined && item.value < target ? "#c53030" : "#2f855a", class: "bar" }));
    chart.append(svg("text", { x: scale(item.value) + 4, y: y + 15, "font-size": 12 },
      (item.value * 100).toFixed(1) + "%" + (item.detail ? " " + item.detail : "")));
  });
  if (target !== undefined) {
    const x = scale(target);
    chart.append(svg("line", { x1: x, x2: x, y1: 4, y2: height - 20, class: "target" }));
    chart.append(svg("text", { x, y: height - 6, "font-size": 11, "text-anchor": "middle", fill: "#c53030" },
      "目标 " + (target * 100).toFixed(0) + "%"));
  }
  container.replaceChildren(chart);
}

// Stacked monthly columns, one colour per series, with a legend.
function stackedColumns(container, months, series, nameOf) {
  const width = 560, height = 260, left = 36, bottom = 40, top = 22;
  const names = Object.keys(series);
  const totals = months.map((_, i) => names.reduce((n, s) => n + series[s][i], 0));
  const max = Math.max(1, ...totals);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + 18 * Math.ceil(names.length / 3)}`, role: "img" });
  const step = (width - left) / Math.max(months.length, 1);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  chart.append(svg("text", { x: 2, y: top + 10, "font-size": 11 }, String(max)));
  chart.append(svg("line", { x1: left, x2: width, y1: y(0), y2: y(0), stroke: "#9aa5b1" }));
  months.forEach((month, i) => {
    let base = 0;
    names.forEach((name, k) => {
      const v = series[name][i];
      if (!v) return;
      chart.append(svg("rect", { x: left + i * step + 3, y: y(base + v), width: step - 6,
        height: y(base) - y(base + v), fill: PALETTE[k % PALETTE.length], class: "bar" },));
      // The value inside its segment when the segment is tall enough to hold it.
      if (y(base) - y(base + v) >= 12) {
        chart.append(svg("text", { x: left + i * step + step / 2, y: y(base + v / 2) + 4, "font-size": 10,
          "text-anchor": "middle", fill: "#fff", class: "value" }, String(v)));
      }
      base += v;
    });
    if (totals[i]) chart.append(svg("text", { x: left + i * step + step / 2, y: y(totals[i]) - 3, "font-size": 10,
      "text-anchor": "middle", class: "total" }, String(totals[i])));
    chart.append(svg("text", { x: left + i * step + step / 2, y: height - bottom + 14, "font-size": 10,
      "text-anchor": "middle" }, month.slice(2)));
  });
  names.forEach((name, k) => {
    const lx = 10 + (k % 3) * 185, ly = height + 4 + Math.floor(k / 3) * 18;
    chart.append(svg("rect", { x: lx, y: ly, width: 10, height: 10, fill: PALETTE[k % PALETTE.length] }));
    chart.append(svg("text", { x: lx + 14, y: ly + 9, "font-size": 11 }, nameOf(name)));
  });
  container.replaceChildren(chart);
}
