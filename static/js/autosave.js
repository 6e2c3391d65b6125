// Autosave of a section page: when a measure's field changes, POST that measure's fields to its
// autosave URL and report the result in the aria-live region. The section's "save" button keeps
// working without JavaScript; file inputs are only sent with it.
(function () {
  "use strict";
  var form = document.querySelector("form.section-form");
  var status = document.getElementById("autosave-status");
  if (!form || !status || !window.fetch) {
    return;
  }
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var pending = new Map();

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("text-danger", Boolean(isError));
  }

  function save(measure) {
    var prefix = measure.dataset.prefix + "-";
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token);
    measure.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (!field.name || field.name.indexOf(prefix) !== 0 || field.type === "file") {
        return;
      }
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) {
        return;
      }
      data.append(field.name, field.value);
    });
    var versionField = measure.querySelector("input[name='" + prefix + "version']");
    return fetch(measure.dataset.autosaveUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (body.ok && versionField) {
            versionField.value = body.version;
          }
          say(body.message, !body.ok);
          measure.dataset.autosaved = body.ok ? "yes" : "no";
        });
      })
      .catch(function () {
        say(status.dataset.offline || "保存できませんでした。通信を確認して「この章を保存」を押してください。", true);
      });
  }

  form.addEventListener("change", function (event) {
    var measure = event.target.closest("section.measure[data-autosave-url]");
    if (!measure || event.target.type === "file") {
      return;
    }
    // One request at a time per measure, so versions arrive in order.
    var previous = pending.get(measure) || Promise.resolve();
    var next = previous.then(function () {
      return save(measure);
    });
    pending.set(measure, next);
  });
})();
