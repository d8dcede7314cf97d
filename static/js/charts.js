// Draws every chart of the page from the figure JSON beside it (built on the server by charts.py).
// Without JavaScript the tables stay open and are the charts' fallback; once a chart has drawn,
// its table folds away behind "Show as table". A bar or point with a report-list query in its
// customdata opens that list when selected (only where the reader may open records).
(function () {
  "use strict";

  var config = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };

  function openReports(container, event) {
    var point = event.points && event.points[0];
    if (point && point.customdata) {
      window.location.href = container.dataset.drill + "?" + point.customdata;
    }
  }

  // On a phone the legend wraps onto more lines and dates need fewer ticks: give the legend room below the
  // plot instead of a scroll bar, and let no two date labels overlap.
  function fitNarrow(container, layout) {
    if (container.clientWidth >= 500) {
      return layout;
    }
    layout.legend = Object.assign({}, layout.legend, { font: { size: 11 } });
    if (!layout.legend.yanchor || layout.legend.y < 0) {
      layout.legend.y = -0.35;
      layout.height = (layout.height || 450) + 140;
      layout.margin = Object.assign({}, layout.margin, { b: 160 });
    }
    if (layout.xaxis && layout.xaxis.type === "date") {
      layout.xaxis = Object.assign({}, layout.xaxis, { nticks: 4 });
    }
    return layout;
  }

  function draw(container) {
    var figure = JSON.parse(document.getElementById(container.dataset.figure).textContent);
    var layout = fitNarrow(container, figure.layout);
    return window.Plotly.newPlot(container, figure.data, layout, config).then(function () {
      var table = document.getElementById(container.dataset.table);
      if (table) {
        table.open = false;
      }
      if (container.dataset.drill) {
        container.classList.add("drillable");
        container.on("plotly_click", function (event) { openReports(container, event); });
      }
      container.dataset.drawn = "true";
    });
  }

  document.querySelectorAll(".chart-plot[data-figure]").forEach(draw);
})();
