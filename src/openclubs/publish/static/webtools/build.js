// openclubs /build: the club's JSON-LD snippet, live as the user types.
//
// buildRecord() follows src/openclubs/webtools/snippet.py build_record() rule for rule and
// key for key, so the snippet shown here is the one the server renders without JavaScript
// (a browser test compares them). Change one, change the other.
//
// Everything the user typed reaches the page through textContent or form values, never
// through innerHTML.
"use strict";

(function () {
  const CONTEXT = "https://openactive.io/";
  const GENDERS = [
    "https://openactive.io/NoRestriction",
    "https://openactive.io/MaleOnly",
    "https://openactive.io/FemaleOnly",
  ];
  const AMENITIES = [
    ["ChangingFacilities", "Changing Facilities"],
    ["Showers", "Showers"],
    ["Toilets", "Toilets"],
    ["Lockers", "Lockers"],
    ["Towels", "Towels"],
    ["Parking", "Parking"],
    ["Creche", "Creche"],
    ["BabyChanging", "Baby Changing"],
  ];
  const POSTCODE_COUNTRIES = ["", "GB", "JE", "GG", "IM"];
  const OUTWARD =
    "(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}" +
    "|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])";
  const INWARD = "[0-9][ABD-HJLNP-UW-Z]{2}";
  const FULL = new RegExp("^(?:(" + OUTWARD + ")(" + INWARD + ")|(GIR)(0AA))$");
  const NUMBER = /^-?[0-9]+(?:\.[0-9]+)?$/;
  const WHOLE = /^[0-9]+$/;
  const LINES = /\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]/;
  const SEVERITY_WORDS = {
    failure: "must fix",
    warning: "recommended",
    notice: "good to know",
    suggestion: "suggestion",
  };

  let activityIndex = null;
  const form = document.getElementById("build");
  if (!form) return;
  const $ = (id) => document.getElementById(id);

  function normaliseLabel(text) {
    return text.toLowerCase().replace(/[\s\-_.'’]+/g, "");
  }

  function canonicalPostcode(text) {
    const parts = text.trim().split(/\s+/);
    if (parts.length > 1 && parts.slice(1).join("").length !== 3) return null;
    const match = FULL.exec(text.replace(/\s+/g, "").toUpperCase());
    if (!match) return null;
    return match[1] ? match[1] + " " + match[2] : "GIR 0AA";
  }

  function number(text) {
    text = text.trim();
    return NUMBER.test(text) ? Number(text) : null;
  }

  function value(name) {
    const field = form.elements.namedItem(name);
    return field && typeof field.value === "string" ? field.value : "";
  }

  function places() {
    return Array.from(form.querySelectorAll("#places [data-place]"));
  }

  function buildPlace(i) {
    const get = (key) => value("loc-" + i + "-" + key);
    const place = { "@type": "Place" };
    if (get("name").trim()) place.name = get("name").trim();
    const country = get("country").trim().toUpperCase();
    const keys = [
      ["street", "streetAddress"],
      ["locality", "addressLocality"],
      ["region", "addressRegion"],
      ["postcode", "postalCode"],
    ];
    if (keys.some(([key]) => get(key).trim())) {
      const address = { "@type": "PostalAddress" };
      for (const [key, prop] of keys) {
        let text = get(key).trim();
        if (key === "postcode" && POSTCODE_COUNTRIES.includes(country)) {
          text = canonicalPostcode(text) || text;
        }
        if (text) address[prop] = text;
      }
      if (country) address.addressCountry = country;
      place.address = address;
    }
    const lat = number(get("lat"));
    const lon = number(get("lon"));
    if (lat !== null && lon !== null) {
      place.geo = { "@type": "GeoCoordinates", latitude: lat, longitude: lon };
    }
    const checked = Array.from(
      form.querySelectorAll('input[name="loc-' + i + '-amenity"]:checked'),
    ).map((box) => box.value);
    const features = AMENITIES.filter(([kind]) => checked.includes(kind)).map(
      ([kind, label]) => ({ "@type": kind, name: label, value: true }),
    );
    if (features.length) place.amenityFeature = features;
    return Object.keys(place).length > 1 ? place : null;
  }

  function buildRecord() {
    const record = { "@context": CONTEXT, "@type": "Organization" };
    const ident = value("id").trim() || value("url").trim();
    if (ident) record["@id"] = ident;
    for (const key of ["name", "description", "url"]) {
      if (value(key).trim()) record[key] = value(key).trim();
    }
    const links = value("same_as")
      .split(LINES)
      .map((line) => line.trim())
      .filter((line) => line);
    if (links.length) record.sameAs = links;
    for (const key of ["email", "telephone"]) {
      if (value(key).trim()) record[key] = value(key).trim();
    }
    const activities = [];
    const seen = new Set();
    for (const input of form.querySelectorAll('input[name="activity"]')) {
      const text = input.value.trim();
      const found = text && activityIndex ? activityIndex[normaliseLabel(text)] : undefined;
      const key = found ? found[0] : normaliseLabel(text);
      if (!text || seen.has(key)) continue;
      seen.add(key);
      if (found) {
        activities.push({
          "@type": "Concept",
          "@id": found[0],
          prefLabel: found[1],
          inScheme: found[0].split("#")[0],
        });
      } else {
        activities.push({ "@type": "Concept", prefLabel: text });
      }
    }
    if (activities.length) record.activity = activities;
    const built = places()
      .map((_, i) => buildPlace(i))
      .filter((place) => place !== null);
    if (built.length) record.location = built.length === 1 ? built[0] : built;
    if (GENDERS.includes(value("gender"))) record.genderRestriction = value("gender");
    const ages = [
      ["minValue", value("age_min").trim()],
      ["maxValue", value("age_max").trim()],
    ];
    if (ages.some(([, text]) => WHOLE.test(text))) {
      const age = { "@type": "QuantitativeValue" };
      for (const [key, text] of ages) if (WHOLE.test(text)) age[key] = parseInt(text, 10);
      record.ageRange = age;
    }
    if (value("member_of").trim()) record.memberOf = value("member_of").trim();
    return record;
  }

  function snippetJson(record) {
    return JSON.stringify(record, null, 2)
      .split("</")
      .join("<\\/")
      .split("<!--")
      .join("<\\u0021--");
  }

  function snippetText(record) {
    return '<script type="application/ld+json">\n' + snippetJson(record) + "\n</script>";
  }

  // -- the check, by the server's validator ---------------------------------------------------

  let checkTimer = null;
  let checkNumber = 0;

  // The server words each item for this form (webtools/build_page.py missing_items) and
  // names the field it is about, so each item links to its field. Only the one-line status
  // is a live region, and it is only rewritten when it changes: a screen reader hears
  // "2 things still to fix" once, not the whole list at every key press.
  function withCode(parent, text) {
    text.split("`").forEach((part, n) => {
      if (n % 2) {
        const code = document.createElement("code");
        code.textContent = part;
        parent.append(code);
      } else if (part) {
        parent.append(part);
      }
    });
  }

  function showIssues(answer) {
    $("verdict").textContent = answer.verdict;
    if ($("check-status").textContent !== answer.status) {
      $("check-status").textContent = answer.status;
    }
    const list = $("issues");
    list.replaceChildren();
    for (const item of answer.items) {
      const row = document.createElement("li");
      row.className = item.severity;
      row.dataset.type = item.type;
      const link = document.createElement("a");
      link.href = "#" + item.field;
      link.textContent = item.label;
      row.append(link, " (" + (SEVERITY_WORDS[item.severity] || item.severity) + "): ");
      if (item.headline) {
        const headline = document.createElement("strong");
        headline.textContent = item.headline;
        row.append(headline, ". ");
      }
      withCode(row, item.message);
      list.append(row);
    }
  }

  function check() {
    const mine = ++checkNumber;
    const data = new FormData(form);
    data.delete("paste");
    fetch("/webtools/check", { method: "POST", body: data })
      .then((response) => response.json())
      .then((answer) => {
        if (mine === checkNumber && answer.ok) showIssues(answer);
      })
      .catch(() => {
        if (mine === checkNumber) $("verdict").textContent = "The check could not be run just now.";
      });
  }

  function update() {
    const record = buildRecord();
    $("snippet").textContent = snippetText(record);
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 400);
  }

  // -- locations ------------------------------------------------------------------------------

  function renumber() {
    places().forEach((fieldset, i) => {
      for (const element of fieldset.querySelectorAll("[name], [id], [for], button[value]")) {
        for (const attribute of ["name", "id", "for"]) {
          const old = element.getAttribute(attribute);
          if (old) element.setAttribute(attribute, old.replace(/^loc-(?:\d+|__i__)-/, "loc-" + i + "-"));
        }
        if (element.tagName === "BUTTON" && element.value) {
          element.value = element.value.replace(/-(?:\d+|__i__)$/, "-" + i);
        }
      }
      fieldset.querySelector("[data-place-number]").textContent = String(i + 1);
    });
    $("locations").value = String(places().length);
  }

  function addPlace() {
    const copy = $("place-template").content.firstElementChild.cloneNode(true);
    $("places").append(copy);
    renumber();
    return copy;
  }

  function lookup(button) {
    const fieldset = button.closest("[data-place]");
    const i = places().indexOf(fieldset);
    const note = fieldset.querySelector("[data-place-note]");
    const postcode = value("loc-" + i + "-postcode");
    note.textContent = "Looking up " + postcode.trim() + "…";
    fetch("/webtools/postcode?q=" + encodeURIComponent(postcode))
      .then((response) => response.json())
      .then((answer) => {
        note.textContent = answer.message;
        if (answer.status === "found") {
          form.elements.namedItem("loc-" + i + "-postcode").value = answer.postcode;
          form.elements.namedItem("loc-" + i + "-lat").value = String(answer.latitude);
          form.elements.namedItem("loc-" + i + "-lon").value = String(answer.longitude);
          update();
        }
      })
      .catch(() => {
        note.textContent = "Service unavailable: the look-up could not be reached. Try again later.";
      });
  }

  // -- activities -----------------------------------------------------------------------------

  function addActivity(text) {
    const inputs = $("activity-inputs");
    const n = inputs.querySelectorAll("input").length;
    const p = document.createElement("p");
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = "activity-" + n;
    label.textContent = "Activity " + (n + 1);
    const input = document.createElement("input");
    input.type = "text";
    input.id = "activity-" + n;
    input.name = "activity";
    input.setAttribute("list", "activity-list");
    input.autocomplete = "off";
    input.value = text || "";
    p.append(label, input);
    inputs.append(p);
    return input;
  }

  // -- a pasted snippet fills the form --------------------------------------------------------

  function fill(fields) {
    for (const key of ["id", "name", "description", "url", "same_as", "email", "telephone",
                       "age_min", "age_max", "gender", "member_of"]) {
      form.elements.namedItem(key).value = fields[key];
    }
    $("activity-inputs").replaceChildren();
    const wanted = Math.max(3, fields.activities.length + 1);
    for (let n = 0; n < wanted; n++) addActivity(fields.activities[n] || "");
    $("places").replaceChildren();
    fields.places.forEach((place, i) => {
      addPlace();
      for (const key of ["name", "street", "locality", "region", "postcode", "country", "lat", "lon"]) {
        form.elements.namedItem("loc-" + i + "-" + key).value = place[key];
      }
      for (const box of form.querySelectorAll('input[name="loc-' + i + '-amenity"]')) {
        box.checked = place.amenities.includes(box.value);
      }
    });
    update();
  }

  function load() {
    const status = $("paste-status");
    status.textContent = "Reading the snippet…";
    fetch("/webtools/fill", { method: "POST", body: $("paste").value })
      .then((response) => response.json())
      .then((answer) => {
        if (!answer.ok) {
          status.textContent = answer.error;
          return;
        }
        fill(answer.fields);
        status.textContent = answer.issues.length
          ? "The form now holds the pasted snippet (its JSON had mistakes, repaired here)."
          : "The form now holds the pasted snippet.";
      })
      .catch(() => {
        status.textContent = "The snippet could not be read just now.";
      });
  }

  // -- copy and download ----------------------------------------------------------------------

  function copy() {
    const text = $("snippet").textContent;
    const status = $("copy-status");
    const fallback = () => {
      const range = document.createRange();
      range.selectNodeContents($("snippet"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      let done = false;
      try {
        done = document.execCommand("copy");
      } catch (error) {
        done = false;
      }
      status.textContent = done
        ? "Copied the snippet to the clipboard."
        : "The snippet is selected: press Ctrl+C (or ⌘C) to copy it.";
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        () => {
          status.textContent = "Copied the snippet to the clipboard.";
        },
        fallback,
      );
    } else {
      fallback();
    }
  }

  function download() {
    const name =
      (value("name").trim().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") ||
        "club") + "-jsonld.html";
    const blob = new Blob([$("snippet").textContent + "\n"], { type: "text/html" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    $("copy-status").textContent = "Downloaded " + name + ".";
  }

  // -- wiring ---------------------------------------------------------------------------------

  form.addEventListener("input", (event) => {
    if (event.target.id !== "paste") update();
  });
  form.addEventListener("change", update);
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-lookup")) {
      event.preventDefault();
      lookup(button);
    } else if (button.hasAttribute("data-remove")) {
      event.preventDefault();
      if (places().length > 1) {
        button.closest("[data-place]").remove();
        renumber();
        update();
      }
    } else if (button.id === "add-location") {
      event.preventDefault();
      addPlace().querySelector("input").focus();
      update();
    } else if (button.id === "add-activity") {
      event.preventDefault();
      addActivity("").focus();
    } else if (button.id === "load") {
      event.preventDefault();
      load();
    }
  });
  // A link in the list of what is missing (or the error summary) puts the cursor in the
  // field, not only the page at it, and shows the field's label above it.
  document.addEventListener("click", (event) => {
    const link = event.target.closest('#issues a[href^="#"], .error-summary a[href^="#"]');
    if (!link) return;
    const field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    const label = document.querySelector('label[for="' + field.id + '"]');
    (label || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  });
  $("paste").addEventListener("paste", () => setTimeout(load, 0));
  for (const id of ["copy", "download", "add-activity"]) $(id).hidden = false;
  $("copy").addEventListener("click", copy);
  $("download").addEventListener("click", download);
  form.setAttribute("data-ready", "loading");
  fetch("/webtools/activities.json")
    .then((response) => response.json())
    .then((index) => {
      activityIndex = index;
      update();
      form.setAttribute("data-ready", "yes");
    })
    .catch(() => {
      form.setAttribute("data-ready", "no-activities");
    });
})();
