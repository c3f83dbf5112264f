// The viewer's maps, on Leaflet (vendored in serve/static/vendor/, loaded by index.html as the
// global L, with leaflet.markercluster). Basemaps that work offline, in this order: the
// office's MBTiles file served by `heyan serve`, an intranet XYZ server (WGS-84 or GCJ-02),
// and always the flight's own photos laid on their footprints. Features stay in WGS-84; on a
// GCJ-02 basemap they are shifted onto it when drawn (gcj02.js).
import { h } from "./dom.js";
import { wgs84ToGcj02 } from "./gcj02.js";
import { STATE_COLOURS, category, stateName, t } from "./i18n.js";

const L = window.L;
const MAX_ZOOM = 22; // past the tiles' own zooms they are enlarged: small finds need it
const CHINA = [[18, 73], [54, 135]]; // the view when there is nothing to show

// Fingers need bigger targets than a mouse (a phone in portrait, or any coarse pointer).
const touch = () => window.matchMedia("(pointer: coarse), (max-width: 600px)").matches;

// A photo laid on the ground: the image's corners go to their ground points (an affine
// transform from three of them), so a rotated footprint shows the photo rotated with it.
const PhotoOverlay = L.Layer.extend({
  initialize(url, corners, name) {
    L.setOptions(this, { pane: "photos" });
    this._url = url; this._corners = corners; this._name = name;
  },
  onAdd(map) {
    const img = L.DomUtil.create("img", "photo-overlay leaflet-zoom-hide");
    img.alt = this._name || "";
    img.dataset.photo = this._name || "";
    img.addEventListener("load", () => this._reset());
    this._img = img;
    this.getPane().appendChild(img);
    map.on("zoomend viewreset moveend", this._reset, this);
    this._reset();
  },
  onRemove(map) {
    this._img.remove();
    map.off("zoomend viewreset moveend", this._reset, this);
  },
  getBounds() { return L.latLngBounds(this._corners); },
  _reset() {
    const img = this._img;
    if (!this._map) return;
    // A photo is fetched once it comes into view: a flight of hundreds of photos is not
    // asked of the server all at once.
    if (!img.getAttribute("src") && this._map.getBounds().pad(0.5).intersects(this.getBounds())) img.src = this._url;
    const w = img.naturalWidth, hgt = img.naturalHeight;
    if (!w || !hgt) return;
    const [p0, p1, , p3] = this._corners.map((c) => this._map.latLngToLayerPoint(c));
    const a = (p1.x - p0.x) / w, b = (p1.y - p0.y) / w, c = (p3.x - p0.x) / hgt, d = (p3.y - p0.y) / hgt;
    Object.assign(img.style, { width: `${w}px`, height: `${hgt}px`, transformOrigin: "0 0",
                               transform: `matrix(${a}, ${b}, ${c}, ${d}, ${p0.x}, ${p0.y})` });
  },
});

// The basemaps the server's settings offer (GET /api/config): [{key, layer, datum}].
export function basemaps(config) {
  const out = [];
  const mb = config?.mbtiles;
  if (mb) {
    const opts = { maxZoom: MAX_ZOOM, minNativeZoom: mb.minzoom, maxNativeZoom: mb.maxzoom, className: "basemap-mbtiles" };
    if (mb.bounds) opts.bounds = L.latLngBounds([[mb.bounds[1], mb.bounds[0]], [mb.bounds[3], mb.bounds[2]]]);
    out.push({ key: "mbtiles", layer: L.tileLayer(mb.url, opts), datum: "wgs84" });
  }
  if (config?.tile_url) {
    out.push({ key: "xyz", datum: config.tile_datum === "gcj02" ? "gcj02" : "wgs84",
               layer: L.tileLayer(config.tile_url, { maxZoom: MAX_ZOOM, maxNativeZoom: 18, className: "basemap-xyz" }) });
  }
  out.push({ key: "none", layer: L.layerGroup(), datum: "wgs84" }); // the photos and the river network alone
  return out;
}

