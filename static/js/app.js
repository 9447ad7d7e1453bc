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
    // Content and messages come from users: never let TeX ask for links, classes, ids, styles or HTML
    // (\href, \url, \htmlClass, \htmlId, \htmlStyle, \htmlData all render as plain error text).
    trust: false,
    // Nor for boxes, rules or spaces of any size: \rule{2000em}{2000em} drew a 41,000 px square over a teacher's
    // transcript. Sizes beyond this many ems are cut to it.
    maxSize: 10,
    // A macro that expands itself (\def\a{\a\a}) stops here instead of hanging the tab.
    maxExpand: 200,
    // Students write math as they would on paper (×, ², unicode letters): show it rather than warn about
    // LaTeX compatibility; anything KaTeX cannot parse is shown as red source text (throwOnError: false).
    strict: "ignore",
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

  // The server refuses text it cannot store (NUL, half of a surrogate pair: a pasted or cut emoji): send what the
  // student sees instead.
  function storable(text) {
    var wellFormed = typeof text.toWellFormed === "function" ? text.toWellFormed() : replaceLoneSurrogates(text);
    return wellFormed.replace(/\u0000/g, "");
  }

  // A plain loop, not a regular expression: the lookbehind one would need is a syntax error in the older browsers
  // (Safari before 16.4) that lack toWellFormed, and would stop this whole script there.
  function replaceLoneSurrogates(text) {
    var out = "";
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff) {
        var next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
        if (next >= 0xdc00 && next <= 0xdfff) {
          out += text.charAt(i) + text.charAt(i + 1);
          i++;
        } else {
          out += "\uFFFD";
        }
      } else if (code >= 0xdc00 && code <= 0xdfff) {
        out += "\uFFFD";
      } else {
        out += text.charAt(i);
      }
    }
    return out;
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

  // -- the session socket --------------------------------------------------------------------------------------
  //
  // Nothing a student sends may be lost, and no turn may be missed, whatever happens to the connection:
  // 1. Every message carries a client id and stays in the outbox until the server answers that id: with the stored
  //    turn (which carries the id: the acknowledgement) or with a notice that refuses it. The server stores a
  //    resent id once and answers it once.
  // 2. On every (re)connect the page asks for the turns after the last one it has without a gap, then resends the
  //    whole outbox.
  // 3. Turns carry their sequence number: a turn that arrives past a gap makes the page ask for what it lacks.
  // 4. A message left unacknowledged while nothing comes back means the connection is dead without the browser
  //    knowing: the page reconnects. A reply that stays silent too long makes the page ask for turns again.

  var ACK_WAIT_MS = 10000;
  var REPLY_WAIT_MS = 20000;
  var CHECK_EVERY_MS = 5000;
  var FINAL_CLOSES = { 4400: true, 4401: true, 4403: true };
  var HTMX_RETRIES = { 1006: true, 1011: true, 1012: true, 1013: true }; // htmx's ws extension reconnects these

  var connection = {
    wrapper: null,    // htmx's socket wrapper: the same object across reconnects
    open: null,       // the WebSocket now open, or null
    retired: null,    // a socket this page closed on purpose, whose close event means nothing
    lastFrameAt: 0,
    retries: 0,
    retryTimer: null,
  };
  var outbox = [];        // {id, frame, sentAt}, in the order the student sent them
  var pendingId = null;   // the message typed in the box, cleared from the box once acknowledged
  var replyDueAfter = 0;  // the sequence number of our last acknowledged turn until a tutor turn follows it
  var gapAskedAt = { seq: -1, at: 0 };

  function transcript() { return document.getElementById("transcript"); }

  function seqOf(el) { return parseInt(el.getAttribute("data-seq"), 10) || 0; }

  function turnsInTranscript() {
    var list = transcript();
    if (!list) return [];
    return Array.prototype.filter.call(list.children, function (el) { return el.hasAttribute("data-seq"); });
  }

  // The highest n such that turns 1..n are all on the page.
  function contiguousSeq() {
    var have = {};
    turnsInTranscript().forEach(function (el) { have[seqOf(el)] = true; });
    var n = 0;
    while (have[n + 1]) n += 1;
    return n;
  }

  function isOpen() {
    return connection.open !== null && connection.open.readyState === WebSocket.OPEN;
  }

  function sendRaw(frame) {
    if (connection.wrapper && isOpen()) connection.wrapper.send(frame);
  }

  function askForTurnsAfter(seq) {
    sendRaw(JSON.stringify({ type: "sync", after: seq }));
  }

  function showConnectionLost(lost) {
    var status = document.getElementById("connection-status");
    if (status) status.hidden = !lost;
  }

  function showFinalNotice(text) {
    var notices = document.getElementById("notices");
    if (notices) notices.textContent = text;
  }

  function findOutbox(id) {
    for (var i = 0; i < outbox.length; i += 1) if (outbox[i].id === id) return outbox[i];
    return null;
  }

  function dropFromOutbox(id) {
    outbox = outbox.filter(function (entry) { return entry.id !== id; });
  }

  function reconnectSoon() {
    if (connection.retryTimer || !connection.wrapper) return;
    var delay = Math.min(30000, 1000 * Math.pow(2, connection.retries)) * (0.5 + Math.random() / 2);
    connection.retries += 1;
    connection.retryTimer = setTimeout(function () {
      connection.retryTimer = null;
      if (isOpen()) return;
      connection.wrapper.reconnect();
    }, delay);
  }

  function reconnectNow() {
    // A socket that looks open but answers nothing: replace it; its close event, when it comes, is expected.
    connection.retired = connection.open;
    connection.open = null;
    showConnectionLost(true);
    connection.wrapper.reconnect();
  }

  // Each send carries a client id so that a resent message is stored once. The page's CSRF header is for HTTP
  // requests and stays out of socket messages.
  document.addEventListener("htmx:wsConfigSend", function (event) {
    var params = event.detail.parameters;
    var fromBox = event.target && event.target.id === "message-form";
    if (typeof params.message === "string") params.message = storable(params.message);
    // The same text sent again before its acknowledgement (a second press, a press while offline) is the same
    // message, not a new one.
    var previous = fromBox && pendingId ? findOutbox(pendingId) : null;
    var id = previous && previous.message === params.message ? pendingId : newClientId();
    params.client_id = id;
    event.detail.headers = null;
    if (fromBox) pendingId = id;
    if (previous && previous.id === id) {
      previous.sentAt = Date.now();
    } else {
      outbox.push({ id: id, frame: JSON.stringify(params), message: params.message, sentAt: Date.now() });
    }
  });

  document.addEventListener("htmx:wsOpen", function (event) {
    if (connection.retryTimer) { clearTimeout(connection.retryTimer); connection.retryTimer = null; }
    connection.wrapper = event.detail.socketWrapper;
    connection.open = event.detail.event.target;
    connection.retries = 0;
    connection.lastFrameAt = Date.now();
    showConnectionLost(false);
    // What htmx queued while the socket was down is in the outbox too: the outbox alone resends, once, in order.
    connection.wrapper.queue.splice(0);
    askForTurnsAfter(contiguousSeq());
    var now = Date.now();
    outbox.forEach(function (entry) { entry.sentAt = now; sendRaw(entry.frame); });
  });

  document.addEventListener("htmx:wsClose", function (event) {
    var closed = event.detail.event;
    if (closed.target === connection.retired) return;
    if (connection.open !== null && closed.target !== connection.open) return;
    connection.open = null;
    if (FINAL_CLOSES[closed.code]) {
      // A socket the server closed for good (signed out, not allowed, a frame it could not read) would fail again.
      showConnectionLost(false);
      showFinalNotice({
        4400: "This page sent something the server could not read. Reload the page to go on.",
        4401: "You have been signed out. Log in again, then reload this page; nothing you sent was lost.",
        4403: "This session is no longer open to you. Go back to your dashboard.",
      }[closed.code]);
      return;
    }
    if (!document.body.contains(event.target)) return; // the page moved on (htmx swapped the session out)
    showConnectionLost(true);
    // A proxy or a server that restarts, or a browser that drops the socket, may close with a code htmx does not
    // retry (1000, 1001, 1005): reconnect here.
    if (!HTMX_RETRIES[closed.code]) reconnectSoon();
  });

  document.addEventListener("htmx:wsAfterSend", function () {
    var notices = document.getElementById("notices");
    if (notices) notices.textContent = "";
  });

  // A turn can arrive twice (the page rendered it and the socket also delivered it, or an acknowledgement and the
  // session's broadcast): keep the first. A turn fetched to fill a gap arrives after later ones: put it in its place.
  function tidyTranscript() {
    var list = transcript();
    if (!list) return;
    var seen = {};
    turnsInTranscript().forEach(function (el) {
      var seq = seqOf(el);
      if (seen[seq]) el.remove(); else seen[seq] = true;
    });
    var turns = turnsInTranscript();
    var sorted = turns.slice().sort(function (a, b) { return seqOf(a) - seqOf(b); });
    var inOrder = sorted.every(function (el, i) { return el === turns[i]; });
    if (!inOrder) {
      list.insertBefore(sorted[0], turns[0]);
      for (var i = 1; i < sorted.length; i += 1) sorted[i - 1].after(sorted[i]);
    }
    // A "Thinking…" bubble whose reply is already on the page (its final frame was lost) goes.
    var lastTutor = 0;
    turnsInTranscript().forEach(function (el) {
      if (el.classList.contains("turn-tutor")) lastTutor = Math.max(lastTutor, seqOf(el));
    });
    list.querySelectorAll(".turn.pending").forEach(function (bubble) {
      var asked = parseInt(bubble.id.replace("pending-", ""), 10);
      if (asked > 0 && lastTutor > asked) bubble.remove();
    });
    if (replyDueAfter && lastTutor > replyDueAfter) replyDueAfter = 0;
  }

  // Settle the outbox: acknowledged messages (their turn is on the page) and refused ones (the notice names them).
  function settleOutbox() {
    var stored = {};
    turnsInTranscript().forEach(function (el) {
      var id = el.getAttribute("data-client-id");
      if (id) stored[id] = seqOf(el);
    });
    outbox.filter(function (entry) { return stored[entry.id]; }).forEach(function (entry) {
      replyDueAfter = Math.max(replyDueAfter, stored[entry.id]);
      dropFromOutbox(entry.id);
    });
    var notices = document.getElementById("notices");
    var refused = notices && notices.getAttribute("data-refused");
    if (refused) {
      notices.removeAttribute("data-refused");
      dropFromOutbox(refused);
      if (refused === pendingId) pendingId = null; // the text stays in the box to send again
    }
    if (pendingId && stored[pendingId]) {
      pendingId = null;
      var input = document.getElementById("message-input");
      var preview = document.getElementById("math-preview");
      if (input) { input.value = ""; input.focus(); }
      if (preview) preview.textContent = "";
    }
  }

  function askForAnyGap() {
    var have = contiguousSeq();
    var highest = turnsInTranscript().reduce(function (max, el) { return Math.max(max, seqOf(el)); }, 0);
    if (highest <= have) return;
    // One request per gap; the same gap again only after a while (the answer itself may have been lost).
    var now = Date.now();
    if (gapAskedAt.seq === have && now - gapAskedAt.at < ACK_WAIT_MS) return;
    gapAskedAt = { seq: have, at: now };
    askForTurnsAfter(have);
  }

  document.addEventListener("htmx:wsAfterMessage", function () {
    connection.lastFrameAt = Date.now();
    tidyTranscript();
    settleOutbox();
    askForAnyGap();
    var list = transcript();
    renderMath(list);
    if (list && list.lastElementChild) list.lastElementChild.scrollIntoView({ block: "nearest" });
  });
  document.addEventListener("htmx:afterSwap", function (event) { renderMath(event.target); });

  setInterval(function () {
    if (!isOpen()) return;
    var now = Date.now();
    var late = outbox.filter(function (entry) { return now - entry.sentAt > ACK_WAIT_MS; });
    var firstLate = late.reduce(function (min, entry) { return Math.min(min, entry.sentAt); }, Infinity);
    if (late.length && connection.lastFrameAt < firstLate) {
      reconnectNow(); // nothing at all came back since it was sent
      return;
    }
    late.forEach(function (entry) { entry.sentAt = now; sendRaw(entry.frame); });
    var waiting = replyDueAfter || (transcript() && transcript().querySelector(".turn.pending"));
    if (waiting && now - connection.lastFrameAt > REPLY_WAIT_MS) {
      connection.lastFrameAt = now;
      askForTurnsAfter(contiguousSeq());
    }
  }, CHECK_EVERY_MS);
})();
