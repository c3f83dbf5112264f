// The assessment figures offices report: per segment and per chief.
import { get, query } from "../api.js";
import { h, table } from "../dom.js";
import { t } from "../i18n.js";

const pct = (v) => (v == null ? "—" : `${(100 * v).toFixed(1)}%`);
const num = (v) => (v == null ? "—" : v.toFixed(1));

export async function render(main) {
  const from = h("input", { type: "date", id: "assess-from" });
  const to = h("input", { type: "date", id: "assess-to" });
  const out = h("div", { id: "assessment" });
  const rows = (list) => list.map((r) => ({ cells: [r.name ? `${r.name}` : r.key, r.found, r.resolved, pct(r.resolution_rate),
                                                     num(r.avg_handling_hours), r.overdue, r.open_overdue] }));
  const head = [t("assess.key"), t("assess.found"), t("assess.resolved"), t("assess.rate"), t("assess.hours"),
                t("assess.overdue"), t("assess.open_overdue")];
  async function refresh() {
    const a = await get(`/api/stats/assessment${query({ date_from: from.value, date_to: to.value })}`);
    out.innerHTML = "";
    out.append(h("h2", {}, t("assess.segment")), table(head, rows(a.by_segment)),
               h("h2", {}, t("assess.chief")), table(head, rows(a.by_chief)));
  }
  main.innerHTML = "";
  main.append(h("h1", {}, t("assess.title")),
    h("div", { class: "toolbar" }, h("label", {}, t("assess.from"), from), h("label", {}, t("assess.to"), to),
      h("button", { onclick: refresh }, t("assess.apply"))), out);
  await refresh();
}