// Points every few metres along a line ([lat, lon] pairs), so a label finds the part in view.
function densify(pts, steps = 12) {
  const out = [];
  for (let i = 0; i + 1 < pts.length; i++) {
    const [a, b] = [pts[i], pts[i + 1]];
    for (let k = 0; k < steps; k++) out.push([a[0] + ((b[0] - a[0]) * k) / steps, a[1] + ((b[1] - a[1]) * k) / steps]);
  }
  if (pts.length) out.push(pts[pts.length - 1]);
  return out;
}

function northArrow() {
  const Ctl = L.Control.extend({
    onAdd() {
      const box = h("div", { class: "north-arrow leaflet-bar", id: "north-arrow", title: t("map.north"), role: "img",
                             "aria-label": t("map.north") });
      // Static markup, no data in it.
      box.innerHTML = '<svg viewBox="0 0 20 28" width="20" height="28" aria-hidden="true"><path d="M10 1 L17 24 L10 19 L3 24 Z"/></svg>';
      box.append(h("b", {}, t("map.north.short")));
      return box;
    },
  });
  return new Ctl({ position: "topright" });
}

function legendControl(withFlight) {
  const Ctl = L.Control.extend({
    onAdd() {
      // On a phone the legend starts folded (a tap on 图例 opens it): it would cover the map.
      const box = h("div", { class: `map-legend${touch() ? " folded" : ""}`, id: "map-legend" });
      box.append(h("button", { type: "button", class: "legend-toggle", "aria-expanded": String(!touch()),
                               onclick: (e) => { const f = box.classList.toggle("folded"); e.currentTarget.setAttribute("aria-expanded", String(!f)); } },
                   t("map.legend")));
      for (const [s, c] of Object.entries(STATE_COLOURS)) {
        const dot = h("i", { class: "dot" });
        dot.style.background = c; // a CSSOM property, not a style attribute: allowed by the page's CSP
        box.append(h("div", { class: "legend-item", "data-state": s }, dot, stateName(s)));
      }
      box.append(h("div", { class: "legend-item" }, h("i", { class: "line segment" }), t("map.legend.segment")));
      if (withFlight) {
        box.append(h("div", { class: "legend-item" }, h("i", { class: "area footprint" }), t("map.legend.footprint")),
                   h("div", { class: "legend-item" }, h("i", { class: "line track" }), t("map.legend.track")));
      }
      L.DomEvent.disableClickPropagation(box);
      return box;
    },
  });
  return new Ctl({ position: "bottomright" });
}

function popupFor(tk) {
  return h("div", { class: "tk-popup", "data-ticket": tk.id },
    h("b", {}, category(tk.category, tk.category_zh)), " ",
    h("span", { class: `state state-${tk.state}`, "data-state": tk.state }, stateName(tk.state)),
    tk.overdue ? h("span", { class: "overdue" }, ` ${t("ticket.overdue")}`) : "",
    h("div", {}, t("ticket.segment"), "：", [tk.river, tk.segment_name].filter(Boolean).join(" · ") || "—"),
    h("a", { href: `#/ticket/${encodeURIComponent(tk.id)}`, class: "tk-open" }, t("map.open"), " ", tk.id));
}

export class HeyanMap {
  // compact: a small map beside a ticket (no legend, no clustering of a single marker).
  constructor(container, { config = {}, compact = false, legend = true, flight = false } = {}) {
    container.innerHTML = "";
    container.classList.add("leaflet-host");
    this.el = container;
    this.compact = compact;
    this.map = L.map(container, { maxZoom: MAX_ZOOM, attributionControl: false, zoomControl: true,
                                  scrollWheelZoom: !compact, tapTolerance: 15 });
    this.map.createPane("photos").style.zIndex = 250; // over the basemap, under the river and the markers
    this.bases = basemaps(config);
    this.base = this.bases[0];
    this.base.layer.addTo(this.map);
    if (this.bases.length > 1 && !compact) {
      const named = Object.fromEntries(this.bases.map((b) => [t(`map.base.${b.key}`), b.layer]));
      L.control.layers(named, null, { position: "topright" }).addTo(this.map);
      this.map.on("baselayerchange", (e) => { // also fired as the control starts: redraw only for a new datum
        const next = this.bases.find((b) => b.layer === e.layer) || this.bases[0];
        const moved = next.datum !== this.base.datum;
        this.base = next;
        this.el.dataset.datum = next.datum;
        if (moved) this.redraw();
      });
    }
    this.el.dataset.datum = this.base.datum;
    this.labels = [];
    this.map.on("moveend", () => this.placeLabels());
    L.control.scale({ imperial: false, maxWidth: 140 }).addTo(this.map);
    northArrow().addTo(this.map);
    if (legend && !compact) legendControl(flight).addTo(this.map);
    this.network = null;
    this.tickets = [];
    this.highlight = null;
    this.flight = null;
    this.markers = new Map();
    this.groups = [];
    this.fitted = false;
    container.heyanMap = this; // for the ticket page's "show on map" and the tests
    this.map.setView([35, 105], 4);
  }

