// 考核: per segment and per chief, every one of them listed (zeros too), with one total row
// each table adds up to; the date range applies to the workflow time the user picks; charts
// of weekly finds/closures, finds per category and overdue per chief (Apache ECharts,
// vendored, loaded only here); the same tables as XLSX.
import { get, query } from "../api.js";
import { h, toast } from "../dom.js";
import { category, errorText, levelName, t, tf } from "../i18n.js";

const FIELDS = ["found_at", "dispatched_at", "closed_at"];
const pct = (v) => (v == null ? "—" : `${(100 * v).toFixed(1)}%`);
const num = (v, d = 1) => (v == null ? "—" : v.toFixed(d));
let echartsModule = null;
const echarts = () => (echartsModule ||= import("../../vendor/echarts/echarts.esm.min.js"));

// The figure columns shared by both tables: header key, value.
const FIGURES = [
  ["assess.found", (r) => r.found], ["assess.dispatched", (r) => r.dispatched], ["assess.resolved", (r) => r.closed],
  ["assess.rate", (r) => pct(r.closure_rate)], ["assess.due", (r) => r.due], ["assess.on_time", (r) => r.on_time],
  ["assess.on_time_rate", (r) => pct(r.on_time_rate)], ["assess.overdue", (r) => r.overdue],
  ["assess.open_overdue", (r) => r.open_overdue], ["assess.hours", (r) => num(r.avg_handling_hours)],
];

function figureTable(id, lead, rows, total) {
  const cols = [...lead, ...FIGURES];
  const tr = (r, cls) => h("tr", { class: cls, "data-key": r.key ?? "" }, cols.map(([, get]) => h("td", {}, get(r))));
  return h("div", { class: "table-scroll" },
    h("table", { id, class: "assess-table" },
      h("thead", {}, h("tr", {}, cols.map(([key]) => h("th", {}, t(key))))),
      h("tbody", {}, rows.map((r) => tr(r))),
      h("tfoot", {}, tr({ ...total, key: "total" }, "total-row"))));
}

export async function render(main) {
  const field = h("select", { id: "assess-field" }, FIELDS.map((f) => h("option", { value: f }, t(`assess.field.${f}`))));
  const from = h("input", { type: "date", id: "assess-from" });
  const to = h("input", { type: "date", id: "assess-to" });
  const exportLink = h("a", { id: "assess-export", class: "button-link", download: "" }, t("assess.export"));
  const basis = h("p", { id: "assess-basis", class: "basis" });
  const out = h("div", { id: "assessment" });
  let charts = [];
  const onResize = () => charts.forEach((c) => c.resize());
  window.addEventListener("resize", onResize);

  const params = () => ({ date_field: field.value, date_from: from.value, date_to: to.value });

  async function refresh() {
    const a = await get(`/api/stats/assessment${query(params())}`);
    exportLink.href = `/api/stats/assessment.xlsx${query(params())}`;
    basis.textContent = tf("assess.basis", { field: t(`assess.field.${a.date_field}`),
      from: a.date_from || t("assess.any"), to: a.date_to || t("assess.any") });
    const segName = (r) => (r.key === "total" ? t("assess.total") : r.key == null ? t("assess.noseg") : r.name || r.key);
    const chiefName = (r) => (r.key === "total" ? t("assess.total") : r.key == null ? t("assess.undispatched") : r.name || r.key);
    charts.forEach((c) => c.dispose());
    charts = [];
    out.innerHTML = "";
    const weekly = h("div", { class: "chart", id: "chart-weekly" });
    const byCat = h("div", { class: "chart", id: "chart-category" });
    const overdue = h("div", { class: "chart", id: "chart-overdue" });
    out.append(
      h("div", { class: "kpis", id: "assess-kpis" },
        kpi(t("assess.found"), a.total.found), kpi(t("assess.rate"), pct(a.total.closure_rate)),
        kpi(t("assess.on_time_rate"), pct(a.total.on_time_rate)), kpi(t("assess.per_km"), num(a.total.finds_per_km, 2)),
        kpi(t("assess.per_flight"), num(a.finds_per_flight, 2)), kpi(t("assess.flights"), a.flights)),
      h("div", { class: "charts" },
        h("figure", {}, h("figcaption", {}, t("assess.chart.weekly")), weekly),
        h("figure", {}, h("figcaption", {}, t("assess.chart.category")), byCat),
        h("figure", {}, h("figcaption", {}, t("assess.chart.overdue")), overdue)),
      h("h2", {}, t("assess.segment")),
      figureTable("assess-segments", [["assess.seg", segName], ["assess.river", (r) => r.river || "—"],
                                      ["assess.length", (r) => num(r.length_km, 2)], ["assess.per_km", (r) => num(r.finds_per_km, 2)]],
                  a.by_segment, a.total),
      h("h2", {}, t("assess.chief")),
      figureTable("assess-chiefs", [["assess.chief_name", chiefName], ["assess.level", (r) => (r.level ? levelName(r.level) : "—")]],
                  a.by_chief, a.total),
      h("p", { class: "muted help" }, t("assess.help")));
    const ec = await echarts();
    charts = [
      chart(ec, weekly, weeklyOption(a)), chart(ec, byCat, categoryOption(a)), chart(ec, overdue, overdueOption(a, chiefName)),
    ];
    out.dataset.ready = "1";
  }

  main.innerHTML = "";
  main.append(h("h1", {}, t("assess.title")),
    h("div", { class: "toolbar" }, h("label", {}, t("assess.field"), field), h("label", {}, t("assess.from"), from),
      h("label", {}, t("assess.to"), to), h("button", { id: "assess-apply", onclick: () => refresh().catch((e) => toast(errorText(e), true)) }, t("assess.apply")),
      exportLink),
    basis, out);
  field.addEventListener("change", () => refresh().catch((e) => toast(errorText(e), true)));
  await refresh();
  return () => { window.removeEventListener("resize", onResize); charts.forEach((c) => c.dispose()); };
}

