// A table or table container that scrolls sideways (on a phone) takes the keyboard focus, so it can be
// scrolled with the arrow keys; one that fits does not, so it adds no stop to the tab order.
(function () {
  "use strict";

  function mark() {
    document.querySelectorAll("table.data, .table-scroll, .table-wrap").forEach(function (element) {
      if (element.scrollWidth > element.clientWidth + 1) {
        element.setAttribute("tabindex", "0");
      } else if (element.getAttribute("tabindex") === "0") {
        element.removeAttribute("tabindex");
      }
    });
  }

  mark();
  window.addEventListener("resize", mark);
  document.addEventListener("toggle", mark, true);
})();
