// Autosave of a section page, built so that typed text is never lost.
//
// - A measure's fields are POSTed to its autosave URL while typing (debounced), on blur and on
//   every change; one request at a time per measure, so versions arrive in order.
// - Until the server confirms a save, the measure's fields are kept in localStorage under
//   "<draft key>:<measure ref>:<version>" (assessment, measure, the version typed against). A
//   reload offers a kept draft back beside its measure (restore and save, or discard).
// - Status and errors are shown beside the measure and announced in #autosave-status.
// - 401 (session expired), 403 (submitted / locked), 409 (a colleague's newer save) and network
//   errors are explained; the text stays in the fields and in the browser.
// - Leaving the page while something is unsaved asks first.
// Every message comes translated from the page (json_script "autosave-messages").
// The section's "save" button keeps working without JavaScript; files are only sent with it.
(function () {
  "use strict";
  var form = document.querySelector("form.section-form");
  var status = document.getElementById("autosave-status");
  var messagesNode = document.getElementById("autosave-messages");
  if (!form || !status || !messagesNode || !window.fetch) {
    return;
  }
  var text = JSON.parse(messagesNode.textContent);
  var draftKey = form.dataset.draftKey;
  var DEBOUNCE_MS = 1200;
  var state = new Map(); // measure element → {dirty, timer, chain, blocked}
  var storage = null;
  try {
    storage = window.localStorage;
    storage.setItem(draftKey + ":probe", "1");
    storage.removeItem(draftKey + ":probe");
  } catch (error) {
    storage = null; // private mode or disabled: autosave still works, drafts are not kept
  }

  function stateOf(measure) {
    if (!state.has(measure)) {
      state.set(measure, { dirty: false, timer: null, chain: Promise.resolve(), blocked: "" });
    }
    return state.get(measure);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]); // fresh after logging in again in another tab
    }
    return form.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function prefixOf(measure) {
    return measure.dataset.prefix + "-";
  }

  function fieldsOf(measure) {
    var prefix = prefixOf(measure);
    return Array.prototype.filter.call(
      measure.querySelectorAll("input, select, textarea"),
      function (field) {
        return field.name && field.name.indexOf(prefix) === 0 && field.type !== "file";
      }
    );
  }

  function versionField(measure) {
    return measure.querySelector("input[name='" + prefixOf(measure) + "version']");
  }

  function values(measure) {
    var result = {};
    fieldsOf(measure).forEach(function (field) {
      if (field.type === "hidden") {
        return;
      }
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) {
          result[field.name] = field.value;
        } else if (!(field.name in result)) {
          result[field.name] = "";
        }
        return;
      }
      result[field.name] = field.value;
    });
    return result;
  }

  function keyOf(measure, version) {
    return draftKey + ":" + measure.dataset.ref + ":" + version;
  }

  function forgetDrafts(measure) {
    if (!storage) {
      return;
    }
    var start = draftKey + ":" + measure.dataset.ref + ":";
    for (var i = storage.length - 1; i >= 0; i -= 1) {
      var key = storage.key(i);
      if (key && key.indexOf(start) === 0) {
        storage.removeItem(key);
      }
    }
  }

  function keepDraft(measure) {
    if (!storage) {
      return;
    }
    forgetDrafts(measure);
    try {
      storage.setItem(
        keyOf(measure, versionField(measure).value),
        JSON.stringify({ values: values(measure), at: new Date().toISOString() })
      );
    } catch (error) {
      // storage full: the text is still in the field and the leave-page warning stays on
    }
  }

  function say(measure, message, kind, extra) {
    var line = measure.querySelector(".measure-status");
    if (line) {
      line.textContent = message;
      line.className = "measure-status small mb-2" + (kind === "error" ? " text-danger fw-bold" : "");
      if (extra) {
        line.appendChild(document.createTextNode(" "));
        line.appendChild(extra);
      }
    }
    if (kind === "progress") {
      return; // shown beside the measure only; the live region announces results
    }
    status.textContent = measure.dataset.ref + ": " + message;
    status.classList.toggle("text-danger", kind === "error");
  }

  function loginLink() {
    var link = document.createElement("a");
    link.href = text.login_url;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = text.login_link;
    return link;
  }

  function showFieldErrors(measure, errors) {
    measure.querySelectorAll(".autosave-error").forEach(function (node) {
      var field = document.getElementById(node.dataset.for);
      if (field) {
        field.classList.remove("is-invalid");
        field.removeAttribute("aria-invalid");
        var described = (field.getAttribute("aria-describedby") || "")
          .split(" ")
          .filter(function (id) { return id && id !== node.id; });
        if (described.length) {
          field.setAttribute("aria-describedby", described.join(" "));
        } else {
          field.removeAttribute("aria-describedby");
        }
      }
      node.remove();
    });
    Object.keys(errors || {}).forEach(function (name) {
      var field = document.getElementById("id_" + prefixOf(measure) + name);
      if (!field) {
        return;
      }
      var anchor = field.type === "radio" ? field.closest("fieldset, .level-choice") || field : field;
      var node = document.createElement("div");
      node.className = "invalid-feedback d-block autosave-error";
      node.id = field.id + "-autosave-error";
      node.dataset.for = field.id;
      node.textContent = errors[name].join(" ");
      anchor.insertAdjacentElement("afterend", node);
      field.classList.add("is-invalid");
      field.setAttribute("aria-invalid", "true");
      var described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", (described ? described + " " : "") + node.id);
    });
  }

  function makeReadOnly() {
    form.querySelectorAll("textarea, input[type=text], input[type=url], input[type=number]").forEach(
      function (field) { field.readOnly = true; }
    );
    form.querySelectorAll("input[type=radio], select, input[type=file], button").forEach(
      function (field) { field.disabled = true; }
    );
  }

  function save(measure) {
    var current = stateOf(measure);
    current.dirty = false; // typing during the request makes it dirty again
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken());
    fieldsOf(measure).forEach(function (field) {
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) {
        return;
      }
      data.append(field.name, field.value);
    });
    say(measure, text.saving, "progress");
    return fetch(measure.dataset.autosaveUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", Accept: "application/json" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        var read = type.indexOf("application/json") === 0 ? response.json() : Promise.resolve({});
        return read.then(function (body) {
          handle(measure, response.status, body);
        });
      })
      .catch(function () {
        current.dirty = true;
        current.blocked = "offline";
        say(measure, text.offline, "error");
      });
  }

  function handle(measure, code, body) {
    var current = stateOf(measure);
    if (code === 200 && body.ok) {
      versionField(measure).value = body.version;
      current.blocked = "";
      showFieldErrors(measure, {});
      if (current.dirty) {
        keepDraft(measure); // typed while saving: kept against the new version
      } else {
        forgetDrafts(measure);
      }
      say(measure, body.message, "ok");
      return;
    }
    current.dirty = true;
    if (code === 400) {
      current.blocked = "invalid";
      showFieldErrors(measure, body.errors);
      say(measure, body.message || text.invalid, "error");
    } else if (code === 401 || (code === 403 && !body.reason)) {
      current.blocked = "login"; // 403 without JSON: the CSRF token changed with a new login
      say(measure, text.login, "error", loginLink());
    } else if (code === 403) {
      current.blocked = "locked";
      say(measure, text.locked, "error");
      makeReadOnly();
    } else if (code === 409) {
      current.blocked = "conflict";
      say(measure, body.message || text.conflict, "error");
    } else {
      current.blocked = "offline";
      say(measure, text.offline, "error");
    }
  }

  function queue(measure) {
    var current = stateOf(measure);
    window.clearTimeout(current.timer);
    current.timer = null;
    if (current.blocked === "locked" || current.blocked === "conflict") {
      return current.chain; // saving again cannot succeed; the text stays kept
    }
    current.chain = current.chain.then(function () {
      return current.dirty ? save(measure) : null;
    });
    return current.chain;
  }

  function measureOf(target) {
    return target.closest && target.closest("section.measure[data-autosave-url]");
  }

  function touched(measure) {
    var current = stateOf(measure);
    current.dirty = true;
    keepDraft(measure);
  }

  form.addEventListener("input", function (event) {
    var measure = measureOf(event.target);
    if (!measure || event.target.type === "file") {
      return;
    }
    touched(measure);
    if (event.target.tagName === "TEXTAREA" || event.target.type === "text" ||
        event.target.type === "url" || event.target.type === "number") {
      var current = stateOf(measure);
      window.clearTimeout(current.timer);
      current.timer = window.setTimeout(function () { queue(measure); }, DEBOUNCE_MS);
    }
  });

  form.addEventListener("change", function (event) {
    var measure = measureOf(event.target);
    if (!measure || event.target.type === "file") {
      return;
    }
    touched(measure);
    queue(measure);
  });

  form.addEventListener("focusout", function (event) {
    var measure = measureOf(event.target);
    if (measure && stateOf(measure).dirty && stateOf(measure).timer) {
      queue(measure);
    }
  });

  form.addEventListener("submit", function () {
    unsavedWarning = false; // the whole section goes to the server; its answer tells the rest
  });

  var unsavedWarning = true;
  function anyUnsaved() {
    var found = false;
    state.forEach(function (current) {
      if (current.dirty) {
        found = true;
      }
    });
    return found;
  }

  window.addEventListener("beforeunload", function (event) {
    if (unsavedWarning && anyUnsaved()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  function retryBlocked() {
    state.forEach(function (current, measure) {
      if (current.dirty && (current.blocked === "login" || current.blocked === "offline")) {
        queue(measure);
      }
    });
  }
  window.addEventListener("focus", retryBlocked);
  window.addEventListener("online", retryBlocked);

  // --- Drafts left by an earlier page (reload, closed tab, expired session) -------------------

  function same(a, b) {
    return Object.keys(a).every(function (name) {
      return (b[name] || "") === (a[name] || "");
    });
  }

  function apply(measure, kept) {
    fieldsOf(measure).forEach(function (field) {
      if (!(field.name in kept)) {
        return;
      }
      if (field.type === "radio" || field.type === "checkbox") {
        field.checked = field.value === kept[field.name];
      } else if (field.type !== "hidden") {
        field.value = kept[field.name];
      }
    });
  }

  function offer(measure, key, draft, version) {
    var place = measure.querySelector(".autosave-drafts-here");
    var box = document.createElement("div");
    box.className = "alert alert-warning autosave-draft";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", text.draft_label + " " + measure.dataset.ref);
    var when = new Date(draft.at);
    var line = document.createElement("p");
    line.className = "mb-2";
    line.textContent = text.draft_found.replace(
      "%(time)s",
      isNaN(when) ? "" : when.toLocaleString()
    );
    box.appendChild(line);
    if (String(version) !== versionField(measure).value) {
      var newer = document.createElement("p");
      newer.className = "mb-2 fw-bold";
      newer.textContent = text.draft_newer;
      box.appendChild(newer);
    }
    var list = document.createElement("dl");
    list.className = "small mb-2";
    Object.keys(draft.values).forEach(function (name) {
      var field = measure.querySelector("[name='" + name + "']");
      if (!field || field.tagName !== "TEXTAREA" || !draft.values[name]) {
        return;
      }
      var label = document.querySelector("label[for='" + field.id + "']");
      var dt = document.createElement("dt");
      dt.textContent = label ? label.textContent.replace("*", "").trim() : name;
      var dd = document.createElement("dd");
      dd.className = "draft-text";
      dd.textContent = draft.values[name];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    box.appendChild(list);
    var restore = document.createElement("button");
    restore.type = "button";
    restore.className = "btn btn-sm btn-warning me-2";
    restore.textContent = text.restore + " (" + measure.dataset.ref + ")";
    restore.addEventListener("click", function () {
      apply(measure, draft.values);
      box.remove();
      touched(measure);
      queue(measure);
    });
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-sm btn-outline-dark";
    discard.textContent = text.discard + " (" + measure.dataset.ref + ")";
    discard.addEventListener("click", function () {
      storage.removeItem(key);
      box.remove();
      say(measure, text.discarded, "info");
    });
    box.appendChild(restore);
    box.appendChild(discard);
    place.appendChild(box);
  }

  function offerKeptDrafts() {
    if (!storage) {
      return;
    }
    var offered = 0;
    form.querySelectorAll("section.measure[data-autosave-url]").forEach(function (measure) {
      var start = draftKey + ":" + measure.dataset.ref + ":";
      for (var i = storage.length - 1; i >= 0; i -= 1) {
        var key = storage.key(i);
        if (!key || key.indexOf(start) !== 0) {
          continue;
        }
        var draft;
        try {
          draft = JSON.parse(storage.getItem(key));
        } catch (error) {
          storage.removeItem(key);
          continue;
        }
        if (!draft || !draft.values || same(draft.values, values(measure))) {
          storage.removeItem(key); // the page already holds it: the server has it
          continue;
        }
        offer(measure, key, draft, key.slice(start.length));
        offered += 1;
        break;
      }
    });
    if (offered) {
      var summary = document.getElementById("autosave-drafts");
      summary.textContent = text.drafts_summary;
      summary.hidden = false;
      status.textContent = text.drafts_summary;
    }
  }

  offerKeptDrafts();
})();
