/* Search: the header box's suggestions, and the search page's partial answers.
 *
 * htmx fills #header-suggestions as the person types (see web/base.html). This script opens and
 * closes that list, moves through it with the arrow keys and closes it on Escape or when the focus
 * leaves the box. Enter in the box is left alone: it submits the form to the search page.
 */
(function () {
  "use strict";

  function headerBox() {
    var form = document.getElementById("header-search");
    var menu = document.getElementById("header-suggestions");
    if (!form || !menu) { return; }
    var input = form.querySelector("input[name=q]");

    function items() { return Array.prototype.slice.call(menu.querySelectorAll("a.dropdown-item")); }
    function isOpen() { return menu.classList.contains("show"); }
    function close() {
      menu.classList.remove("show");
      input.setAttribute("aria-expanded", "false");
    }
    function open() {
      var wanted = items().length > 0 && input.value.trim() !== "" && form.contains(document.activeElement);
      menu.classList.toggle("show", wanted);
      input.setAttribute("aria-expanded", wanted ? "true" : "false");
    }

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target === menu) { open(); }
    });
    document.body.addEventListener("htmx:beforeHistorySave", close);
    input.addEventListener("focus", function () { if (input.value.trim() !== "") { open(); } });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && isOpen()) {
        event.preventDefault();
        items()[0].focus();
      } else if (event.key === "Escape" && isOpen()) {
        event.preventDefault();
        close();
      }
    });
    /* Keys inside the list. Listened for on the window while capturing, so that Bootstrap's own
       dropdown keys (on the document, also capturing) never see them: this list has no toggle button. */
    window.addEventListener("keydown", function (event) {
      if (!menu.contains(event.target) || ["ArrowDown", "ArrowUp", "Escape"].indexOf(event.key) < 0) { return; }
      event.stopPropagation();
      event.preventDefault();
      var list = items();
      var index = list.indexOf(document.activeElement);
      if (event.key === "ArrowDown") {
        if (index < list.length - 1) { list[index + 1].focus(); }
      } else if (event.key === "ArrowUp") {
        if (index > 0) { list[index - 1].focus(); } else { input.focus(); }
      } else {
        close();
        input.focus();
      }
    }, true);
    /* A click on a suggestion must not take the focus away first (the list would close under it). */
    menu.addEventListener("mousedown", function (event) { event.preventDefault(); });
    form.addEventListener("focusout", function (event) {
      if (!form.contains(event.relatedTarget)) { close(); }
    });
    form.addEventListener("submit", close);
  }

  /* The search page answers bad parameters with 422 and the reason next to the box: show it. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 422 && target && target.id === "search-results") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", headerBox);
  } else {
    headerBox();
  }
})();
