// The live page: a "state" message carries all there is to show (so a page
// opened late, or one that reconnects, is whole at once); a "clock" message
// gives the run clock, against which the picture's timers run down.
"use strict";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token") || "";

// The run clock: the last time the server gave, and when it came.
let clockT = 0, clockAt = performance.now(), ended = false;

function setClock(t) {
  clockT = t;
  clockAt = performance.now();
}

function now() {
  return ended ? clockT : clockT + (performance.now() - clockAt) / 1000;
}

// The picture's running timers, as the diagram draws them: a g.timer
// with data-from-s and data-to-s (run times) holds a rect.timer-bar whose
// full width is its data-width, and a text.timer-count with the time left.
function animate() {
  const t = now();
  $("clock").textContent = t.toFixed(1) + " s";
  for (const g of document.querySelectorAll("#picture g.timer[data-from-s][data-to-s]")) {
    const from = parseFloat(g.dataset.fromS), to = parseFloat(g.dataset.toS);
    const left = Math.max(0, to - t);
    const frac = to > from ? Math.min(1, left / (to - from)) : 0;
    const bar = g.querySelector("rect.timer-bar");
    if (bar) bar.setAttribute("width", String(parseFloat(bar.dataset.width) * frac));
    const count = g.querySelector("text.timer-count");
    if (count) count.textContent = left.toFixed(3) + " s";
  }
  requestAnimationFrame(animate);
}

function show(m) {
  setClock(m.t);
  ended = m.ended;
  document.title = m.title || "heartbeat";
  $("title").textContent = m.title || "heartbeat";
  $("status").textContent = m.status;
  $("picture").innerHTML = m.svg;
  const v = $("verdict");
  v.hidden = !m.ended;
  v.textContent = m.ended ? m.verdict + " — the run has ended" : "";
  $("error").hidden = !m.error;
  $("error").textContent = m.error;
  $("controls").hidden = !m.controls;
  showButtons(m.buttons || []);
}

// showButtons puts one button per command offered, each sent as if typed.
let buttonsShown = "";
function showButtons(commands) {
  const key = JSON.stringify(commands);
  if (key === buttonsShown) return;
  buttonsShown = key;
  const box = $("buttons");
  box.replaceChildren();
  for (const c of commands) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = c;
    b.addEventListener("click", () => send(c));
    box.append(b);
  }
}

const stream = new EventSource("events");
stream.addEventListener("state", (e) => show(JSON.parse(e.data)));
stream.addEventListener("clock", (e) => setClock(JSON.parse(e.data).t));
stream.addEventListener("error", () => {
  if (!ended) $("status").textContent = "the tool is not answering (it may have stopped)";
});

// send posts one command and shows the tool's reply.
async function send(command) {
  const headers = token ? { "X-Heartbeat-Token": token } : {};
  try {
    const r = await fetch("command", { method: "POST", headers, body: command });
    $("reply").textContent = (await r.text()).trim();
  } catch (err) {
    $("reply").textContent = "not sent: " + err;
  }
}

$("controls").addEventListener("submit", (e) => {
  e.preventDefault();
  send($("command").value);
});

// The theme follows the system's until the button picks one.
const saved = localStorage.getItem("theme");
if (saved) document.documentElement.dataset.theme = saved;
$("theme").addEventListener("click", () => {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  const next = dark ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  localStorage.setItem("theme", next);
});

requestAnimationFrame(animate);
