/* noiselab noise map: markers coloured by the level of the last 15 minutes, a legend, the
 * schematic motorways and railway, and a panel per sensor. Data from the public API:
 *   /api/v1/map/config, /api/v1/map/lines, /api/v1/map,
 *   /api/v1/sensors/{id}/levels?every=15m (last 24 h), /api/v1/sensors/{id}/indicators;
 * the modelled surface under the markers comes from surface.js, the "Report noise" control from
 * report.js.
 * Every text from the API is put in with textContent (or escaped), never as markup. */
"use strict";

(function () {
  var state = {
    config: null,
    map: null,
    markers: {},
    features: {},
    order: [],
    selected: null,
    generated: null,
    panelData: null,
    legend: null,
    surface: null,
    report: null
  };

  function $(id) {
    return document.getElementById(id);
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + ": HTTP " + response.status);
      }
      return response.json();
    });
  }

  function bandOf(level) {
    if (level === null || level === undefined) {
      return null;
    }
    var shown = Math.round(level * 100) / 100;
    return state.config.bands.find(function (band) {
      return (band.low === null || shown >= band.low) && (band.high === null || shown < band.high);
    });
  }

  function colourFor(level) {
    var band = bandOf(level);
    return band ? band.colour : state.config.no_data_colour;
  }

  /* Black or white text, whichever reads better on the colour (WCAG relative luminance). */
  function inkOn(hex) {
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return luminance > 0.25 ? "#111" : "#fff";
  }

  function timeText(iso) {
    return new Intl.DateTimeFormat(t("locale"), {
      dateStyle: "short", timeStyle: "short", timeZone: state.config.zone
    }).format(new Date(iso));
  }

  function dateText(isoDate) {
    var parts = isoDate.split("-").map(Number);
    return new Intl.DateTimeFormat(t("locale"), {
      day: "numeric", month: "short", timeZone: "UTC"
    }).format(new Date(Date.UTC(parts[0], parts[1] - 1, parts[2])));
  }

  function shiftDate(isoDate, days) {
    var parts = isoDate.split("-").map(Number);
    return new Date(Date.UTC(parts[0], parts[1] - 1, parts[2] + days)).toISOString().slice(0, 10);
  }

  /* ------------------------------------------------------------------ static texts */

  function applyTexts() {
    document.documentElement.lang = nlLang;
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      var key = node.getAttribute("data-i18n");
      node.textContent = t(key, state.config ? {
        evening: state.config.periods.evening, night: state.config.periods.night
      } : {});
    });
    document.querySelectorAll("[data-i18n-aria]").forEach(function (node) {
      node.setAttribute("aria-label", t(node.getAttribute("data-i18n-aria")));
    });
    var button = $("lang");
    button.textContent = t("langButton");
    button.setAttribute("aria-label", t("langAria"));
    button.setAttribute("lang", nlLang === "da" ? "en" : "da");
  }

  /* ------------------------------------------------------------------ map */

  function buildMap(config) {
    var map = L.map("map", { zoomControl: true }).setView(config.centre, config.zoom);
    if (config.tile_url) {
      var credit = escapeHtml(config.tile_attribution);
      if (config.tile_attribution_url) {
        credit = '<a href="' + escapeHtml(config.tile_attribution_url) + '">' + credit + "</a>";
      }
      L.tileLayer(config.tile_url, { maxZoom: 19, attribution: credit }).addTo(map);
    }
    return map;
  }

  function drawLines(lines) {
    L.geoJSON(lines, {
      interactive: false,
      style: function (feature) {
        return feature.properties.kind === "railway"
          ? { color: "#333", weight: 3, dashArray: "8 6", className: "nl-line nl-rail" }
          : { color: "#5a5a5a", weight: 6, opacity: 0.8, className: "nl-line nl-road" };
      }
    }).addTo(state.map);
  }

  function buildLegend() {
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      var box = L.DomUtil.create("details", "legend");
      box.id = "legend";
      box.open = !window.matchMedia("(max-width: 700px)").matches;
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    legend.addTo(state.map);
    state.legend = legend;
    renderLegend();
  }

  function renderLegend() {
    var box = $("legend");
    box.textContent = "";
    var title = document.createElement("summary");
    title.textContent = state.surface ? t("legendSurface_" + state.surface.period) : t("legend");
    box.appendChild(title);
    var list = document.createElement("ul");
    state.config.bands.slice().reverse().forEach(function (band) {
      list.appendChild(legendRow(band.colour, band.label.replace(">=", "≥") + " dB"));
    });
    list.appendChild(legendRow(state.config.no_data_colour, t("legendNoData")));
    box.appendChild(list);
  }

  function legendRow(colour, label) {
    var item = document.createElement("li");
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(label));
    return item;
  }

  function tooltipFor(props) {
    var node = document.createElement("span");
    var text = props.name + ": " + fmtDb(props.laeq_15min);
    var model = state.surface && state.surface.period === "now" && state.surface.atSensor(props.id);
    if (model && model.modelled_db !== null) {
      text += " · " + t("modelled", { value: fmtDb(model.modelled_db) });
    }
    node.textContent = text;
    return node;
  }

  function showFeatures(collection) {
    var seen = {};
    state.order = [];
    collection.features.forEach(function (feature) {
      var props = feature.properties;
      seen[props.id] = true;
      state.features[props.id] = props;
      state.order.push(props.id);
      if (!feature.geometry) {
        return;
      }
      var latlng = [feature.geometry.coordinates[1], feature.geometry.coordinates[0]];
      var style = {
        radius: window.matchMedia("(max-width: 700px)").matches ? 13 : 11,
        color: "#222",
        weight: 2,
        fillColor: props.colour,
        fillOpacity: props.status === "offline" ? 0.45 : 0.95,
        bubblingMouseEvents: false,
        className: "nl-marker nl-marker-" + props.id
      };
      var marker = state.markers[props.id];
      if (marker) {
        marker.setLatLng(latlng).setStyle(style);
        marker.setTooltipContent(tooltipFor(props));
      } else {
        marker = L.circleMarker(latlng, style).addTo(state.map);
        marker.bindTooltip(tooltipFor(props));
        marker.on("click", function () { openPanel(props.id); });
        state.markers[props.id] = marker;
      }
      var path = marker.getElement();
      if (path) {
        path.setAttribute("data-sensor", props.id);
        path.setAttribute("data-band", props.band || "");
        path.classList.toggle("nl-selected", props.id === state.selected);
      }
    });
    Object.keys(state.markers).forEach(function (id) {
      if (!seen[id]) {
        state.map.removeLayer(state.markers[id]);
        delete state.markers[id];
        delete state.features[id];
      }
    });
    renderSelect();
    state.generated = collection.generated;
    renderUpdated();
  }

  function renderUpdated() {
    if (state.generated) {
      $("updated").textContent = t("updated", { time: timeText(state.generated) });
    }
  }

  function renderSelect() {
    var select = $("sensor-select");
    var keep = state.selected || "";
    while (select.options.length > 1) {
      select.remove(1);
    }
    select.options[0].textContent = t("choose");
    state.order.forEach(function (id) {
      var props = state.features[id];
      var option = document.createElement("option");
      option.value = id;
      option.textContent = props.name + " – " + fmtDb(props.laeq_15min);
      select.appendChild(option);
    });
    select.value = keep;
  }

  function loadFeatures() {
    return getJson("/api/v1/map").then(showFeatures).catch(function () {
      $("updated").textContent = t("failed");
    });
  }

  /* ------------------------------------------------------------------ panel */

  function markSelected(id) {
    Object.keys(state.markers).forEach(function (key) {
      var path = state.markers[key].getElement();
      if (path) {
        path.classList.toggle("nl-selected", key === id);
      }
    });
    if (id && state.markers[id]) {
      state.markers[id].bringToFront();
    }
  }

  function openPanel(id) {
    if (!state.features[id]) {
      return;
    }
    state.selected = id;
    markSelected(id);
    $("sensor-select").value = id;
    $("panel").hidden = false;
    document.body.classList.add("panel-open");
    renderPanelNumbers();
    $("chart-24h").textContent = t("loading");
    $("chart-30d").textContent = t("loading");
    loadPanelData(id);
    window.history.replaceState(null, "", "#" + encodeURIComponent(id));
    setTimeout(function () { state.map.invalidateSize(); }, 50);
  }

  function closePanel() {
    state.selected = null;
    markSelected(null);
    state.panelData = null;
    $("panel").hidden = true;
    document.body.classList.remove("panel-open");
    $("sensor-select").value = "";
    window.history.replaceState(null, "", window.location.pathname);
    setTimeout(function () { state.map.invalidateSize(); }, 50);
  }

  function renderPanelNumbers() {
    var props = state.features[state.selected];
    $("panel-name").textContent = props.name;
    var meta = [t("source_" + props.source), t("status_" + props.status)];
    if (props.last_seen) {
      meta.push(t("lastSeen", { time: timeText(props.last_seen) }));
    }
    $("panel-meta").textContent = meta.join(" · ");
    renderPanelModel();
    setNumber("v-now", props.laeq_15min, props.coverage_15min, true);
    setNumber("v-hour", props.laeq_1h, props.coverage_1h, false);
    setNumber("v-lden", props.lden_yesterday, props.coverage_lden, false);
    $("t-lden").textContent = t("lden", { date: dateText(props.lden_date) });
    var guide = $("v-guide");
    if (props.guideline_lden_db === null) {
      guide.textContent = t("noGuideline");
    } else {
      guide.textContent = t("guidelineValue", { value: fmtNumber(props.guideline_lden_db, 0) });
      if (props.lden_yesterday !== null) {
        var note = document.createElement("small");
        note.textContent = props.lden_yesterday > props.guideline_lden_db ? t("above") : t("below");
        guide.appendChild(note);
      }
    }
  }

  function renderPanelModel() {
    var node = $("panel-model");
    var at = state.surface && state.surface.atSensor(state.selected);
    if (!at || at.modelled_db === null) {
      node.textContent = "";
      return;
    }
    node.textContent = t("panelModel", {
      measured: fmtDb(at.measured_db),
      modelled: fmtDb(at.modelled_db),
      period: t("periodText_" + state.surface.period)
    });
  }

  function refreshTooltips() {
    Object.keys(state.markers).forEach(function (id) {
      state.markers[id].setTooltipContent(tooltipFor(state.features[id]));
    });
  }

  function surfaceChanged() {
    renderLegend();
    refreshTooltips();
    if (state.selected) {
      renderPanelModel();
    }
  }

  function setNumber(id, value, coverage, coloured) {
    var node = $(id);
    node.textContent = fmtDb(value);
    if (coloured) {
      var colour = colourFor(value);
      node.style.background = colour;
      node.style.color = inkOn(colour);
    }
    if (value !== null && coverage < 0.995) {
      var small = document.createElement("small");
      small.textContent = t("coverage", { pct: fmtNumber(coverage * 100, 0) });
      node.appendChild(small);
    }
  }

  function loadPanelData(id) {
    var props = state.features[id];
    var base = "/api/v1/sensors/" + encodeURIComponent(id);
    var end = shiftDate(props.lden_date, 1);
    var start = shiftDate(end, -30);
    Promise.all([
      getJson(base + "/levels?every=15m"),
      getJson(base + "/indicators?start=" + start + "&end=" + end)
    ]).then(function (answers) {
      if (state.selected !== id) {
        return;
      }
      state.panelData = { levels: answers[0], indicators: answers[1] };
      renderCharts();
    }).catch(function () {
      if (state.selected === id) {
        $("chart-24h").textContent = t("failed");
        $("chart-30d").textContent = t("failed");
      }
    });
  }

  function renderCharts() {
    if (!state.panelData) {
      return;
    }
    var props = state.features[state.selected];
    var levels = state.panelData.levels;
    nlLineChart($("chart-24h"), levels.points.map(function (p) {
      return { t: Date.parse(p.t), v: p.laeq };
    }), {
      from: Date.parse(levels.start), to: Date.parse(levels.end), step: 900000,
      zone: state.config.zone, locale: t("locale"), colourFor: colourFor,
      label: t("chart24"), empty: t("noDataChart")
    });
    var guide = props.guideline_lden_db;
    nlBarChart($("chart-30d"), state.panelData.indicators.days.map(function (d) {
      return { date: d.date, v: d.lden };
    }), {
      guide: guide, colourFor: colourFor, format: fmtDb, label: t("chart30"),
      guideLabel: guide === null ? "" : t("chartGuide", { value: fmtNumber(guide, 0) }),
      empty: t("noDataChart")
    });
  }

  /* ------------------------------------------------------------------ start */

  function switchLanguage() {
    nlSetLanguage(nlLang === "da" ? "en" : "da");
    applyTexts();
    renderLegend();
    renderUpdated();
    state.surface.renderTexts();
    state.report.renderTexts();
    refreshTooltips();
    renderSelect();
    if (state.selected) {
      renderPanelNumbers();
      renderCharts();
    }
  }

  function refresh() {
    state.surface.load();
    loadFeatures().then(function () {
      if (state.selected && state.features[state.selected]) {
        renderPanelNumbers();
        loadPanelData(state.selected);
      }
    });
  }

  function start(config) {
    state.config = config;
    applyTexts();
    state.map = buildMap(config);
    state.surface = nlSurface(state.map, surfaceChanged);
    state.report = nlReport(state.map, config);
    buildLegend();
    state.surface.load();
    $("lang").addEventListener("click", switchLanguage);
    $("close").addEventListener("click", closePanel);
    $("sensor-select").addEventListener("change", function (event) {
      if (event.target.value) {
        openPanel(event.target.value);
      } else {
        closePanel();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && state.selected) {
        closePanel();
      }
    });
    getJson("/api/v1/map/lines").then(drawLines).catch(function () { /* map still works */ });
    loadFeatures().then(function () {
      var wanted = decodeURIComponent(window.location.hash.slice(1));
      if (wanted && state.features[wanted]) {
        openPanel(wanted);
      }
      document.body.setAttribute("data-ready", "true");
    });
    setInterval(refresh, Math.max(5, config.refresh_s) * 1000);
  }

  applyTexts();
  getJson("/api/v1/map/config").then(start).catch(function () {
    $("updated").textContent = t("failed");
  });
})();
