// Batch page: follow the job's progress without reloading. Every few seconds (slower the longer
// it runs, and for at most an hour) ask the page for its state as JSON and replace the state
// block; announce a change of status (not every tick) through the aria-live line. Without
// JavaScript the page has a link that shows the latest state.
(function () {
  "use strict";
  var state = document.getElementById("batch-state");
  var announce = document.getElementById("batch-announce");
  if (!state || !state.dataset.poll || !window.fetch) {
    return;
  }
  var url = state.dataset.poll;
  var delay = 2000;
  var deadline = Date.now() + 60 * 60 * 1000;
  var lastStatus = null;

  function poll() {
    if (Date.now() > deadline) {
      return;
    }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        state.innerHTML = data.html;
        if (lastStatus !== null && data.status !== lastStatus) {
          announce.textContent = data.announcement;
        }
        lastStatus = data.status;
        if (!data.finished) {
          delay = Math.min(delay * 1.5, 15000);
          window.setTimeout(poll, delay);
        } else {
          announce.textContent = data.announcement;
        }
      })
      .catch(function () {
        // Offline or logged out: keep the last state and the manual link; try again later.
        delay = Math.min(delay * 2, 60000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
})();
