// The dashboard's style sheet and script as string constants (see admin_assets.hpp).
// Plain CSS with system fonts: dark text on a light ground, contrast above WCAG AA, a
// visible focus ring on everything focusable, tables that scroll sideways on a phone.
#include "tokend/admin_assets.hpp"

namespace tka::tokend::admin {

namespace {

constexpr std::string_view kCss = R"css(/* token auth dashboard */
:root {
  --ink: #1b1f24;
  --muted: #4a525c;
  --ground: #f6f7f9;
  --card: #ffffff;
  --line: #d5dae1;
  --accent: #1d5fae;
  --accent-ink: #ffffff;
  --danger: #a3242b;
  --ok: #1e6b34;
  --warn: #8a5300;
  --focus: #0a58ca;
  color-scheme: light;
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { font-size: 100%; }
body {
  margin: 0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans",
    Arial, sans-serif;
  line-height: 1.5;
  color: var(--ink);
  background: var(--ground);
}
code, kbd, samp {
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.92em;
  overflow-wrap: anywhere;
}
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible {
  outline: 3px solid var(--focus);
  outline-offset: 2px;
}
main:focus { outline: none; }
.skip-link {
  position: absolute;
  left: 0.5rem;
  top: -4rem;
  padding: 0.5rem 1rem;
  background: var(--card);
  color: var(--accent);
  border: 2px solid var(--focus);
  z-index: 10;
}
.skip-link:focus { top: 0.5rem; }
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}
header.site {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.5rem 1.5rem;
  padding: 0.75rem 1.5rem;
  background: var(--card);
  border-bottom: 1px solid var(--line);
}
.brand { margin: 0; font-weight: 700; }
nav ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; margin: 0; padding: 0; list-style: none; }
nav a { text-decoration: none; padding: 0.25rem 0.1rem; }
nav a:hover { text-decoration: underline; }
nav a[aria-current="page"] { font-weight: 700; border-bottom: 3px solid var(--accent); }
.session { margin-left: auto; display: flex; align-items: center; gap: 0.75rem; flex-wrap: wrap; }
.session form { margin: 0; }
main {
  max-width: 76rem;
  margin: 0 auto;
  padding: 1.5rem;
}
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; line-height: 1.25; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; }
.crumbs { margin: 0; color: var(--muted); overflow-wrap: anywhere; }
.help, .note, .hint { color: var(--muted); }
.hint { font-size: 0.9em; white-space: nowrap; }
#flash, #error {
  padding: 0.75rem 1rem;
  border-radius: 4px;
  border-left: 6px solid;
  background: var(--card);
  overflow-wrap: anywhere;
}
#flash { border-color: var(--ok); }
#error { border-color: var(--danger); color: var(--danger); font-weight: 600; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.55rem 0.75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #eceff3; font-weight: 600; white-space: nowrap; }
tbody tr:last-child td { border-bottom: none; }
tbody tr:hover { background: #f2f5f9; }
td form { margin: 0; }
tr.empty td { color: var(--muted); font-style: italic; }
p.empty { color: var(--muted); font-style: italic; }
.state, .status { font-weight: 600; white-space: nowrap; }
.state-on, .state-in-sync, .status-live { color: var(--ok); }
.state-off, .status-expired { color: var(--muted); }
.state-behind { color: var(--warn); }
.state-stale, .status-ended { color: var(--danger); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1.25rem; margin: 0 0 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.explain dt { font-weight: 700; margin-top: 0.5rem; }
.explain dd { margin-left: 1.25rem; max-width: 48rem; }
form.stacked { display: grid; gap: 0.35rem; max-width: 26rem; }
form.stacked button { justify-self: start; margin-top: 0.5rem; }
form.inline { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 0.75rem; margin: 0.5rem 0 1rem; }
label { font-weight: 600; }
.check { display: flex; align-items: center; gap: 0.5rem; }
.check label { font-weight: 400; }
input[type="text"], input[type="password"], input[type="number"], input[type="email"] {
  font: inherit;
  padding: 0.45rem 0.6rem;
  border: 1px solid #8a939e;
  border-radius: 4px;
  background: #fff;
  color: var(--ink);
  min-width: 12rem;
}
input[type="checkbox"] { width: 1.1rem; height: 1.1rem; }
button {
  font: inherit;
  font-weight: 600;
  padding: 0.45rem 1rem;
  border-radius: 4px;
  border: 1px solid var(--accent);
  background: var(--accent);
  color: var(--accent-ink);
  cursor: pointer;
}
button:hover { filter: brightness(1.1); }
button.danger { background: var(--card); color: var(--danger); border-color: var(--danger); }
button.danger:hover { background: #fbeaea; filter: none; }
.session button { background: var(--card); color: var(--accent); }
ul.links { padding-left: 1.25rem; }
.once {
  padding: 0.75rem 1rem;
  border-left: 6px solid var(--warn);
  background: #fff8e6;
  max-width: 48rem;
}
.secret { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem; margin: 1rem 0; }
.secret code {
  display: inline-block;
  padding: 0.6rem 0.8rem;
  background: var(--card);
  border: 1px dashed var(--muted);
  border-radius: 4px;
  font-size: 1rem;
  user-select: all;
}
figure.usage {
  margin: 0 0 1.5rem;
  padding: 0.75rem 1rem 1rem;
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 4px;
}
figure.usage h2 { margin: 0; font-size: 1.05rem; }
figure.usage .figures { margin: 0.25rem 0 0.5rem; color: var(--muted); }
figure.usage .figures strong { color: var(--ink); }
svg.chart { display: block; width: 100%; height: 7.5rem; }
svg.chart .chart-bg { fill: #f3f5f8; }
svg.chart .bar { fill: var(--accent); }
svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
.axis-labels { display: flex; justify-content: space-between; margin: 0.25rem 0 0; font-size: 0.85rem; color: var(--muted); }
.code { color: var(--muted); font-weight: 400; }
@media (max-width: 40rem) {
  header.site { padding: 0.75rem 1rem; }
  .session { margin-left: 0; }
  main { padding: 1rem; }
  th, td { padding: 0.45rem 0.5rem; }
  input[type="text"], input[type="password"], input[type="number"] { min-width: 0; width: 100%; }
  form.inline { align-items: stretch; flex-direction: column; }
  form.inline button { align-self: flex-start; }
  dl.facts { grid-template-columns: 1fr; }
  /* Tables become one card per row, each cell labelled by its column. */
  .table-wrap { background: none; border: none; }
  table, tbody, tr, td { display: block; width: 100%; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  tbody tr { background: var(--card); border: 1px solid var(--line); border-radius: 4px; margin-bottom: 0.75rem; }
  tbody tr:last-child td, td { border-bottom: none; }
  td { display: grid; grid-template-columns: 8.5rem 1fr; gap: 0.5rem; padding: 0.35rem 0.75rem; }
  td { overflow-wrap: anywhere; }
  td[data-label]::before { content: attr(data-label); font-weight: 600; color: var(--muted); }
  td.action:empty { display: none; }
  tr.empty td { display: block; }
  dl.facts dd { margin-bottom: 0.5rem; }
}
@media (prefers-reduced-motion: reduce) {
  * { transition: none !important; }
}
)css";

// The copy button of a secret shown once: revealed only when this script runs. Copies with
// the asynchronous clipboard API where the page is a secure context; otherwise (or when
// the browser refuses) selects the key so Ctrl+C / Cmd+C copies it.
constexpr std::string_view kJs =
    R"js(// token auth dashboard: the copy button of a secret shown once; nothing else needs script.
(function () {
  "use strict";
  function start() {
    var button = document.getElementById("copy-secret");
    var secret = document.getElementById("new-secret-key");
    if (!button || !secret) {
      return;
    }
    var status = document.getElementById("copy-status");
    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }
    function selectSecret() {
      var range = document.createRange();
      range.selectNodeContents(secret);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      say("Selected: press Ctrl+C (Cmd+C on a Mac) to copy it.");
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = secret.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          say("Copied to the clipboard.");
        }, selectSecret);
      } else {
        selectSecret();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
)js";

}  // namespace

std::string_view dashboard_css() {
    return kCss;
}
std::string_view dashboard_js() {
    return kJs;
}

}  // namespace tka::tokend::admin
