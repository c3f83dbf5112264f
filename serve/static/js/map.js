// A small SVG map: the river network itself is the base map (offices are offline), with
// an intranet tile server underneath when one is configured (`serve_tile_url`, XYZ
// template). Web Mercator, fitted to the network (or the tickets) bounding box.
import { STATE_COLOURS, category, stateName } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// Web Mercator in "world pixels" at zoom 0 (256 px for the whole world).
function merc(lon, lat) {
  const s = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
  return [((lon + 180) / 360) * 256, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256];
}

function coordsOf(geom, out) {
  if (!geom) return out;
  const walk = (c) => (typeof c[0] === "number" ? out.push(c) : c.forEach(walk));
  walk(geom.coordinates);
  return out;
}

export function drawMap(container, { network, tickets = [], highlight = null, tileUrl = null, onPick = null,
                                     width = 800, height = 500, padding = 24 }) {
  container.innerHTML = "";
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "map", role: "img" }, container);
  const pts = [];
  (network?.features || []).forEach((f) => coordsOf(f.geometry, pts));
  if (!pts.length) tickets.forEach((tk) => pts.push([tk.lon, tk.lat]));
  if (!pts.length) return svg;
  const xy = pts.map(([lon, lat]) => merc(lon, lat));
  let [minx, miny, maxx, maxy] = [Infinity, Infinity, -Infinity, -Infinity];
  xy.forEach(([x, y]) => { minx = Math.min(minx, x); maxx = Math.max(maxx, x); miny = Math.min(miny, y); maxy = Math.max(maxy, y); });
  const span = Math.max(maxx - minx, maxy - miny, 1e-9);
  const scale = Math.min((width - 2 * padding) / Math.max(maxx - minx, span * 0.05),
                         (height - 2 * padding) / Math.max(maxy - miny, span * 0.05));
  const ox = (width - (maxx - minx) * scale) / 2 - minx * scale;
  const oy = (height - (maxy - miny) * scale) / 2 - miny * scale;
  const project = (lon, lat) => { const [x, y] = merc(lon, lat); return [x * scale + ox, y * scale + oy]; };

  if (tileUrl) drawTiles(svg, tileUrl, scale, ox, oy, width, height);

  const gNet = el("g", { class: "network" }, svg);
  for (const f of network?.features || []) {
    const g = f.geometry;
    if (!g) continue;
    const rings = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : null;
    if (rings) {
      for (const poly of rings) {
        const d = poly.map((ring) => "M" + ring.map(([a, b]) => project(a, b).map((v) => v.toFixed(1)).join(",")).join("L") + "Z").join("");
        el("path", { d, class: `zone zone-${f.properties?.zone_type || f.properties?.kind || "area"}` }, gNet);
      }
    }
  }
  for (const f of network?.features || []) {
    const g = f.geometry;
    if (!g || !g.type.endsWith("LineString")) continue;
    const lines = g.type === "LineString" ? [g.coordinates] : g.coordinates;
    for (const line of lines) {
      const d = "M" + line.map(([a, b]) => project(a, b).map((v) => v.toFixed(1)).join(",")).join("L");
      const p = el("path", { d, class: "segment" }, gNet);
      el("title", {}, p).textContent = [f.properties?.river, f.properties?.name, f.properties?.id].filter(Boolean).join(" · ");
    }
  }
  const gT = el("g", { class: "tickets" }, svg);
  for (const tk of tickets) {
    const [x, y] = project(tk.lon, tk.lat);
    const hi = highlight && tk.id === highlight;
    const c = el("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: hi ? 9 : 6, fill: STATE_COLOURS[tk.state] || "#555",
                             class: `ticket${hi ? " highlight" : ""}`, "data-id": tk.id, "data-state": tk.state }, gT);
    el("title", {}, c).textContent = `${category(tk.category, tk.category_zh)} · ${stateName(tk.state)} · ${tk.segment_name || ""}`;
    if (onPick) c.addEventListener("click", () => onPick(tk));
  }
  return svg;
}

function drawTiles(svg, template, scale, ox, oy, width, height) {
  // Pick the zoom whose tiles are closest to 256 screen px, then cover the view.
  const z = Math.max(0, Math.min(19, Math.round(Math.log2(scale))));
  const n = 2 ** z, size = (256 / n) * scale;
  const x0 = Math.floor(-ox / size), y0 = Math.floor(-oy / size);
  const g = el("g", { class: "tiles" }, svg);
  for (let tx = x0; tx * size + ox < width; tx++) {
    for (let ty = y0; ty * size + oy < height; ty++) {
      if (tx < 0 || ty < 0 || tx >= n || ty >= n) continue;
      const href = template.replace("{z}", z).replace("{x}", tx).replace("{y}", ty);
      el("image", { href, x: tx * size + ox, y: ty * size + oy, width: size, height: size }, g);
    }
  }
}

export function legend(container) {
  container.innerHTML = "";
  for (const [s, c] of Object.entries(STATE_COLOURS)) {
    const span = document.createElement("span");
    span.className = "legend-item";
    const dot = document.createElement("i");
    dot.style.background = c; // a CSSOM property, not a style attribute: allowed by the page's CSP
    span.append(dot);
    span.append(stateName(s));
    container.appendChild(span);
  }
}
