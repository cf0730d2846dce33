(function () {
  "use strict";
  var form = document.getElementById("filters");
  var table = document.getElementById("findings-table");
  var shown = document.getElementById("shown");
  if (form && table) {
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var apply = function () {
      var category = form.elements.category.value;
      var severity = form.elements.severity.value;
      var rule = form.elements.rule.value;
      var file = form.elements.file.value.toLowerCase();
      var count = 0;
      rows.forEach(function (row) {
        var d = row.dataset;
        var match = (!category || d.category === category) &&
          (!severity || d.severity === severity) &&
          (!rule || d.rule === rule) &&
          (!file || d.file.toLowerCase().indexOf(file) !== -1);
        row.hidden = !match;
        if (match) { count += 1; }
      });
      shown.textContent = count + " of " + rows.length + " findings shown";
    };
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.hidden = false;
    apply();
  }
  document.body.setAttribute("data-script", "ready");
})();
