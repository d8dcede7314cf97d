// Follows a running import on its page: polls the batch's status URL, shows the rows read
// so far, and reloads the page for the report once the import has finished. Without this
// script the page refreshes itself (a <meta> refresh inside <noscript>).
(function () {
  "use strict";
  const section = document.querySelector("[data-status-url]");
  if (!section || !window.fetch) return;
  const url = section.dataset.statusUrl;
  const rowsRead = section.querySelector("[data-rows-read]");
  const label = section.querySelector("[data-status-label]");
  const quick = 1000;
  let wait = quick;

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then((response) => {
        if (!response.ok) throw new Error(`status ${response.status}`);
        return response.json();
      })
      .then((batch) => {
        if (batch.finished) {
          window.location.reload();
          return;
        }
        rowsRead.textContent = batch.rows_read.toLocaleString("en-GB");
        label.textContent = batch.status_label;
        wait = quick;
        window.setTimeout(poll, wait);
      })
      .catch(() => {
        // A restarting server or a dropped connection: try again, less often.
        wait = Math.min(wait * 2, 30000);
        window.setTimeout(poll, wait);
      });
  }

  window.setTimeout(poll, wait);
})();
