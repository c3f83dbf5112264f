// 一河一档: without an argument, the rivers and their segments; with a segment id, that
// segment's archive (/api/archive/segments/{id}): chiefs and contacts, the management zone,
// tickets over time, patrols, flights, outfalls (一口一档).
import { get } from "../api.js";
import { h, table } from "../dom.js";
import { category, fmtTime, levelName, stateName, STATES, t, tf } from "../i18n.js";
import { flagText } from "./patrol.js";

const pct = (x) => (x == null ? "—" : `${Math.round(x * 100)}%`);
const km = (m) => `${(m / 1000).toFixed(2)} km`;

async function index(main) {
  const rivers = await get("/api/archive/rivers");
  main.innerHTML = "";
  main.append(h("h1", {}, t("river.title")));
  if (!rivers.length) { main.append(h("p", { class: "muted" }, t("river.none"))); return; }
  main.append(h("div", { id: "river-index" }, rivers.map((r) => h("section", { class: "card" }, h("h2", {}, r.river),
    h("ul", { class: "river-segments" }, r.segments.map((s) => h("li", {},
      h("a", { href: `#/river/${encodeURIComponent(s.id)}`, "data-segment": s.id }, s.name || s.id),
      s.chief ? h("span", { class: "muted" }, ` · ${t("ticket.chief")} ${s.chief}`) : "")))))));
}

function bars(months) {
  const max = Math.max(1, ...months.map((m) => Math.max(m.found, m.closed)));
  const bar = (cls, n) => { const b = h("div", { class: `bar ${cls}`, title: String(n) }); b.style.height = `${(60 * n) / max}px`; return b; };
  return h("div", { class: "month-bars", id: "river-months" }, months.map((m) => h("div", { class: "month", title: m.month },
    bar("found", m.found), bar("closed", m.closed), h("span", {}, m.month.slice(2)))));
}

export async function render(main, segmentId) {
  if (!segmentId) return index(main);
  const a = await get(`/api/archive/segments/${encodeURIComponent(segmentId)}`);
  main.innerHTML = "";
  const chiefs = a.chiefs.length ? table([t("river.level"), t("river.name"), t("jb.phone"), t("river.dept")],
    a.chiefs.map((c) => ({ cells: [levelName(c.level), c.name,
      c.phone ? h("a", { href: `tel:${c.phone}` }, c.phone) : "—", c.department || "—"] }))) : h("p", { class: "muted" }, "—");
  const zones = a.zones.map((z) => h("li", {}, `${t(`river.zone.${z.kind}`)}：${(z.area_m2 / 10000).toFixed(2)} ${t("river.ha")}`,
    h("span", { class: "muted" }, `（${t(`river.src.${z.source}`)}）`)));
  const states = STATES.filter((s) => a.tickets_by_state[s]).map((s) => h("span", { class: `state state-${s}` },
    `${stateName(s)} ${a.tickets_by_state[s]}`));
  const tickets = a.recent_tickets.length ? table([t("ticket.title"), t("ticket.category"), t("ticket.state"), t("ledger.col.found")],
    a.recent_tickets.map((x) => ({ cells: [h("a", { href: `#/ticket/${encodeURIComponent(x.id)}` }, x.id), category(x.category, x.category_zh),
      stateName(x.state), fmtTime(x.found_at)] }))) : h("p", { class: "muted" }, t("ledger.none"));
  const p = a.patrols;
  const patrols = h("div", {}, h("p", { id: "river-patrols" }, tf("river.patrols", { n: p.patrols, km: p.length_km.toFixed(2), cov: pct(p.coverage), bad: p.flagged })),
    a.recent_patrols.length ? table([t("patrol.title"), t("audit.who"), t("patrol.length"), t("patrol.coverage"), t("river.flags")],
      a.recent_patrols.map((x) => ({ cells: [fmtTime(x.started_at), x.username, km(x.length_m), pct(x.coverage),
        x.flags.map(flagText).join("；") || "—"] }))) : "");
  const flights = a.flights.length ? table([t("flights.col.name"), t("flights.col.at"), t("river.detections")],
    a.flights.map((f) => ({ cells: [f.name, fmtTime(f.created_at), String(f.detections)] }))) : h("p", { class: "muted" }, "—");
  const outfalls = a.outfalls.length ? table([t("river.outfall"), t("river.otype"), t("ticket.place"), t("river.cameras"), t("river.events"), t("river.last"), t("river.open")],
    a.outfalls.map((o) => ({ attrs: { "data-outfall": o.id }, cells: [o.name || o.id, t(`river.otype.${o.outfall_type}`),
      `${o.lat.toFixed(6)}, ${o.lon.toFixed(6)}`, o.cameras.join("、") || "—", String(o.events), fmtTime(o.last_inspection_at),
      String(o.open_tickets)] }))) : h("p", { class: "muted" }, "—");
  main.append(h("h1", {}, `${t("river.title")} · ${[a.river, a.name].filter(Boolean).join(" · ")}`, " ",
    h("a", { href: "#/river", class: "muted" }, t("river.all"))),
  h("div", { class: "river-archive", id: "river-archive", "data-segment": a.id },
    h("section", { class: "card" }, h("h2", {}, t("river.basic")),
      h("p", {}, tf("river.length", { km: km(a.length_m) })), h("ul", {}, zones), h("h3", {}, t("river.chiefs")), chiefs),
    h("section", { class: "card" }, h("h2", {}, t("river.tickets")), h("p", { class: "states" }, states), bars(a.tickets_by_month),
      h("p", { class: "muted" }, t("river.legend")), tickets),
    h("section", { class: "card" }, h("h2", {}, t("patrol.title")), patrols),
    h("section", { class: "card" }, h("h2", {}, t("river.outfalls")), outfalls),
    a.flights.length || a.chiefs ? h("section", { class: "card" }, h("h2", {}, t("river.flights")), flights) : ""));
}