  // A WGS-84 point as the basemap wants it: [lat, lon].
  at(lat, lon) { return this.base.datum === "gcj02" ? wgs84ToGcj02(lat, lon) : [lat, lon]; }

  line(coords) { return coords.map(([lon, lat]) => this.at(lat, lon)); }

  setNetwork(geojson) { this.network = geojson; this.redraw(); }

  setTickets(tickets, { highlight = null } = {}) { this.tickets = tickets || []; this.highlight = highlight; this.redraw(); }

  setFlight(detail) { this.flight = detail; this.redraw(); }

  redraw() {
    for (const g of this.groups) g.remove();
    this.groups = [];
    this.labels = [];
    this.markers.clear();
    this.drawNetwork();
    this.drawFlight();
    this.drawTickets();
    if (!this.fitted && (this.tickets.length || this.flight)) this.fit();
    this.el.dataset.ready = String(this.markers.size); // drawn, with this many tickets (tests wait on it)
  }

  drawNetwork() {
    const g = L.layerGroup();
    const labelled = new Set();
    for (const f of this.network?.features || []) {
      const geom = f.geometry, p = f.properties || {};
      if (!geom) continue;
      if (geom.type === "Polygon" || geom.type === "MultiPolygon") {
        const polys = geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates;
        for (const poly of polys) {
          L.polygon(poly.map((ring) => this.line(ring)), { className: `zone zone-${p.zone_type || p.kind || "area"}`,
                                                           interactive: false }).addTo(g);
        }
      } else if (geom.type === "LineString" || geom.type === "MultiLineString") {
        const lines = geom.type === "LineString" ? [geom.coordinates] : geom.coordinates;
        const name = [p.river, p.name].filter(Boolean).join(" · ") || p.id || "";
        for (const ln of lines) {
          const pts = this.line(ln);
          const pl = L.polyline(pts, { className: "segment", weight: 4 }).addTo(g);
          pl.bindTooltip(name, { sticky: true });
          if (name && !labelled.has(name) && !this.compact) { // one label per segment, on its part in view
            labelled.add(name);
            const tip = L.tooltip({ permanent: true, direction: "center", className: "seg-label", interactive: false })
              .setContent(p.name || name);
            this.labels.push({ pts: densify(pts), tip, group: g });
          }
        }
      }
    }
    g.addTo(this.map);
    this.groups.push(g);
    this.placeLabels();
  }

  // A segment's label sits in the middle of the part of it in view (its own middle is often
  // off screen: segments are kilometres long), and goes when none of it is.
  placeLabels() {
    const view = this.map.getBounds().pad(-0.08);
    for (const lb of this.labels) {
      const inView = lb.pts.filter((q) => view.contains(q));
      if (!inView.length) { lb.tip.remove(); continue; }
      lb.tip.setLatLng(inView[Math.floor(inView.length / 2)]);
      if (!this.map.hasLayer(lb.tip)) lb.tip.addTo(lb.group);
    }
  }

  drawFlight() {
    const placed = this.flight?.photos_map || [];
    if (!placed.length) return;
    const photos = L.layerGroup(), outlines = L.layerGroup();
    for (const p of placed) {
      if (p.corners) new PhotoOverlay(p.thumb_url, p.corners.map(([lon, lat]) => this.at(lat, lon)), p.name).addTo(photos);
      L.polygon(this.line(p.outline), { className: "footprint", weight: 1, fill: !p.corners, fillColor: "#ffb300", fillOpacity: 0.1 })
        .bindTooltip(p.name).addTo(outlines);
    }
    const track = placed.filter((p) => p.position).map((p) => this.at(p.position[1], p.position[0]));
    if (track.length > 1) L.polyline(track, { className: "track", weight: 2, dashArray: "6 4", interactive: false }).addTo(outlines);
    for (const g of [photos, outlines]) { g.addTo(this.map); this.groups.push(g); }
  }

