// symml's derivation page: plain JavaScript, no library, nothing loaded from elsewhere.
"use strict";
const $ = (id) => document.getElementById(id);
const post = (url, body) => fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                        body: JSON.stringify(body)}).then((r) => r.json());

function showRows() {
  const op = $("operation").value;
  document.querySelectorAll("[data-for]").forEach((el) => {
    el.hidden = !el.dataset.for.split(" ").includes(op);
  });
}

function stepNode(step) {
  const wrap = document.createElement(step.substeps.length ? "details" : "div");
  wrap.className = "step";
  const head = document.createElement(step.substeps.length ? "summary" : "div");
  head.innerHTML = `<b>${step.number}.</b> ${step.explanation_html}`;
  wrap.appendChild(head);
  if (step.substeps.length) {
    const sub = document.createElement("div");
    sub.className = "sub";
    step.substeps.forEach((s) => sub.appendChild(stepNode(s)));
    wrap.appendChild(sub);
  }
  if (step.equation_html) {
    const eq = document.createElement("div");
    eq.className = "eq";
    eq.innerHTML = step.equation_html;
    wrap.appendChild(eq);
  }
  if (step.note_html) {
    const note = document.createElement("div");
    note.className = "eq";
    note.innerHTML = `<i>Note:</i> ${step.note_html}`;
    wrap.appendChild(note);
  }
  return wrap;
}

function showError(err) {
  const out = $("output");
  out.innerHTML = "";
  const box = document.createElement("div");
  box.className = "error";
  box.textContent = `${err.type}: ${err.message}` + (err.snippet ? `\n${err.snippet}` : "");
  out.appendChild(box);
}

function copyButton(label, text) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(text));
  b.dataset.copy = text;
  return b;
}

function runTable(d) {  // a minimize run: the value at the point, iterations, status
  const m = d.minimize;
  const t = document.createElement("table");
  t.id = "run";
  const rows = [["value", m.value_html], ["method", m.method],
                ["iterations", `${m.nit} (${m.nfev} evaluations)`],
                ["status", `${m.status} (${m.status_text}): ${m.message}`]];
  rows.forEach(([k, v], i) => {
    const tr = t.insertRow();
    tr.insertCell().textContent = k;
    const cell = tr.insertCell();
    if (i === 0) cell.innerHTML = v; else cell.textContent = v;  // the value is server MathML
  });
  return t;
}

function showDerivation(d) {
  const out = $("output");
  out.innerHTML = "";
  const h = document.createElement("h2");
  h.textContent = d.title;
  const badge = document.createElement("span");
  badge.className = "badge " + (d.verified ? "ok" : "bad");
  badge.id = "verified";
  badge.textContent = d.verified ? "verified" : "not verified";
  badge.title = d.verify_message;
  h.appendChild(badge);
  out.appendChild(h);
  d.steps.forEach((s) => out.appendChild(stepNode(s)));
  if (d.picture_svg) {  // drawn on the server: SVG, nothing from another host
    const fig = document.createElement("figure");
    fig.id = "picture";
    fig.innerHTML = d.picture_svg;
    out.appendChild(fig);
  }
  const res = document.createElement("div");
  res.className = "result";
  res.innerHTML = "<b>Result</b> " + d.result.html;
  if (d.minimize) res.appendChild(runTable(d));
  else if (d.note_html) {
    const note = document.createElement("div");
    note.innerHTML = `<i>Note:</i> ${d.note_html}`;
    res.appendChild(note);
  }
  out.appendChild(res);
  const copy = document.createElement("div");
  copy.className = "copy";
  copy.appendChild(copyButton("Copy LaTeX", d.renderings.latex));
  copy.appendChild(copyButton("Copy Markdown", d.renderings.markdown));
  copy.appendChild(copyButton("Copy text", d.renderings.text));
  const dl = document.createElement("a");
  dl.textContent = "Download LaTeX document";
  dl.download = "derivation.tex";
  dl.href = URL.createObjectURL(new Blob([d.renderings.latex_document], {type: "application/x-tex"}));
  copy.appendChild(dl);
  out.appendChild(copy);
}

let timer = null;
function liveCheck() {
  clearTimeout(timer);
  timer = setTimeout(() => {
    post("/api/check", {formula: $("formula").value}).then((r) => {
      const box = $("syntax");
      if (r.ok) { box.hidden = true; box.textContent = ""; return; }
      box.hidden = false;
      box.textContent = r.error.message + (r.error.snippet ? "\n" + r.error.snippet : "");
    });
  }, 250);
}

function derive(ev) {
  ev.preventDefault();
  const body = {};
  ["formula", "operation", "variables", "point", "order", "lower", "upper", "constraints", "q",
   "start", "method", "max_iter"]
    .forEach((k) => { body[k] = $(k).value; });
  $("output").textContent = "Deriving…";
  post("/api/derive", body).then((r) => (r.ok ? showDerivation(r) : showError(r.error)))
    .catch((e) => showError({type: "NetworkError", message: String(e)}));
}

fetch("/api/methods").then((r) => r.json()).then((methods) => {
  const sel = $("method");
  methods.forEach((m) => {
    const o = document.createElement("option");
    o.value = m; o.textContent = m; sel.appendChild(o);
  });
});
fetch("/api/operations").then((r) => r.json()).then((ops) => {
  const sel = $("operation");
  Object.entries(ops).forEach(([k, label]) => {
    const o = document.createElement("option");
    o.value = k; o.textContent = label; sel.appendChild(o);
  });
  showRows();
});
$("operation").addEventListener("change", showRows);
$("formula").addEventListener("input", liveCheck);
$("form").addEventListener("submit", derive);
