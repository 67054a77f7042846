// The data tab's "filter on a field" row becomes one query parameter: field=value or field__op=value.
document.querySelector(".sh-record-filters")?.addEventListener("submit", function () {
  const field = this.querySelector("[data-filter-field]");
  const op = this.querySelector("[data-filter-op]");
  const value = this.querySelector("[data-filter-value]");
  if (field && value && value.value.trim()) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = op.value === "eq" ? field.value : field.value + "__" + op.value;
    input.value = value.value.trim();
    this.appendChild(input);
  }
});
