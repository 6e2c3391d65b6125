// PDF progress page: ask the page's URL for the render's state as JSON every few seconds (slower
// the longer it runs, for at most 30 minutes), replace the state block, announce a change of
// status through the aria-live line, and when the PDF is ready start its download (the same URL
// then answers with the file). Without JavaScript a <noscript> meta refresh does the same.
(function () {
  "use strict";
  var state = document.getElementById("render-state");
  var announce = document.getElementById("render-announce");
  if (!state || !state.dataset.poll || !window.fetch) {
    return;
  }
  var url = state.dataset.url;
  var delay = 1000;
  var deadline = Date.now() + 30 * 60 * 1000;
  var lastStatus = state.dataset.status || null;

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
        if (data.status !== lastStatus) {
          announce.textContent = data.announcement;
        }
        lastStatus = data.status;
        if (data.ready) {
          window.location.assign(url);
        } else if (!data.failed) {
          delay = Math.min(delay * 1.5, 10000);
          window.setTimeout(poll, delay);
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
