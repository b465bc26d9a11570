/* switchboard website widget loader.
 * Draws the chat bubble in a shadow root (host page CSS cannot reach it,
 * ours does not leak) and the chat window: an iframe served by the
 * switchboard server, created hidden at once so unread counts work while
 * it is closed. Talks to the frame by postMessage. Never throws into the
 * host page. See widget/README.md. */
(function (w, d) {
  "use strict";
  if (w.switchboardSDK) return; // loaded twice: the first copy stays

  var script = d.currentScript;
  var CSS =
    ":host{all:initial}" +
    ".r{font:16px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;--c:#1f93ff;--o:#1b1f24}" +
    ".b{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:60px;height:60px;padding:0;" +
    "border:0;border-radius:50%;background:var(--c);color:var(--o);cursor:pointer;" +
    "box-shadow:0 4px 16px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;" +
    "transition:transform .15s}" +
    ".b:hover{transform:scale(1.06)}" +
    ".b:focus-visible{outline:3px solid #111;outline-offset:3px;box-shadow:0 0 0 3px #fff}" +
    ".b svg{width:28px;height:28px;fill:currentColor}" +
    ".x,.o .c{display:none}.o .x{display:block}" +
    ".n{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;" +
    "border-radius:11px;background:#c4320a;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}" +
    ".n[hidden]{display:none}" +
    ".w{position:fixed;bottom:92px;right:20px;z-index:2147483000;width:380px;height:600px;" +
    "max-height:calc(100% - 112px);max-width:calc(100% - 40px);border-radius:14px;overflow:hidden;background:#fff;" +
    "box-shadow:0 10px 40px rgba(0,0,0,.25);opacity:0;transform:translateY(16px);visibility:hidden;" +
    "transition:opacity .2s,transform .2s,visibility 0s .2s}" +
    ".o .w{opacity:1;transform:none;visibility:visible;transition:opacity .2s,transform .2s}" +
    ".l .b,.l .w{right:auto;left:20px}" +
    "iframe{display:block;width:100%;height:100%;border:0}" +
    ".m{display:none;position:absolute;inset:0;align-items:center;justify-content:center;padding:24px;" +
    "background:#fff;color:#1b1f24;text-align:center}.f .m{display:flex}" +
    "@media (max-width:480px){.w,.l .w{inset:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0}" +
    ".o .b{display:none}}" +
    "@media (prefers-reduced-motion:reduce){.b,.w,.o .w{transition:none}}";
  var CHAT = '<svg class="c" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.9 2 11.7c0 2.5 1.2 4.7 3.2 6.3L4.5 22l4.3-2.3c1 .3 2.1.4 3.2.4 5.5 0 10-3.9 10-8.7S17.5 3 12 3z"/></svg>';
  var CLOSE = '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 1 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z"/></svg>';
  var WORDS = {
    en: ["Open chat", "Close chat", "Chat", " unread", "This chat isn't available right now."],
    pt: ["Abrir chat", "Fechar chat", "Chat", " não lidas", "Este chat não está disponível no momento."]
  };

  var started = false, ready = false, open = false, unread = 0;
  var queue = [], words = WORDS.en;
  var origin, root, bubble, badge, frame, note, host;

  function safe(f) {
    return function () {
      try { return f.apply(null, arguments); } catch (e) { /* never into the host page */ }
    };
  }

  function fire(name, detail) {
    try { w.dispatchEvent(new CustomEvent("switchboard:" + name, { detail: detail })); } catch (e) {}
  }

  // A plain copy: functions or DOM nodes in what the page passes must not
  // make postMessage throw.
  function plain(v) {
    try { return JSON.parse(JSON.stringify(v == null ? {} : v)) || {}; } catch (e) { return {}; }
  }

  function post(msg) {
    msg.source = "switchboard";
    if (!ready) return queue.push(msg);
    try { frame.contentWindow.postMessage(msg, origin); } catch (e) {}
  }

  function pickWords(locale) {
    words = /^pt/i.test(locale || "") ? WORDS.pt : WORDS.en;
  }

  function label() {
    if (!bubble) return;
    bubble.setAttribute("aria-expanded", open ? "true" : "false");
    bubble.setAttribute("aria-label", open ? words[1] : words[0] + (unread ? " (" + unread + words[3] + ")" : ""));
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = !unread || open;
    frame.setAttribute("title", words[2]);
    note.textContent = words[4];
  }

  function setOpen(want) {
    want = !!want;
    if (want === open) return;
    open = api.isOpen = want;
    post({ type: want ? "open" : "close" });
    if (!root) return;
    var inside = d.activeElement === host;
    root.classList.toggle("o", want);
    label();
    if (want) frame.focus();
    else if (inside) bubble.focus();
    fire(want ? "opened" : "closed");
  }

  function onMessage(e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== origin) return;
    var m = e.data;
    if (!m || m.source !== "switchboard") return;
    if (m.type === "ready") {
      ready = true;
      root.classList.remove("f");
      var q = queue;
      queue = [];
      if (open && !q.some(function (x) { return x.type === "open"; })) q.unshift({ type: "open" });
      q.forEach(post);
      fire("ready");
    } else if (m.type === "unread") {
      unread = Math.max(0, m.count | 0);
      label();
    } else if (m.type === "message") {
      fire("on-message", m.message);
    } else if (m.type === "close-request") {
      setOpen(false);
    } else if (m.type === "theme" && /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(m.color)) {
      root.style.setProperty("--c", m.color);
      if (/^#[0-9a-f]{6}$/i.test(m.text)) root.style.setProperty("--o", m.text);
    }
  }

  function build(o) {
    // A tag of our own, reset inline with !important: page rules such as
    // `div {…}` or even `* {… !important}` cannot restyle the host element.
    host = d.createElement("switchboard-widget");
    host.id = "switchboard-widget";
    host.style.setProperty("all", "initial", "important");
    var shadow = host.attachShadow({ mode: "open" });
    shadow.innerHTML =
      '<div class="r"><div class="w" id="sb-window"><iframe id="sb-frame"></iframe><p class="m"></p></div>' +
      '<button class="b" id="sb-bubble" type="button" aria-controls="sb-window">' + CHAT + CLOSE +
      '<span class="n" id="sb-badge" hidden></span></button></div>';
    // Constructed sheets are not subject to the host page's style-src.
    if (shadow.adoptedStyleSheets && w.CSSStyleSheet) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      var style = d.createElement("style");
      style.textContent = CSS;
      shadow.insertBefore(style, shadow.firstChild);
    }
    root = shadow.querySelector(".r");
    bubble = shadow.getElementById("sb-bubble");
    badge = shadow.getElementById("sb-badge");
    frame = shadow.getElementById("sb-frame");
    note = shadow.querySelector(".m");
    if (o.position === "left") root.classList.add("l");
    if (open) root.classList.add("o");
    bubble.addEventListener("click", safe(function () { setOpen(!open); }));
    shadow.addEventListener("keydown", safe(function (e) {
      if (e.key === "Escape" && open) setOpen(false);
    }));
    w.addEventListener("message", safe(onMessage));
    frame.setAttribute("src", o.baseUrl + "/widget/frame?website_token=" + encodeURIComponent(o.websiteToken) +
      "&locale=" + encodeURIComponent(o.locale || "") + "&origin=" + encodeURIComponent(location.origin));
    label();
    d.body.appendChild(host);
    // A frame that never says it is ready (refused by the server's
    // frame-ancestors, or unreachable) gets a notice instead of a blank box.
    setTimeout(safe(function () { if (!ready) root.classList.add("f"); }), 15000);
  }

  function run(o) {
    if (started || !o || !o.websiteToken || d.getElementById("switchboard-widget")) return;
    started = true;
    var base = String(o.baseUrl || (script && script.src) || location.href);
    origin = new URL(base, location.href).origin;
    o = {
      websiteToken: String(o.websiteToken),
      baseUrl: origin,
      locale: o.locale || "",
      position: o.position
    };
    pickWords(o.locale || navigator.language);
    if (d.body) build(o);
    else d.addEventListener("DOMContentLoaded", safe(function () { build(o); }));
  }

  var api = {
    isOpen: false,
    toggle: safe(function (state) {
      setOpen(state === undefined ? !open : state === true || state === "open");
    }),
    open: safe(function () { setOpen(true); }),
    close: safe(function () { setOpen(false); }),
    setUser: safe(function (identifier, user) {
      post({ type: "set-user", identifier: identifier == null ? null : String(identifier), user: plain(user) });
    }),
    setCustomAttributes: safe(function (attributes) {
      post({ type: "set-custom-attributes", attributes: plain(attributes) });
    }),
    reset: safe(function () {
      unread = 0;
      label();
      post({ type: "reset" });
    }),
    setLocale: safe(function (locale) {
      pickWords(String(locale));
      label();
      post({ type: "set-locale", locale: String(locale) });
    })
  };

  w.$switchboard = api;
  w.switchboardSDK = { run: safe(run) };
  if (script && script.getAttribute("data-website-token")) {
    w.switchboardSDK.run({
      websiteToken: script.getAttribute("data-website-token"),
      baseUrl: script.src,
      locale: script.getAttribute("data-locale"),
      position: script.getAttribute("data-position")
    });
  }
})(window, document);
