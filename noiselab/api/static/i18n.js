/* noiselab noise map: user interface texts in Danish (default) and English.
 * t(key, values) looks a text up in the current language and fills {name} placeholders.
 * Numbers use the language's decimal separator (Intl.NumberFormat). */
"use strict";

var NL_TEXTS = {
  da: {
    title: "Støjkort Vallensbæk",
    choose: "Vælg en måler",
    map: "Kort over målerne",
    close: "Luk",
    langButton: "English",
    langAria: "Switch to English",
    now: "Nu (seneste 15 min)",
    hour: "Seneste time",
    lden: "Lden {date}",
    guideline: "Vejledende grænseværdi",
    guidelineValue: "Lden {value} dB",
    noGuideline: "ingen (baggrundsmåler)",
    chart24: "De seneste 24 timer (LAeq, 15 min)",
    chart30: "Lden pr. døgn, de seneste 30 dage",
    chartGuide: "grænseværdi {value} dB",
    noData: "ingen data",
    noDataChart: "Ingen målinger i perioden.",
    loading: "Henter …",
    failed: "Kunne ikke hente data. Prøver igen om lidt.",
    legend: "LAeq, seneste 15 min",
    legendNoData: "ingen data",
    updated: "Opdateret {time}",
    lines: "Motorveje og jernbane er tegnet skematisk.",
    coverage: "{pct} % af tiden målt",
    status_online: "online",
    status_stale: "forsinket",
    status_offline: "offline",
    source_road: "vejtrafik",
    source_rail: "jernbane",
    source_background: "baggrund",
    source_null: "ukendt kilde",
    lastSeen: "senest målt {time}",
    above: "over vejledende grænseværdi",
    below: "under vejledende grænseværdi",
    whatTitle: "Hvad betyder tallene?",
    whatDb: "Støj måles i decibel (dB). Tallene er A-vægtede middelniveauer (LAeq): det jævne " +
      "lydniveau, der har samme lydenergi som det målte. 3 dB mere er dobbelt så meget " +
      "lydenergi; 10 dB mere opleves som omtrent dobbelt så højt.",
    whatLden: "Lden er et døgnmiddel, hvor aftenen ({evening}) tæller med 5 dB ekstra og natten " +
      "({night}) med 10 dB ekstra, fordi støj generer mere om aftenen og natten. Det er det mål, " +
      "støjkort og grænseværdier bruger.",
    whatGuide: "Miljøstyrelsens vejledende grænseværdier ved boliger er Lden 58 dB for vejtrafik " +
      "og Lden 64 dB for jernbane. De gælder et gennemsnit over et helt år og er ikke bindende " +
      "grænser: et enkelt døgn over værdien er en indikation, ikke en overtrædelse. Over Lden " +
      "68 dB fra vejtrafik kaldes en bolig stærkt støjbelastet.",
    period_now: "Nu",
    period_24h: "Seneste 24 t",
    period_year: "Lden for året",
    periodText_now: "LAeq, seneste 15 minutter, modelleret",
    periodText_hour: "LAeq, seneste time, modelleret",
    periodText_24h: "LAeq, seneste 24 timer, modelleret",
    periodText_year: "Lden, seneste 365 dage, modelleret",
    legendSurface_now: "Kort og målere: LAeq, seneste 15 min",
    legendSurface_24h: "Kort: LAeq, seneste 24 t · målere: seneste 15 min",
    legendSurface_year: "Kort: Lden, seneste år · målere: LAeq, seneste 15 min",
    opacity: "Kortets styrke",
    shading: "Over vejledende grænseværdi",
    shadingYearOnly: "Kun for Lden for året",
    accuracy: "Ved målerne rammer kortet inden for {value} dB (median, {n} målere)",
    accuracyOne: "Ved den ene måler med data rammer kortet inden for {value} dB",
    nearestNoData: "Nærmeste måler: {name}, {distance} m væk – ingen måling, kortet {modelled}",
    accuracyNone: "Ingen målere med nok data i perioden: kortet er modellen alene.",
    surfaceLoading: "Kortet beregnes …",
    here: "Her: omkring {level} dB {indicator} (± {pm} dB), mest {source}",
    hereNoPm: "Her: omkring {level} dB {indicator}, mest {source}",
    hereAbove: "Over den vejledende grænseværdi (Lden {value} dB).",
    hereBelow: "Under den vejledende grænseværdi (Lden {value} dB).",
    nearest: "Nærmeste måler: {name}, {distance} m væk – målt {measured}, kortet {modelled}",
    outside: "Her er uden for kortet.",
    quietPlace: "baggrundslyd",
    modelled: "kortet {value}",
    panelModel: "Målt {measured} · kortet {modelled} ({period})",
    whatModelTitle: "Hvad viser farverne mellem målerne?",
    whatModel: "Farverne er et modelleret støjniveau: en beregning af lyden fra motorvejene, " +
      "jernbanen og de større veje ud fra trafikken og afstanden, som hvert minut skaleres, så " +
      "den passer med det, målerne måler. Modellen kender ikke bygninger, støjskærme eller " +
      "vejret, så bag huse er det virkelige niveau ofte lavere.",
    whatSure: "Hvor sikkert er det? Kortet prøves ved hver måler: det beregnes uden målerens " +
      "egne tal og sammenlignes med det, den målte. Tallet \"inden for X dB\" er den typiske " +
      "afvigelse; ± i et klik er den afvigelse, to ud af tre målere ligger inden for.",
    whatShading: "Skraveringen viser, hvor kortets Lden for året er over Miljøstyrelsens " +
      "vejledende grænseværdi for boliger: 58 dB, hvor vejtrafik dominerer, og 64 dB, hvor " +
      "jernbanen gør. Den er ikke en bindende grænse og siger intet om den enkelte bolig.",
    reportOpen: "Meld støj",
    reportTitle: "Meld støj her og nu",
    reportPick: "Klik på kortet, hvor der er larm.",
    reportNoPlace: "Intet sted valgt endnu.",
    reportPlace: "Valgt sted: {lat}, {lon}",
    reportOutside: "Stedet er uden for kortets område. Vælg et sted i Vallensbæk.",
    reportWhat: "Hvad larmer?",
    reportRoad: "Vejtrafik",
    reportRail: "Tog",
    reportOther: "Andet",
    reportText: "Beskrivelse (valgfri, højst 500 tegn)",
    reportPrivacy: "Skriv ikke navn, adresse eller andre personlige oplysninger.",
    reportSend: "Send",
    reportNeedPlace: "Klik først på kortet, hvor der er larm.",
    reportNeedCategory: "Vælg, hvad der larmer.",
    reportSending: "Sender …",
    reportThanks: "Tak! Din melding er modtaget (nr. {id}).",
    reportStored: "Vi gemmer kun tidspunktet, det valgte sted, kategorien og din tekst: intet " +
      "navn, ingen kontaktoplysninger og ikke din IP-adresse.",
    reportEcho: "Din tekst: {text}",
    reportAgain: "Meld igen",
    reportTooMany: "Du har sendt mange meldinger. Prøv igen om {minutes} min.",
    reportRefused: "Meldingen blev afvist: {detail}",
    reportFailed: "Kunne ikke sende meldingen. Prøv igen om lidt.",
    locale: "da-DK"
  },
  en: {
    title: "Vallensbæk noise map",
    choose: "Choose a sensor",
    map: "Map of the sensors",
    close: "Close",
    langButton: "Dansk",
    langAria: "Skift til dansk",
    now: "Now (last 15 min)",
    hour: "Last hour",
    lden: "Lden {date}",
    guideline: "Guideline value",
    guidelineValue: "Lden {value} dB",
    noGuideline: "none (background sensor)",
    chart24: "The last 24 hours (LAeq, 15 min)",
    chart30: "Daily Lden, the last 30 days",
    chartGuide: "guideline {value} dB",
    noData: "no data",
    noDataChart: "No measurements in this period.",
    loading: "Loading …",
    failed: "Could not load the data. Trying again shortly.",
    legend: "LAeq, last 15 min",
    legendNoData: "no data",
    updated: "Updated {time}",
    lines: "Motorways and railway are drawn schematically.",
    coverage: "{pct} % of the time measured",
    status_online: "online",
    status_stale: "delayed",
    status_offline: "offline",
    source_road: "road traffic",
    source_rail: "railway",
    source_background: "background",
    source_null: "unknown source",
    lastSeen: "last measured {time}",
    above: "above the guideline value",
    below: "below the guideline value",
    whatTitle: "What do the numbers mean?",
    whatDb: "Noise is measured in decibels (dB). The numbers are A-weighted average levels " +
      "(LAeq): the steady level carrying the same sound energy as what was measured. 3 dB more " +
      "is twice the sound energy; 10 dB more sounds roughly twice as loud.",
    whatLden: "Lden is a 24-hour average in which the evening ({evening}) counts with 5 dB extra " +
      "and the night ({night}) with 10 dB extra, because noise disturbs more in the evening and " +
      "at night. Noise maps and guideline values use it.",
    whatGuide: "The Danish Environmental Protection Agency's guideline values at dwellings are " +
      "Lden 58 dB for road traffic and Lden 64 dB for railways. They refer to a yearly average " +
      "and are not binding limits: one day above the value is an indication, not a breach. " +
      "Above Lden 68 dB from road traffic a dwelling counts as severely noise-exposed.",
    period_now: "Now",
    period_24h: "Last 24 h",
    period_year: "Lden of the year",
    periodText_now: "LAeq, last 15 minutes, modelled",
    periodText_hour: "LAeq, last hour, modelled",
    periodText_24h: "LAeq, last 24 hours, modelled",
    periodText_year: "Lden, last 365 days, modelled",
    legendSurface_now: "Map and sensors: LAeq, last 15 min",
    legendSurface_24h: "Map: LAeq, last 24 h · sensors: last 15 min",
    legendSurface_year: "Map: Lden, last year · sensors: LAeq, last 15 min",
    opacity: "Map opacity",
    shading: "Above the guideline value",
    shadingYearOnly: "Only for Lden of the year",
    accuracy: "At the sensors the map is within {value} dB (median, {n} sensors)",
    accuracyOne: "At the one sensor with data the map is within {value} dB",
    nearestNoData: "Nearest sensor: {name}, {distance} m away – no measurement, map {modelled}",
    accuracyNone: "No sensor with enough data in this period: the map is the model alone.",
    surfaceLoading: "Computing the map …",
    here: "Here: about {level} dB {indicator} (± {pm} dB), mostly {source}",
    hereNoPm: "Here: about {level} dB {indicator}, mostly {source}",
    hereAbove: "Above the guideline value (Lden {value} dB).",
    hereBelow: "Below the guideline value (Lden {value} dB).",
    nearest: "Nearest sensor: {name}, {distance} m away – measured {measured}, map {modelled}",
    outside: "This is outside the map.",
    quietPlace: "background sound",
    modelled: "map {value}",
    panelModel: "Measured {measured} · map {modelled} ({period})",
    whatModelTitle: "What do the colours between the sensors show?",
    whatModel: "The colours are a modelled noise level: the sound of the motorways, the railway " +
      "and the larger roads computed from their traffic and the distance, scaled every minute " +
      "to match what the sensors measure. The model knows no buildings, noise barriers or " +
      "weather, so behind houses the real level is often lower.",
    whatSure: "How sure is it? The map is tested at every sensor: it is computed without that " +
      "sensor's own numbers and compared with what it measured. \"Within X dB\" is the typical " +
      "difference; the ± of a click is the difference two in three sensors stay within.",
    whatShading: "The hatching shows where the map's Lden of the year is above the Danish " +
      "Environmental Protection Agency's guideline value at dwellings: 58 dB where road traffic " +
      "dominates, 64 dB where the railway does. It is not a binding limit and says nothing " +
      "about a single home.",
    reportOpen: "Report noise",
    reportTitle: "Report noise here and now",
    reportPick: "Click the map where it is loud.",
    reportNoPlace: "No place picked yet.",
    reportPlace: "Place picked: {lat}, {lon}",
    reportOutside: "That place is outside the map's area. Pick a place in Vallensbæk.",
    reportWhat: "What is loud?",
    reportRoad: "Road traffic",
    reportRail: "Trains",
    reportOther: "Something else",
    reportText: "Description (optional, at most 500 characters)",
    reportPrivacy: "Do not write your name, address or other personal details.",
    reportSend: "Send",
    reportNeedPlace: "First click the map where it is loud.",
    reportNeedCategory: "Choose what is loud.",
    reportSending: "Sending …",
    reportThanks: "Thank you! Your report has arrived (no. {id}).",
    reportStored: "We store only the time, the place you picked, the category and your text: " +
      "no name, no contact details and not your IP address.",
    reportEcho: "Your text: {text}",
    reportAgain: "Report again",
    reportTooMany: "You have sent many reports. Please try again in {minutes} min.",
    reportRefused: "The report was refused: {detail}",
    reportFailed: "Could not send the report. Please try again shortly.",
    locale: "en-GB"
  }
};

