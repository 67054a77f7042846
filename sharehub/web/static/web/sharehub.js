/* Small page behaviours, switched on by data attributes, so that no template carries inline script
 * (the Content-Security-Policy allows scripts only from our own static files).
 *
 *   <select data-submit-on-change>         submits its form when the choice changes
 *   <form data-confirm="Question?">        asks before submitting
 *   <input type=checkbox data-check-all="css selector">   ticks or unticks every box it selects
 *   <input data-select-on-click>           selects its whole text on click
 *   <button data-copy-from="id" data-done="Copied">        copies that field's value to the clipboard
 *   <button data-copy-text="text" data-done="Copied">      copies its own text (an audit entry's full hash)
 *   <form hx-get data-drop-empty>          leaves empty fields out of htmx requests (short pushed addresses)
 *
 * Every page works without this script; it only saves a click.
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-submit-on-change]") && target.form) {
      target.form.submit();
    } else if (target.matches("[data-check-all]")) {
      document.querySelectorAll(target.dataset.checkAll).forEach(function (box) { box.checked = target.checked; });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.matches("[data-select-on-click]")) {
      target.select();
      return;
    }
    var button = target.closest("[data-copy-from]");
    if (button) {
      var field = document.getElementById(button.dataset.copyFrom);
      if (field && navigator.clipboard) {
        navigator.clipboard.writeText(field.value);
        button.textContent = button.dataset.done || button.textContent;
      }
    }
    var copier = target.closest("[data-copy-text]");
    if (copier) {
      copyText(copier.dataset.copyText, function () { copied(copier); });
    }
  });

  // The clipboard API exists only on https (and localhost); on plain http inside an intranet the older
  // way still works: select the text in a hidden field and ask the browser to copy it.
  function copyText(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { legacyCopy(text) && done(); });
    } else if (legacyCopy(text)) {
      done();
    }
  }

  function legacyCopy(text) {
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "position-fixed top-0 start-0 opacity-0";
    document.body.appendChild(field);
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
    document.body.removeChild(field);
    return ok;
  }

  // An icon button shows a tick and says "Copied" for a moment.
  function copied(button) {
    var icon = button.querySelector(".bi");
    var label = button.getAttribute("aria-label"), title = button.title;
    if (icon) { icon.classList.replace("bi-clipboard", "bi-clipboard-check"); }
    button.setAttribute("aria-label", button.dataset.done || label);
    button.title = button.dataset.done || button.title;
    window.setTimeout(function () {
      if (icon) { icon.classList.replace("bi-clipboard-check", "bi-clipboard"); }
      button.setAttribute("aria-label", label);
      button.title = title;
    }, 2000);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail.elt;
    var inForm = source && source.closest && source.closest("form[data-drop-empty]");
    var ownerForm = source && source.form && source.form.matches("[data-drop-empty]");  // form="id" outside it
    if (!inForm && !ownerForm) { return; }
    var data = event.detail.formData, empty = [];
    data.forEach(function (value, key) { if (value === "") { empty.push(key); } });
    empty.forEach(function (key) { data.delete(key); });
  });
})();
