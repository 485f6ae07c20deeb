/* noiselab noise map: two small SVG charts drawn by hand (no chart library).
 * nlLineChart: levels over the last 24 h; nlBarChart: daily Lden with the guideline value.
 * Every text goes in through textContent, never as markup. */
"use strict";

var NL_SVG = "http://www.w3.org/2000/svg";
var NL_W = 600;
var NL_H = 190;
var NL_PAD = { left: 42, right: 10, top: 12, bottom: 26 };

function nlSvg(name, attrs, parent) {
  var node = document.createElementNS(NL_SVG, name);
  Object.keys(attrs || {}).forEach(function (key) {
    node.setAttribute(key, String(attrs[key]));
  });
  if (parent) {
    parent.appendChild(node);
  }
  return node;
}

function nlText(parent, x, y, text, attrs) {
  var node = nlSvg("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
  node.textContent = text;
  return node;
}

function nlFrame(container, label) {
  container.textContent = "";
  var svg = nlSvg("svg", {
    viewBox: "0 0 " + NL_W + " " + NL_H,
    role: "img",
    "aria-label": label,
    class: "chart-svg"
  }, container);
  nlSvg("title", {}, svg).textContent = label;
  return svg;
}

/* The dB axis: a range of whole 10 dB steps holding lo..hi, at least 20 dB tall. */
function nlScale(lo, hi) {
  var bottom = Math.floor(lo / 10) * 10;
  var top = Math.max(Math.ceil(hi / 10) * 10, bottom + 20);
  var y = function (db) {
    var inner = NL_H - NL_PAD.top - NL_PAD.bottom;
    return NL_PAD.top + inner * (1 - (db - bottom) / (top - bottom));
  };
  return { bottom: bottom, top: top, y: y };
}

function nlGrid(svg, scale) {
  for (var db = scale.bottom; db <= scale.top; db += 10) {
    var y = scale.y(db);
    nlSvg("line", { x1: NL_PAD.left, x2: NL_W - NL_PAD.right, y1: y, y2: y, class: "grid" }, svg);
    nlText(svg, NL_PAD.left - 6, y + 4, String(db), { class: "axis", "text-anchor": "end" });
  }
  nlText(svg, 4, NL_PAD.top - 2, "dB", { class: "axis" });
}

function nlEmpty(container, message) {
  container.textContent = "";
  var p = document.createElement("p");
  p.className = "empty";
  p.textContent = message;
  container.appendChild(p);
}

/* points: [{t: ms since epoch, v: dB}] in time order; from/to: ms; zone: IANA name. */
function nlLineChart(container, points, opts) {
  if (!points.length) {
    nlEmpty(container, opts.empty);
    return;
  }
  var values = points.map(function (p) { return p.v; });
  var scale = nlScale(Math.min.apply(null, values), Math.max.apply(null, values));
  var svg = nlFrame(container, opts.label);
  nlGrid(svg, scale);
  var span = opts.to - opts.from;
  var x = function (ms) {
    return NL_PAD.left + (NL_W - NL_PAD.left - NL_PAD.right) * (ms - opts.from) / span;
  };
  var hour = new Intl.DateTimeFormat(opts.locale, {
    hour: "2-digit", minute: "2-digit", timeZone: opts.zone
  });
  for (var tick = Math.ceil(opts.from / 21600000) * 21600000; tick <= opts.to; tick += 21600000) {
    nlText(svg, x(tick), NL_H - 8, hour.format(new Date(tick)), {
      class: "axis", "text-anchor": "middle"
    });
  }
  var path = "";
  var previous = null;
  points.forEach(function (p) {
    var gap = previous === null || p.t - previous > opts.step * 1.5;
    path += (gap ? "M" : "L") + x(p.t + opts.step / 2).toFixed(1) + "," + scale.y(p.v).toFixed(1);
    previous = p.t;
  });
  nlSvg("path", { d: path, class: "line" }, svg);
  var last = points[points.length - 1];
  nlSvg("circle", {
    cx: x(last.t + opts.step / 2), cy: scale.y(last.v), r: 4,
    fill: opts.colourFor(last.v), class: "dot"
  }, svg);
}

/* days: [{date: "YYYY-MM-DD", v: dB or null}]; guide: dB or null. */
function nlBarChart(container, days, opts) {
  var values = days.filter(function (d) { return d.v !== null; }).map(function (d) { return d.v; });
  if (!values.length) {
    nlEmpty(container, opts.empty);
    return;
  }
  var lo = Math.min.apply(null, values.concat(opts.guide === null ? [] : [opts.guide]));
  var hi = Math.max.apply(null, values.concat(opts.guide === null ? [] : [opts.guide]));
  var scale = nlScale(Math.min(lo - 5, 40), hi);
  var svg = nlFrame(container, opts.label);
  nlGrid(svg, scale);
  var slot = (NL_W - NL_PAD.left - NL_PAD.right) / days.length;
  days.forEach(function (d, i) {
    var left = NL_PAD.left + i * slot;
    if (d.v !== null) {
      var top = scale.y(d.v);
      var bar = nlSvg("rect", {
        x: (left + slot * 0.15).toFixed(1), y: top.toFixed(1),
        width: (slot * 0.7).toFixed(1), height: (scale.y(scale.bottom) - top).toFixed(1),
        fill: opts.colourFor(d.v), class: "bar"
      }, svg);
      nlSvg("title", {}, bar).textContent = d.date + ": " + opts.format(d.v);
    }
    if (i % 7 === days.length % 7) {
      var parts = d.date.split("-");
      nlText(svg, left + slot / 2, NL_H - 8, Number(parts[2]) + "/" + Number(parts[1]), {
        class: "axis", "text-anchor": "middle"
      });
    }
  });
  if (opts.guide !== null) {
    var gy = scale.y(opts.guide);
    nlSvg("line", {
      x1: NL_PAD.left, x2: NL_W - NL_PAD.right, y1: gy, y2: gy, class: "guide"
    }, svg);
    nlText(svg, NL_W - NL_PAD.right - 2, gy - 4, opts.guideLabel, {
      class: "axis guide-label", "text-anchor": "end"
    });
  }
}
