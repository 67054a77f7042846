/* Show only the fields that apply to the chosen kind and sharing type. Without JavaScript every
   field stays visible and the server ignores the ones that do not apply.

   Included right after its form (catalog/_form_script.html); the script element carries the
   translated hint for a disabled publish button in data-publish-hint. */
(function () {
  "use strict";
  var script = document.currentScript;
  var form = script.previousElementSibling;
  while (form && form.tagName !== "FORM") { form = form.previousElementSibling; }
  if (!form) { return; }
  function value(name) {
    var checked = form.querySelector('[name="' + name + '"]:checked');
    if (checked) { return checked.value; }
    var field = form.querySelector('select[name="' + name + '"]');
    return field ? field.value : null;
  }
  function toggle(attr, current) {
    if (current === null) { return; }
    form.querySelectorAll("[" + attr + "]").forEach(function (el) {
      el.hidden = el.getAttribute(attr).split(" ").indexOf(current) < 0;
    });
  }
  function update() {
    toggle("data-kind-only", value("kind") || form.dataset.kind || null);
    toggle("data-sharing-only", value("sharing_type"));
    toggle("data-scope-only", value("scope"));
    var publish = form.querySelector("#publish-button");
    var dept = value("owner_department");
    if (publish && dept !== null) {
      var allowed = (form.dataset.publishable || "").split(" ").indexOf(dept) >= 0;
      publish.disabled = !allowed;
      publish.title = allowed ? "" : script.dataset.publishHint;
    }
  }
  form.addEventListener("change", update);
  update();
})();
