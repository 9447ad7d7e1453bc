// Page behaviour that the server-rendered HTML cannot express on its own. No inline scripts anywhere:
// the Content-Security-Policy only allows files served from this origin.
(function () {
  "use strict";

  var MATH_OPTIONS = {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
    ],
    // Content and messages come from users: never let TeX ask for links, classes or HTML.
    trust: false,
    throwOnError: false,
  };

  function renderMath(root) {
    if (typeof window.renderMathInElement !== "function" || !root) return;
    root.querySelectorAll(".math").forEach(function (el) { window.renderMathInElement(el, MATH_OPTIONS); });
    if (root.classList && root.classList.contains("math")) window.renderMathInElement(root, MATH_OPTIONS);
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document.body);

    var input = document.getElementById("message-input");
    var form = document.getElementById("message-form");
    var preview = document.getElementById("math-preview");
    if (input && form) {
      // Enter sends, Shift+Enter adds a line: the usual chat convention, and keyboard-only users need no mouse.
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey) {
          event.preventDefault();
          if (typeof form.requestSubmit === "function") form.requestSubmit(); else form.submit();
        }
      });
      if (preview) {
        input.addEventListener("input", function () {
          preview.textContent = input.value.indexOf("$") >= 0 ? input.value : "";
          if (preview.textContent && typeof window.renderMathInElement === "function") {
            window.renderMathInElement(preview, MATH_OPTIONS);
          }
        });
      }
    }
  });

  function lastSeq() {
    var seqs = Array.prototype.map.call(document.querySelectorAll("#transcript [data-seq]"), function (el) {
      return parseInt(el.getAttribute("data-seq"), 10) || 0;
    });
    return seqs.length ? Math.max.apply(null, seqs) : 0;
  }

  // Each send carries a fresh id so a resent message (double click, a send queued across a reconnect) is stored
  // once. The page's CSRF header is for HTTP requests and stays out of socket messages.
  // What the student sent and is still waiting to see stored: the box is cleared only then, so a message the server
  // refuses (too fast, too long) stays in the box to send again.
  var pendingId = null;
  document.addEventListener("htmx:wsConfigSend", function (event) {
    var id = newClientId();
    event.detail.parameters.client_id = id;
    event.detail.headers = null;
    if (event.target && event.target.id === "message-form") pendingId = id;
  });
  // On every (re)connect, ask for the turns this page has not seen: replies finished while the socket was down.
  document.addEventListener("htmx:wsOpen", function (event) {
    event.detail.socketWrapper.send(JSON.stringify({ type: "sync", after: lastSeq() }));
  });
  // A socket the server closed for good (signed out, not allowed) would retry forever: say what to do instead.
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event && event.detail.event.code;
    if (code !== 4401 && code !== 4403) return;
    var notices = document.getElementById("notices");
    if (notices) {
      notices.textContent = code === 4401
        ? "You have been signed out. Log in again, then reload this page; nothing you sent was lost."
        : "This session is no longer open to you. Go back to your dashboard.";
    }
  });
  document.addEventListener("htmx:wsAfterSend", function () {
    var notices = document.getElementById("notices");
    if (notices) notices.textContent = "";
  });
  function clearIfStored() {
    if (!pendingId) return;
    var stored = Array.prototype.some.call(document.querySelectorAll("#transcript [data-client-id]"), function (el) {
      return el.getAttribute("data-client-id") === pendingId;
    });
    if (!stored) return;
    pendingId = null;
    var input = document.getElementById("message-input");
    var preview = document.getElementById("math-preview");
    if (input) { input.value = ""; input.focus(); }
    if (preview) preview.textContent = "";
  }
  document.addEventListener("htmx:wsAfterMessage", function () {
    // A turn can arrive twice (the page rendered it and the socket also delivered it): keep the first.
    var seen = {};
    document.querySelectorAll("#transcript [data-seq]").forEach(function (el) {
      var seq = el.getAttribute("data-seq");
      if (seen[seq]) el.remove(); else seen[seq] = true;
    });
    clearIfStored();
    var transcript = document.getElementById("transcript");
    renderMath(transcript);
    if (transcript) transcript.lastElementChild && transcript.lastElementChild.scrollIntoView({ block: "nearest" });
  });
  document.addEventListener("htmx:afterSwap", function (event) { renderMath(event.target); });
})();
