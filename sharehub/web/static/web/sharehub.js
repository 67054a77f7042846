/* Small page behaviours, switched on by data attributes, so that no template carries inline script
 * (the Content-Security-Policy allows scripts only from our own static files).
 *
 *   <select data-submit-on-change>         submits its form when the choice changes
 *   <form data-confirm="Question?">        asks before submitting
 *   <input type=checkbox data-check-all="css selector">   ticks or unticks every box it selects
 *   <input data-select-on-click>           selects its whole text on click
 *   <button data-copy-from="id" data-done="Copied">        copies that field's value to the clipboard
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
  });

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
