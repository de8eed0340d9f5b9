"use strict";
(async function () {
  const doc = await (await fetch("/api/v1/openapi.json")).json();
  const base = (doc.servers && doc.servers[0] && doc.servers[0].url) || "";
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.getElementById("desc").textContent = doc.info.description || "";
  const ref = r => r && r.$ref ? doc.components.schemas[r.$ref.split("/").pop()] : r;
  // A schema as an example-shaped outline, deep enough to read.
  function shape(s, depth) {
    s = ref(s);
    if (!s || depth > 6) return "…";
    const t = Array.isArray(s.type) ? s.type.filter(x => x !== "null")[0] : s.type;
    if (t === "object" || s.properties) {
      const o = {};
      for (const [k, v] of Object.entries(s.properties || {})) { if (k !== "$schema") o[k] = shape(v, depth + 1); }
      return o;
    }
    if (t === "array") return [shape(s.items, depth + 1)];
    if (s.enum) return s.enum.join(" | ");
    return (t || "any") + (s.format ? " (" + s.format + ")" : "");
  }
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "Other";
      (byTag[tag] = byTag[tag] || []).push({path, method: method.toUpperCase(), op});
    }
  }
  const root = document.getElementById("ops");
  root.textContent = "";
  for (const [tag, ops] of Object.entries(byTag)) {
    const h = document.createElement("h2"); h.textContent = tag; root.appendChild(h);
    for (const {path, method, op} of ops) {
      const d = document.createElement("details");
      const s = document.createElement("summary");
      s.innerHTML = '<span class="m ' + method + '"></span> <code></code> — <span></span>' + (op.security ? ' <span class="lock">🔒 bearer</span>' : "");
      s.children[0].textContent = method; s.children[1].textContent = base + path; s.children[2].textContent = op.summary || "";
      d.appendChild(s);
      const add = (label, value) => {
        const p = document.createElement("p"); p.innerHTML = "<b></b>"; p.firstChild.textContent = label;
        const pre = document.createElement("pre"); pre.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
        d.appendChild(p); d.appendChild(pre);
      };
      if (op.parameters && op.parameters.length) {
        add("Parameters", op.parameters.map(p => p.in + " " + p.name + (p.required ? " (required)" : "") + ": " +
          JSON.stringify(shape(p.schema, 0)) + (p.description ? " — " + p.description : "")).join("\n"));
      }
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) add("Request body", shape(body.schema, 0));
      for (const [code, resp] of Object.entries(op.responses || {})) {
        const c = resp.content || {};
        const j = c["application/json"] || c["application/problem+json"];
        add(code + " " + (resp.description || ""), j ? shape(j.schema, 0) : Object.keys(c).join(", ") || "(no body)");
      }
      root.appendChild(d);
    }
  }
})();
