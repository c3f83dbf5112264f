// A river chief's own tickets to rectify (the server shows a chief only his segments'
// tickets): the dispatched ones (整改中), soonest deadline first. Confirmed tickets not yet
// assigned are the office's queue, not his; rectified and closed ones are in the ledger.
import { get } from "../api.js";
import { h, table } from "../dom.js";
import { category, fmtTime, stateName, t } from "../i18n.js";

export async function render(main, _arg, ctx) {
  const items = (await get("/api/tickets?state=dispatched&limit=500&sort=deadline")).items;
  main.innerHTML = "";
  main.append(h("h1", {}, t("chief.title")));
  if (!items.length) { main.append(h("p", { class: "muted" }, t("chief.none"))); return; }
  main.append(table([t("ticket.title"), t("ticket.category"), t("ticket.segment"), t("ticket.state"), t("ticket.deadline")],
    items.map((x) => ({ attrs: { "data-ticket": x.id, class: x.overdue ? "overdue-row" : "" },
      cells: [h("a", { href: `#/ticket/${encodeURIComponent(x.id)}` }, x.id), category(x.category, x.category_zh),
              x.segment_name || "—", h("span", { class: `state state-${x.state}` }, stateName(x.state)),
              [fmtTime(x.deadline), x.overdue ? h("b", { class: "overdue" }, ` ${t("ticket.overdue")}`) : ""]] }))));
}
