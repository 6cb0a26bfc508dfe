// The enterprise list's filter form: the county choices follow the chosen city. No inline scripts (CSP).
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var city = form.querySelector("select[name=city]");
  var county = form.querySelector("select[name=county]");
  if (!city || !county) { return; }
  function sync() {
    var chosen = city.value;
    Array.prototype.forEach.call(county.querySelectorAll("optgroup"), function (group) {
      var match = !chosen || group.dataset.city === chosen;
      group.hidden = !match;
      group.disabled = !match;
    });
    var selected = county.options[county.selectedIndex];
    if (selected && selected.parentNode && selected.parentNode.disabled) { county.value = ""; }
  }
  city.addEventListener("change", sync);
  sync();
})();
