/* noiselab noise map: the living surface. A modelled level surface fitted to the public
 * sensors, drawn as a georeferenced image under the markers, with a control for the period,
 * the opacity and the "above the guideline value" shading, the accuracy line, and a popup
 * with the estimate wherever the map is clicked. Data from the public API:
 *   /api/v1/map/surface?period=..., /api/v1/map/surface.png, /api/v1/map/estimate.
 * Texts come from i18n.js (t, fmtDb, fmtNumber); API text is put in with textContent. */
"use strict";

var NL_PERIODS = ["now", "24h", "year"];

function nlSurface(map, onChange) {
  var self = {
    period: "now",
    data: null,
    opacity: 0.6,
    guideline: false,
    overlay: null,
    shading: null,
    retry: null
  };
  map.createPane("surface").style.zIndex = 350; /* under the lines and markers (400) */

  function $(id) {
    return document.getElementById(id);
  }

  function build() {
    var control = L.control({ position: "topright" });
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "surface-control");
      box.id = "surface-control";
      var periods = document.createElement("div");
      periods.className = "periods";
      periods.setAttribute("role", "radiogroup");
      NL_PERIODS.forEach(function (name) {
        var button = document.createElement("button");
        button.type = "button";
        button.id = "period-" + name;
        button.setAttribute("data-period", name);
        button.addEventListener("click", function () { self.setPeriod(name); });
        periods.appendChild(button);
      });
      box.appendChild(periods);
      var opacity = document.createElement("label");
      opacity.className = "row";
      var opacityText = document.createElement("span");
      opacityText.id = "opacity-label";
      var slider = document.createElement("input");
      slider.type = "range";
      slider.id = "surface-opacity";
      slider.min = "0";
      slider.max = "100";
      slider.value = String(Math.round(self.opacity * 100));
      slider.addEventListener("input", function () {
        self.opacity = Number(slider.value) / 100;
        if (self.overlay) {
          self.overlay.setOpacity(self.opacity);
        }
      });
      opacity.appendChild(opacityText);
      opacity.appendChild(slider);
      box.appendChild(opacity);
      var guide = document.createElement("label");
      guide.className = "row";
      var check = document.createElement("input");
      check.type = "checkbox";
      check.id = "surface-guideline";
      check.addEventListener("change", function () {
        self.guideline = check.checked;
        draw();
      });
      var guideText = document.createElement("span");
      guideText.id = "guideline-label";
      guide.appendChild(check);
      guide.appendChild(guideText);
      box.appendChild(guide);
      var accuracy = document.createElement("p");
      accuracy.id = "surface-accuracy";
      accuracy.className = "accuracy";
      box.appendChild(accuracy);
      var about = document.createElement("details");
      about.id = "surface-about";
      var summary = document.createElement("summary");
      summary.id = "surface-about-title";
      about.appendChild(summary);
      ["whatModel", "whatSure", "whatShading"].forEach(function (key) {
        var p = document.createElement("p");
        p.setAttribute("data-surface-text", key);
        about.appendChild(p);
      });
      box.appendChild(about);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    map.on("click", function (event) {
      if (!document.body.classList.contains("reporting")) {  /* report.js picks a place */
        self.popupAt(event.latlng);
      }
    });
  }

  self.renderTexts = function () {
    NL_PERIODS.forEach(function (name) {
      var button = $("period-" + name);
      button.textContent = t("period_" + name);
      button.setAttribute("aria-pressed", String(name === self.period));
    });
    $("opacity-label").textContent = t("opacity");
    $("surface-opacity").setAttribute("aria-label", t("opacity"));
    $("guideline-label").textContent = t("shading");
    var check = $("surface-guideline");
    check.disabled = self.period !== "year";
    check.parentNode.title = check.disabled ? t("shadingYearOnly") : "";
    $("surface-about-title").textContent = t("whatModelTitle");
    document.querySelectorAll("[data-surface-text]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-surface-text"));
    });
    renderAccuracy();
  };

  function renderAccuracy() {
    var node = $("surface-accuracy");
    var acc = self.data && self.data.accuracy;
    if (!self.data) {
      node.textContent = t("surfaceLoading");
    } else if (!acc.n) {
      node.textContent = t("accuracyNone");
    } else {
      node.textContent = t(acc.n === 1 ? "accuracyOne" : "accuracy", {
        value: fmtNumber(acc.median_abs_db, 1), n: acc.n
      });
    }
  }

  function draw() {
    var data = self.data;
    if (!data) {
      return;
    }
    var bounds = L.latLngBounds(data.bounds);
    if (self.overlay) {
      self.overlay.setUrl(data.image_url).setBounds(bounds);
    } else {
      self.overlay = L.imageOverlay(data.image_url, bounds, {
        pane: "surface", opacity: self.opacity, className: "nl-surface", alt: ""
      }).addTo(map);
    }
    var wanted = self.guideline && data.guideline_image_url;
    if (wanted && !self.shading) {
      self.shading = L.imageOverlay(data.guideline_image_url, bounds, {
        pane: "surface", opacity: 1, className: "nl-shading", alt: ""
      }).addTo(map);
    } else if (wanted) {
      self.shading.setUrl(data.guideline_image_url).setBounds(bounds);
    } else if (self.shading) {
      map.removeLayer(self.shading);
      self.shading = null;
    }
  }

  self.load = function () {
    clearTimeout(self.retry);
    var period = self.period;
    return fetch("/api/v1/map/surface?period=" + period, {
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (response.status === 503) {
        var wait = Number(response.headers.get("Retry-After")) || 3;
        self.retry = setTimeout(self.load, wait * 1000);
        return null;
      }
      if (!response.ok) {
        throw new Error("surface: HTTP " + response.status);
      }
      return response.json();
    }).then(function (data) {
      if (!data || period !== self.period) {
        return;
      }
      self.data = data;
      draw();
      self.renderTexts();
      document.body.setAttribute("data-surface", data.period);
      onChange();
    }).catch(function () {
      $("surface-accuracy").textContent = t("failed");
    });
  };

  self.setPeriod = function (name) {
    if (name === self.period) {
      return;
    }
    self.period = name;
    self.data = null;
    document.body.removeAttribute("data-surface");
    if (name !== "year") {
      self.guideline = false;
      $("surface-guideline").checked = false;
    }
    self.renderTexts();
    map.closePopup();
    self.load();
    onChange();
  };

  self.indicatorName = function () {
    return self.period === "year" ? "Lden" : "LAeq";
  };

  /* The surface's own figures at a sensor: {measured_db, modelled_db, loo_error_db}. */
  self.atSensor = function (id) {
    if (!self.data) {
      return null;
    }
    return self.data.accuracy.per_sensor.find(function (s) { return s.id === id; }) || null;
  };

  function popupText(answer) {
    var values = {
      level: fmtNumber(answer.level_db, 0),
      indicator: answer.indicator === "lden" ? "Lden" : "LAeq",
      source: answer.dominant.kind === "background" ? t("quietPlace") : answer.dominant.name
    };
    var box = document.createElement("div");
    box.className = "estimate";
    var head = document.createElement("p");
    head.className = "estimate-head";
    if (answer.uncertainty_db === null) {
      head.textContent = t("hereNoPm", values);
    } else {
      values.pm = fmtNumber(Math.max(1, answer.uncertainty_db), 0);
      head.textContent = t("here", values);
    }
    box.appendChild(head);
    var period = document.createElement("p");
    period.className = "estimate-period";
    period.textContent = t("periodText_" + answer.period);
    box.appendChild(period);
    if (answer.guideline_db !== null) {
      var guide = document.createElement("p");
      guide.textContent = t(answer.above_guideline ? "hereAbove" : "hereBelow", {
        value: fmtNumber(answer.guideline_db, 0)
      });
      box.appendChild(guide);
    }
    if (answer.nearest.length) {
      var near = answer.nearest[0];
      var sensor = document.createElement("p");
      sensor.className = "estimate-near";
      sensor.textContent = t(near.measured_db === null ? "nearestNoData" : "nearest", {
        name: near.name,
        distance: fmtNumber(near.distance_m, 0),
        measured: fmtDb(near.measured_db),
        modelled: fmtDb(near.modelled_db)
      });
      box.appendChild(sensor);
    }
    return box;
  }

  self.popupAt = function (latlng) {
    var url = "/api/v1/map/estimate?lat=" + latlng.lat.toFixed(6) + "&lon=" +
      latlng.lng.toFixed(6) + "&period=" + self.period;
    var popup = L.popup({ className: "nl-estimate" }).setLatLng(latlng);
    var waiting = document.createElement("span");
    waiting.textContent = t("loading");
    popup.setContent(waiting).openOn(map);
    fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (response.status === 422) {
        return { outside: true };
      }
      if (!response.ok) {
        throw new Error("estimate: HTTP " + response.status);
      }
      return response.json();
    }).then(function (answer) {
      if (answer.outside) {
        var node = document.createElement("span");
        node.textContent = t("outside");
        popup.setContent(node);
      } else {
        popup.setContent(popupText(answer));
      }
    }).catch(function () {
      var node = document.createElement("span");
      node.textContent = t("failed");
      popup.setContent(node);
    });
  };

  build();
  self.renderTexts();
  return self;
}
