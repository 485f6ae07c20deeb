/* noiselab noise map: the "Report noise / Meld støj" control. A citizen opens it, clicks the
 * map where it is loud (inside the map's area, config.report_area), picks what is loud and may
 * add a few words (at most 500 characters); the page sends
 *   POST /api/v1/citizen-reports {lat, lon, category, text}
 * and shows what is stored: the time, the place, the category and the text, nothing personal.
 * While the control is open, a click on the map picks the place instead of asking surface.js
 * for an estimate (body.reporting). Every text is put in with textContent, never as markup. */
"use strict";

function nlReport(map, config) {
  var self = {};
  var place = null;       /* {lat, lon} of the picked point */
  var marker = null;
  var outside = false;
  var lastStatus = null;  /* {key, values} of the status line, re-rendered on a language switch */
  var filed = null;       /* {id, text} of the report just sent */
  var area = L.latLngBounds(config.report_area);

  function $(id) {
    return document.getElementById(id);
  }

  function setStatus(key, values) {
    lastStatus = key ? { key: key, values: values || {} } : null;
    $("report-status").textContent = key ? t(key, values) : "";
  }

  function renderPlace() {
    var node = $("report-place");
    if (outside) {
      node.textContent = t("reportOutside");
    } else if (place) {
      node.textContent = t("reportPlace", {
        lat: fmtNumber(place.lat, 5), lon: fmtNumber(place.lon, 5)
      });
    } else {
      node.textContent = t("reportNoPlace");
    }
  }

  function renderDone() {
    if (!filed) {
      return;
    }
    $("report-thanks").textContent = t("reportThanks", { id: filed.id });
    $("report-echo").textContent = filed.text ? t("reportEcho", { text: filed.text }) : "";
  }

  self.renderTexts = function () {
    renderPlace();
    renderDone();
    if (lastStatus) {
      $("report-status").textContent = t(lastStatus.key, lastStatus.values);
    }
  };

  function pick(latlng) {
    outside = !area.contains(latlng);
    if (outside) {
      place = null;
      if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
    } else {
      place = { lat: latlng.lat, lon: latlng.lng };
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.circleMarker(latlng, {
          radius: 9, color: "#0b5cad", weight: 3, fillColor: "#fff", fillOpacity: 0.9,
          interactive: false, className: "nl-report-place"
        }).addTo(map);
      }
    }
    setStatus(null);
    renderPlace();
  }

  function open() {
    $("report").hidden = false;
    $("report-open").setAttribute("aria-expanded", "true");
    document.body.classList.add("reporting");
    renderPlace();
  }

  function close() {
    $("report").hidden = true;
    $("report-open").setAttribute("aria-expanded", "false");
    document.body.classList.remove("reporting");
    if (marker) {
      map.removeLayer(marker);
      marker = null;
    }
  }

  function reset() {
    place = null;
    outside = false;
    filed = null;
    if (marker) {
      map.removeLayer(marker);
      marker = null;
    }
    $("report-form").reset();
    $("report-form").hidden = false;
    $("report-done").hidden = true;
    document.body.removeAttribute("data-report");
    setStatus(null);
    renderPlace();
  }

  function chosenCategory() {
    var chosen = document.querySelector("#report-form input[name='category']:checked");
    return chosen ? chosen.value : null;
  }

  function answered(response) {
    if (response.status === 201) {
      return response.json().then(function (body) {
        filed = { id: body.id, text: $("report-text").value.trim() };
        $("report-form").hidden = true;
        $("report-done").hidden = false;
        setStatus(null);
        renderDone();
        document.body.setAttribute("data-report", "sent");
        if (marker) {
          map.removeLayer(marker);
          marker = null;
        }
      });
    }
    if (response.status === 429) {
      var seconds = Number(response.headers.get("Retry-After")) || 60;
      setStatus("reportTooMany", { minutes: Math.max(1, Math.ceil(seconds / 60)) });
      return null;
    }
    return response.json().then(function (body) {
      setStatus("reportRefused", { detail: String(body.detail || response.status) });
    }, function () {
      setStatus("reportFailed");
    });
  }

  function send(event) {
    event.preventDefault();
    var category = chosenCategory();
    if (!place) {
      setStatus("reportNeedPlace");
      return;
    }
    if (!category) {
      setStatus("reportNeedCategory");
      return;
    }
    var text = $("report-text").value.trim();
    var body = { lat: place.lat, lon: place.lon, category: category };
    if (text) {
      body.text = text;
    }
    $("report-send").disabled = true;
    setStatus("reportSending");
    fetch("/api/v1/citizen-reports", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body)
    }).then(answered).catch(function () {
      setStatus("reportFailed");
    }).then(function () {
      $("report-send").disabled = false;
    });
  }

  $("report-open").addEventListener("click", function () {
    if ($("report").hidden) {
      open();
    } else {
      close();
    }
  });
  $("report-close").addEventListener("click", close);
  $("report-again").addEventListener("click", reset);
  $("report-form").addEventListener("submit", send);
  map.on("click", function (event) {
    if (!$("report").hidden && !$("report-form").hidden) {
      pick(event.latlng);
    }
  });
  L.DomEvent.disableClickPropagation($("report"));
  renderPlace();
  return self;
}
