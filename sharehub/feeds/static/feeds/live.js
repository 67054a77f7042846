// The bell's unread count and latest items, kept current by the notification stream (Server-Sent Events);
// where the stream cannot be held (blocked by a proxy, no EventSource), the count is polled instead.
(function () {
  "use strict";
  var MAX_ITEMS = 8;
  var POLL_MS = 30000;

  function start() {
    var bell = document.querySelector("[data-live-url]");
    if (!bell) {
      return;
    }
    var shown = bell.querySelector(".sh-bell-count");
    var badge = bell.querySelector(".sh-unread-count");
    var icon = bell.querySelector(".sh-bell .bi");
    var announce = document.getElementById("sh-live-announce");

    function setCount(n) {
      if (!badge || !shown) {
        return;
      }
      badge.textContent = String(n);
      shown.classList.toggle("d-none", n === 0);
      bell.dataset.unread = String(n);
      if (icon) {
        icon.classList.toggle("bi-bell-fill", n > 0);
        icon.classList.toggle("bi-bell", n === 0);
      }
    }

    function prepend(item) {
      var list = document.getElementById("sh-bell-items");
      if (announce) {
        announce.textContent = item.text;
      }
      if (!list || !list.dataset.loaded) {
        return;
      }
      var empty = list.querySelector(".sh-bell-empty");
      if (empty) {
        empty.remove();
      }
      var row = document.createElement("li");
      var link = document.createElement("a");
      link.className = "dropdown-item text-wrap fw-semibold sh-bell-item";
      link.href = item.link || bell.dataset.listUrl;
      link.textContent = item.text;
      row.appendChild(link);
      list.insertBefore(row, list.firstChild);
      while (list.querySelectorAll(".sh-bell-item").length > MAX_ITEMS) {
        list.querySelectorAll(".sh-bell-item")[MAX_ITEMS].parentElement.remove();
      }
    }

    var polling = null;
    function poll() {
      fetch(bell.dataset.countUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (body) { if (body) { setCount(body.unread); } })
        .catch(function () {});
    }
    function startPolling() {
      if (polling === null) {
        poll();
        polling = window.setInterval(poll, POLL_MS);
      }
    }

    if (!("EventSource" in window)) {
      startPolling();
      return;
    }
    var source = new EventSource(bell.dataset.liveUrl);
    var failures = 0;
    source.addEventListener("unread", function (event) {
      failures = 0;
      setCount(JSON.parse(event.data).unread);
    });
    source.addEventListener("notification", function (event) {
      failures = 0;
      prepend(JSON.parse(event.data));
    });
    source.addEventListener("error", function () {
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures >= 5) {
        source.close();
        startPolling();
      }
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "sh-bell-items") {
        event.detail.target.dataset.loaded = "1";
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
