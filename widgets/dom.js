// Shared DOM helpers of the alchemist widgets (prepended to each widget's module by the Python
// side). User strings only ever become text nodes or textContent, never HTML.

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null) continue;
    if (key === "class") el.className = value;
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function setText(el, value) {
  el.textContent = value == null ? "" : String(value);
  return el;
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

function svg(tag, attrs = {}) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

// An object URL for image bytes that came as a binary buffer (DataView / ArrayBuffer).
function imageUrl(bytes, format) {
  if (!bytes || !bytes.byteLength) return null;
  return URL.createObjectURL(new Blob([bytes], { type: `image/${format || "png"}` }));
}

function safeColor(color) {
  return /^#[0-9a-fA-F]{6}$/.test(String(color)) ? color : "#888888";
}

function fmt(n, digits = 0) {
  return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits });
}