var NL_LANG_KEY = "noiselab.lang";

function nlLoadLanguage() {
  try {
    var saved = window.localStorage.getItem(NL_LANG_KEY);
    return saved === "en" ? "en" : "da";
  } catch (e) {
    return "da";
  }
}

var nlLang = nlLoadLanguage();

function nlSetLanguage(lang) {
  nlLang = lang === "en" ? "en" : "da";
  try {
    window.localStorage.setItem(NL_LANG_KEY, nlLang);
  } catch (e) {
    /* private browsing: the choice lasts for this page only */
  }
}

function t(key, values) {
  var text = NL_TEXTS[nlLang][key];
  if (text === undefined) {
    text = NL_TEXTS.da[key] || key;
  }
  return text.replace(/\{(\w+)\}/g, function (all, name) {
    return values && values[name] !== undefined ? String(values[name]) : all;
  });
}

/* A level in dB with one decimal and the language's separator ("66,0" / "66.0"). Where one
 * decimal would round up onto a 5 dB class edge (59.96 to "60.0" while the class is 55-60),
 * two decimals are shown instead, so the number never contradicts the marker's colour. */
function fmtDb(value) {
  if (value === null || value === undefined) {
    return t("noData");
  }
  var one = Math.round(value * 10) / 10;
  var digits = one % 5 === 0 && value < one ? 2 : 1;
  return fmtNumber(value, digits) + " dB";
}

function fmtNumber(value, digits) {
  return new Intl.NumberFormat(t("locale"), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits
  }).format(value);
}
