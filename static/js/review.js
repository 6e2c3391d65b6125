// Review page: a comment on one measure is sent without reloading the page, so what the
// reviewer typed on other measures (and in the return / approve forms) stays where it is.
// Without JavaScript the forms post as usual and the page comes back at the measure.
// Messages come translated from the page (json_script "comment-messages").
(function () {
  "use strict";
  var live = document.getElementById("comment-status");
  var messagesNode = document.getElementById("comment-messages");
  if (!live || !messagesNode || !window.fetch) {
    return;
  }
  var text = JSON.parse(messagesNode.textContent);

  function csrfToken(form) {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : form.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function say(form, message, isError) {
    var line = form.querySelector(".comment-status");
    line.textContent = message;
    line.classList.toggle("text-danger", Boolean(isError));
    live.textContent = message;
  }

  function showErrors(form, errors) {
    form.querySelectorAll(".comment-error").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
      field.classList.remove("is-invalid");
    });
    Object.keys(errors || {}).forEach(function (name) {
      var field = form.querySelector("[name='" + name + "']");
      if (!field || field.type === "hidden") {
        return;
      }
      var node = document.createElement("div");
      node.className = "invalid-feedback d-block comment-error";
      node.id = field.id + "-comment-error";
      node.textContent = errors[name].join(" ");
      field.insertAdjacentElement("afterend", node);
      field.classList.add("is-invalid");
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", node.id);
    });
  }

  function send(form) {
    var data = new FormData(form);
    data.set("csrfmiddlewaretoken", csrfToken(form));
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    say(form, text.saving, false);
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) {
          say(form, text.login, true); // redirected to the login page: the session is gone
          return;
        }
        return response.json().then(function (body) {
          if (!body.ok) {
            showErrors(form, body.errors);
            say(form, body.message || text.failed, true);
            return;
          }
          showErrors(form, {});
          var list = document.getElementById(form.dataset.comments);
          list.insertAdjacentHTML("beforeend", body.html);
          var heading = document.getElementById(list.getAttribute("aria-labelledby"));
          if (heading) {
            heading.hidden = false;
          }
          form.querySelector("textarea").value = ""; // only this measure's comment was sent
          var box = form.querySelector("input[type=checkbox]");
          if (box) {
            box.checked = false;
          }
          say(form, body.message, false);
        });
      })
      .catch(function () {
        say(form, text.failed, true);
      })
      .then(function () {
        button.disabled = false;
      });
  }

  document.querySelectorAll("form.review-comment-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form);
    });
  });
})();
