/* The catalog list: its filter form applies on change through htmx (hx-* attributes in the page).
   Keep the pushed address short: leave out the filters that are empty. */
document.addEventListener("htmx:configRequest", function (event) {
  var form = document.getElementById("filters");
  if (!form || (event.detail.elt !== form && event.detail.elt.form !== form)) {
    return;
  }
  var data = event.detail.formData, empty = [];
  data.forEach(function (value, key) { if (value === "") { empty.push(key); } });
  empty.forEach(function (key) { data.delete(key); });
});