function kpi(label, value) {
  return h("div", { class: "kpi" }, h("span", { class: "muted" }, label), h("b", {}, String(value)));
}

function chart(ec, el, option) {
  const c = ec.init(el, null, { renderer: "canvas" });
  // Tooltips drawn on the canvas (richText), not as HTML with inline styles the CSP refuses.
  c.setOption({ animation: false, tooltip: { renderMode: "richText" }, textStyle: { fontFamily: "system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif" },
                grid: { left: 48, right: 16, top: 36, bottom: 40, containLabel: true }, ...option });
  return c;
}

const catName = (w) => category(w.category, w.category_zh);

// Every Monday from the first week with data to the last (quiet weeks are zeros, not gaps),
// at most three years of them.
function allWeeks(weekly) {
  const have = [...new Set(weekly.map((w) => w.week))].sort();
  if (have.length < 2) return have;
  const out = [];
  const end = Date.parse(`${have[have.length - 1]}T00:00:00Z`);
  for (let d = Date.parse(`${have[0]}T00:00:00Z`); d <= end && out.length < 157; d += 7 * 86400000) {
    out.push(new Date(d).toISOString().slice(0, 10));
  }
  return out.length < 157 ? out : have;
}

function weeklyOption(a) {
  const weeks = allWeeks(a.weekly);
  const oneYear = weeks.length && weeks[0].slice(0, 4) === weeks[weeks.length - 1].slice(0, 4);
  const cats = [...new Set(a.weekly.map(catName))];
  const value = (c, week, key) => a.weekly.filter((w) => w.week === week && catName(w) === c).reduce((s, w) => s + w[key], 0);
  return {
    legend: { top: 0, type: "scroll" }, tooltip: { trigger: "axis", renderMode: "richText" },
    xAxis: { type: "category", data: weeks.map((w) => (oneYear ? w.slice(5) : w)), name: t("assess.week") },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      ...cats.map((c) => ({ name: `${c}·${t("assess.found_series")}`, type: "bar", stack: "found", data: weeks.map((w) => value(c, w, "found")) })),
      { name: t("assess.closed_series"), type: "line", data: weeks.map((w) => cats.reduce((s, c) => s + value(c, w, "closed"), 0)) },
    ],
  };
}

function categoryOption(a) {
  const cats = [...new Set(a.weekly.map(catName))];
  const sum = (c, key) => a.weekly.filter((w) => catName(w) === c).reduce((s, w) => s + w[key], 0);
  return {
    legend: { top: 0 }, tooltip: { trigger: "axis", renderMode: "richText" },
    xAxis: { type: "category", data: cats }, yAxis: { type: "value", minInterval: 1 },
    series: [{ name: t("assess.found_series"), type: "bar", data: cats.map((c) => sum(c, "found")) },
             { name: t("assess.closed_series"), type: "bar", data: cats.map((c) => sum(c, "closed")) }],
  };
}

function overdueOption(a, chiefName) {
  const rows = a.by_chief.filter((r) => r.key != null);
  return {
    legend: { top: 0 }, tooltip: { trigger: "axis", renderMode: "richText" },
    xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: rows.map(chiefName), inverse: true },
    series: [{ name: t("assess.overdue"), type: "bar", data: rows.map((r) => r.overdue), itemStyle: { color: "#d98a00" } },
             { name: t("assess.open_overdue"), type: "bar", data: rows.map((r) => r.open_overdue), itemStyle: { color: "#c0392b" } }],
  };
}
