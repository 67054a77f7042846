/* The first-run tour (sharehub.knowledge.tour): Bootstrap popovers, one at a time, beside the real navigation.
 *
 * The steps come from <script type="application/json" id="sh-tour-data"> (translated on the server); the
 * element <div id="sh-tour" data-csrf="..."> carries the CSRF token. A step whose element is not on the page
 * is skipped; one inside the collapsed menu (narrow screens) opens the menu first. Finishing or skipping the
 * tour (the button, the close button or Escape) posts the role to `seen_url` so it is not shown again.
 * No inline script: the Content-Security-Policy allows scripts only from our static files.
 */
(function () {
  "use strict";

  var holder = document.getElementById("sh-tour");
  var source = document.getElementById("sh-tour-data");
  if (!holder || !source || !window.bootstrap || !window.bootstrap.Popover) {
    return;
  }
  var tour = JSON.parse(source.textContent);
  var labels = tour.labels;
  var steps = tour.steps.filter(function (step) { return document.querySelector(step.target); });
  var index = -1;
  var current = null;  // {element, popover}
  var finished = false;

  function visible(element) {
    return element.getClientRects().length > 0 && window.getComputedStyle(element).visibility !== "hidden";
  }

  function reveal(element) {
    // On a narrow screen the navigation is folded behind the menu button: unfold it without animation.
    var folded = element.closest(".navbar-collapse:not(.show)");
    if (folded) {
      folded.classList.add("show");
      var toggler = document.querySelector('[data-bs-target="#' + folded.id + '"]');
      if (toggler) {
        toggler.setAttribute("aria-expanded", "true");
      }
    }
  }

  function button(text, className, action) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "btn btn-sm " + className;
    element.textContent = text;
    element.addEventListener("click", action);
    return element;
  }

  function content(position, total) {
    var body = document.createElement("div");
    var text = document.createElement("p");
    text.className = "mb-0";
    text.textContent = steps[position].text;
    body.appendChild(text);
    var actions = document.createElement("div");
    actions.className = "sh-tour-actions";
    var progress = document.createElement("span");
    progress.className = "sh-tour-progress";
    progress.textContent = labels.progress.replace("%(step)s", position + 1).replace("%(total)s", total);
    actions.appendChild(progress);
    var last = position === total - 1;
    if (!last) {
      actions.appendChild(button(labels.skip, "btn-link px-1 sh-tour-skip", finish));
    }
    if (position > 0) {
      actions.appendChild(button(labels.back, "btn-outline-secondary sh-tour-back", function () { show(index - 1); }));
    }
    actions.appendChild(last
      ? button(labels.done, "btn-primary sh-tour-done", finish)
      : button(labels.next, "btn-primary sh-tour-next", function () { show(index + 1); }));
    body.appendChild(actions);
    return body;
  }

  function hideCurrent() {
    if (current) {
      current.popover.dispose();
      current.element.classList.remove("sh-tour-target");
      current = null;
    }
  }

  function show(position) {
    hideCurrent();
    if (position < 0 || position >= steps.length) {
      return;
    }
    index = position;
    var step = steps[position];
    var element = document.querySelector(step.target);
    reveal(element);
    if (!visible(element)) {  // hidden for another reason: go on without it
      steps.splice(position, 1);
      show(Math.min(position, steps.length - 1));
      return;
    }
    element.scrollIntoView({block: "center", inline: "nearest"});
    element.classList.add("sh-tour-target");
    var popover = new window.bootstrap.Popover(element, {
      title: step.title,
      content: content(position, steps.length),
      html: true,
      trigger: "manual",
      animation: false,
      placement: "bottom",
      container: "body",
      customClass: "sh-tour-popover",
      template: '<div class="popover" role="dialog" aria-live="polite"><div class="popover-arrow"></div>' +
        '<div class="popover-header fw-semibold"></div><div class="popover-body"></div></div>'
    });
    current = {element: element, popover: popover};
    element.addEventListener("shown.bs.popover", function focusNext() {
      element.removeEventListener("shown.bs.popover", focusNext);
      var tip = popover.tip;
      if (tip) {
        tip.setAttribute("aria-label", step.title);
        var next = tip.querySelector(".sh-tour-next, .sh-tour-done");
        if (next) {
          next.focus({preventScroll: true});
        }
      }
    });
    popover.show();
  }

  function finish() {
    if (finished) {
      return;
    }
    finished = true;
    hideCurrent();
    var body = new URLSearchParams();
    body.append("role", tour.role);
    fetch(tour.seen_url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"X-CSRFToken": holder.dataset.csrf}
    }).then(function (answer) {
      holder.dataset.saved = answer.ok ? "1" : "0";
    });
    var address = new URL(window.location.href);
    if (address.searchParams.has("tour")) {  // a reload must not bring it back
      address.searchParams.delete("tour");
      window.history.replaceState(null, "", address.pathname + address.search + address.hash);
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && current) {
      finish();
    }
  });
  window.addEventListener("resize", function () {
    if (current) {
      current.popover.update();
    }
  });

  if (steps.length) {
    show(0);
  }
}());