  drawTickets() {
    const size = touch() ? 32 : 22;
    const group = this.compact ? L.layerGroup()
      : L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 45, spiderfyOnMaxZoom: true,
                               zoomToBoundsOnClick: true });
    for (const tk of this.tickets) {
      if (tk.lat == null || tk.lon == null) continue;
      const hi = this.highlight === tk.id;
      const dot = h("span", { class: `tk-dot${hi ? " highlight" : ""}`, "data-ticket": tk.id, "data-state": tk.state });
      dot.style.background = STATE_COLOURS[tk.state] || "#555";
      const s = hi ? size + 6 : size;
      const icon = L.divIcon({ className: "tk-pin", html: dot, iconSize: [s, s], iconAnchor: [s / 2, s / 2], popupAnchor: [0, -s / 2] });
      const m = L.marker(this.at(tk.lat, tk.lon), { icon, keyboard: true, riseOnHover: true,
                                                    title: `${category(tk.category, tk.category_zh)} · ${stateName(tk.state)}` });
      m.bindPopup(() => popupFor(tk), { autoPanPadding: [20, 20] });
      m.addTo(group);
      this.markers.set(tk.id, m);
    }
    group.addTo(this.map);
    this.groups.push(group);
    this.cluster = this.compact ? null : group;
  }

  // Everything drawn, in view; the highlighted ticket close up on a small map.
  fit() {
    const b = L.latLngBounds([]);
    const hi = this.highlight && this.markers.get(this.highlight);
    if (hi && this.compact) {
      this.map.setView(hi.getLatLng(), 17, { animate: false });
      this.fitted = true;
      return;
    }
    for (const tk of this.tickets) if (tk.lat != null) b.extend(this.at(tk.lat, tk.lon));
    for (const p of this.flight?.photos_map || []) for (const [lon, lat] of p.outline) b.extend(this.at(lat, lon));
    if (!b.isValid()) for (const g of this.groups) g.eachLayer((l) => l.getBounds && b.extend(l.getBounds()));
    if (b.isValid()) {
      // Not animated: a fit asked for while another one animates would be dropped.
      this.map.fitBounds(b, { padding: [30, 30], maxZoom: 18, animate: false });
      this.fitted = true;
    } else {
      this.map.fitBounds(CHINA, { animate: false });
    }
  }

  // Zoom until the ticket's marker is out of its cluster, then open its popup (open: true).
  reveal(id, open = true) {
    const m = this.markers.get(id);
    if (!m) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => { if (open) m.openPopup(); resolve(true); };
      if (this.cluster) this.cluster.zoomToShowLayer(m, done);
      else done();
    });
  }

  // Layout changed (a page shown, a phone rotated): Leaflet measures its box again.
  resize() { this.map.invalidateSize(); }
}

// The viewer's settings (GET /api/config), given by app.js once known: the small maps of
// the ticket and review pages take their basemap from them.
let viewerConfig = {};
export function setViewerConfig(config) { viewerConfig = config || {}; }

// The small map beside a ticket (ticket page, review): the river and the tickets given, the
// highlighted one close up. Called once the container is on the page (Leaflet measures it).
// The signature of the former SVG map, so its callers are unchanged; size comes from CSS.
const small = new Set(); // the small maps made here: the review page makes one per ticket
export function drawMap(container, { network, tickets = [], highlight = null, config = null }) {
  for (const old of small) { // a map whose page is gone lets go of its listeners and tiles
    if (!old.el.isConnected || old.el === container) { old.map.remove(); small.delete(old); }
  }
  const m = new HeyanMap(container, { config: config || viewerConfig, compact: true });
  small.add(m);
  m.network = network;
  m.tickets = tickets;
  m.highlight = highlight;
  m.redraw();
  return m;
}
