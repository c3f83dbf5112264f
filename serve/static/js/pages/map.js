// Tickets over the river network, filtered by state, category and 航拍任务; the export links
// carry the same filter, so what is on the map is what lands in the file. A chosen flight's
// photos are laid on their footprints under the tickets (the basemap that is always there).
import { get, query } from "../api.js";
import { h } from "../dom.js";
import { STATES, category, stateName, t } from "../i18n.js";
import { HeyanMap } from "../map.js";
import { network } from "./common.js";

export async function render(main, _arg, ctx) {
  const net = await network();
  const mayFlights = (ctx.session.user.permissions || []).includes("flights.read");
  const all = (await get("/api/tickets?limit=500")).items;
  const flights = mayFlights ? (await get("/api/flights?limit=100")).items.filter((f) => f.job?.state === "done") : [];
  const cats = [...new Map(all.map((x) => [x.category, x.category_zh])).entries()].filter(([c]) => c);
  const stateSel = h("select", { id: "filter-state" }, h("option", { value: "" }, t("map.all")),
                     STATES.map((s) => h("option", { value: s }, stateName(s))));
  const catSel = h("select", { id: "filter-category" }, h("option", { value: "" }, t("map.all")),
                   cats.map(([c, zh]) => h("option", { value: c }, category(c, zh))));
  const flightSel = h("select", { id: "filter-flight" }, h("option", { value: "" }, t("map.all")),
                      flights.map((f) => h("option", { value: f.id }, f.name)));
  const photosBox = h("input", { type: "checkbox", id: "show-photos", checked: true });
  const mapBox = h("div", { class: "bigmap", id: "map" });
  const count = h("span", { id: "map-count" });
  const exports = h("span", { class: "exports", id: "exports" });

  main.innerHTML = "";
  main.append(h("h1", {}, t("map.title")),
    h("div", { class: "toolbar" }, h("label", {}, t("map.filter.state"), stateSel), h("label", {}, t("map.filter.category"), catSel),
      mayFlights ? h("label", {}, t("map.filter.flight"), flightSel) : "",
      mayFlights ? h("label", { class: "check" }, photosBox, t("map.photos")) : "",
      count, exports), mapBox);
  const map = new HeyanMap(mapBox, { config: ctx.session.config, flight: mayFlights });
  map.network = net;
  const detail = new Map(); // flight id -> its detail (photos on the ground)

  async function photos() {
    // The chosen flight, else the latest processed one: there is always something under the tickets.
    const id = flightSel.value || flights[0]?.id;
    if (!photosBox.checked || !id) return null;
    if (!detail.has(id)) detail.set(id, await get(`/api/flights/${encodeURIComponent(id)}`));
    return detail.get(id);
  }

  async function refresh() {
    const filter = { state: stateSel.value, category: catSel.value, flight_id: flightSel.value };
    const items = (await get(`/api/tickets${query({ ...filter, limit: 500 })}`)).items;
    count.textContent = `${items.length} ${t("map.count")}`;
    map.flight = mayFlights ? await photos() : null;
    map.tickets = items;
    map.fitted = false;
    map.redraw();
    const fq = query(filter);
    exports.innerHTML = "";
    exports.append(`${t("map.export")}: `, ...["geojson", "kml", "xlsx"].flatMap((f) =>
      [h("a", { href: `/api/exports/tickets.${f}${fq}`, download: `tickets.${f}`, "data-format": f }, f.toUpperCase()), " "]));
  }
  for (const el of [stateSel, catSel, flightSel, photosBox]) el.addEventListener("change", refresh);
  await refresh();
  const onResize = () => map.resize();
  window.addEventListener("resize", onResize);
  return () => { window.removeEventListener("resize", onResize); map.map.remove(); };
}
