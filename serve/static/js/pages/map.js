// Tickets over the river network, filtered by state and category; the export links carry
// the same filter, so what is on the map is what lands in the file.
import { get, query } from "../api.js";
import { h } from "../dom.js";
import { STATES, category, stateName, t } from "../i18n.js";
import { drawMap, legend } from "../map.js";
import { network } from "./common.js";

export async function render(main, _arg, ctx) {
  const net = await network();
  const filter = { state: "", category: "" };
  const all = (await get("/api/tickets?limit=500")).items;
  const cats = [...new Map(all.map((x) => [x.category, x.category_zh])).entries()].filter(([c]) => c);
  const stateSel = h("select", { id: "filter-state" }, h("option", { value: "" }, t("map.all")),
                     STATES.map((s) => h("option", { value: s }, stateName(s))));
  const catSel = h("select", { id: "filter-category" }, h("option", { value: "" }, t("map.all")),
                   cats.map(([c, zh]) => h("option", { value: c }, category(c, zh))));
  const mapBox = h("div", { class: "bigmap", id: "map" });
  const count = h("span", { id: "map-count" });
  const exports = h("span", { class: "exports", id: "exports" });
  const leg = h("div", { class: "legend" });
  legend(leg);

  async function refresh() {
    filter.state = stateSel.value;
    filter.category = catSel.value;
    const q = query({ ...filter, limit: 500 });
    const items = (await get(`/api/tickets${q}`)).items;
    count.textContent = `${items.length} ${t("map.count")}`;
    drawMap(mapBox, { network: net, tickets: items, tileUrl: ctx.session.config.tile_url, width: 1000, height: 560,
                      onPick: (tk) => ctx.go(`ticket/${encodeURIComponent(tk.id)}`) });
    const fq = query(filter);
    exports.innerHTML = "";
    exports.append(`${t("map.export")}: `, ...["geojson", "kml", "xlsx"].flatMap((f) =>
      [h("a", { href: `/api/exports/tickets.${f}${fq}`, download: `tickets.${f}`, "data-format": f }, f.toUpperCase()), " "]));
  }
  stateSel.addEventListener("change", refresh);
  catSel.addEventListener("change", refresh);
  main.innerHTML = "";
  main.append(h("h1", {}, t("map.title")),
    h("div", { class: "toolbar" }, h("label", {}, t("map.filter.state"), stateSel), h("label", {}, t("map.filter.category"), catSel),
      count, exports), mapBox, leg);
  await refresh();
}
