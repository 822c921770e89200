// The /find page's extras: activity suggestions, "use my position" and the map.
// The page works without this script (a plain GET form and a server-rendered list).
// Text from the data is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";

  // After a search, move focus to what it produced (the error summary, or the results
  // heading that says how many clubs were found), so a screen reader announces it and
  // the next Tab goes on from there rather than from the top of the form.
  var errors = document.getElementById("errors");
  var heading = document.querySelector("#results-heading[data-searched]");
  if (errors) errors.focus();
  else if (heading) heading.focus();

  var activity = document.getElementById("f-activity");
  var options = document.getElementById("activity-options");
  var timer = null;
  if (activity && options && window.fetch) {
    activity.addEventListener("input", function () {
      clearTimeout(timer);
      var typed = activity.value.trim();
      if (typed.length < 2) return;
      timer = setTimeout(function () {
        fetch("/api/activities?limit=10&q=" + encodeURIComponent(typed))
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (body) {
            options.replaceChildren();
            body.items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.label;
              if (item.matched !== item.label) option.label = item.matched + " → " + item.label;
              options.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are an extra */ });
      }, 150);
    });
  }

  var button = document.getElementById("use-position");
  var near = document.getElementById("f-near");
  if (button && near && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          near.value = position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
          button.disabled = false;
          near.focus();
        },
        function () {
          button.disabled = false;
          near.setAttribute("placeholder", "Your position is not available: type a postcode");
          near.focus();
        },
        { timeout: 10000, maximumAge: 600000 }
      );
    });
  }

  var holder = document.getElementById("map");
  var data = document.getElementById("find-markers");
  if (!holder || !data || !window.L) return;
  var markers = JSON.parse(data.textContent || "[]");
  var map = L.map(holder, { scrollWheelZoom: false });
  var tiles = holder.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, {
      maxZoom: 19,
      attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    }).addTo(map);
  }
  var bounds = markers.map(function (m) { return [m.lat, m.lng]; });
  if (bounds.length === 1) map.setView(bounds[0], 13);
  else if (bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  markers.forEach(function (m) {
    if (m.centre) {
      L.circle([m.lat, m.lng], { radius: m.km * 1000, weight: 1, fill: false }).addTo(map);
      return;
    }
    var popup = document.createElement("div");
    var link = document.createElement("a");
    link.href = m.page;
    link.textContent = m.n + ". " + m.name;
    popup.appendChild(link);
    if (m.km !== null) popup.appendChild(document.createTextNode(" (" + m.km + " km)"));
    var marker = L.marker([m.lat, m.lng], { title: m.n + ". " + m.name, alt: m.name });
    marker.bindPopup(popup).addTo(map);
    var icon = marker.getElement();
    if (icon) icon.setAttribute("data-page", m.page);
  });
  holder.setAttribute("data-markers", String(markers.filter(function (m) { return !m.centre; }).length));
})();
