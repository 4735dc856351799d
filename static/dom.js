// The small DOM helpers every Streamlab page script shares: build elements without HTML strings
// (text is always text, never markup) and change the page only where a value changed.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Sets `props` on `el` and appends `children` (arrays are flattened; null, undefined and false
 * are skipped). Props: `class`, `text` (textContent), `on<event>` (a listener), anything else an
 * attribute (true → present and empty; null, undefined and false → absent).
 */
function fill(el, props, children) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/** An HTML element: h("button", { class: "x", onclick: f }, "text"). */
export const h = (tag, props = {}, ...children) => fill(document.createElement(tag), props, children);

/** An SVG element. */
export const svg = (tag, props = {}, ...children) => fill(document.createElementNS(SVG_NS, tag), props, children);

const written = new WeakMap();

/** Sets an attribute (or `text`) only when its value changed; null, undefined or false removes it. */
export function put(el, key, value) {
  let cache = written.get(el);
  if (!cache) {
    cache = Object.create(null);
    written.set(el, cache);
  }
  if (cache[key] === value) return;
  cache[key] = value;
  if (key === "text") el.textContent = value;
  else if (value === null || value === false || value === undefined) el.removeAttribute(key);
  else el.setAttribute(key, value === true ? "" : String(value));
}

/** Sets a node's text only when it differs (no mutation, so nothing is re-announced or re-laid). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
