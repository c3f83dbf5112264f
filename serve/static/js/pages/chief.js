// 我的工单 on the chief's phone: one card per dispatched ticket, soonest deadline first
// (the server sorts and counts the days: /api/tasks), with the problem's crop, the segment,
// a navigation link in the datum the chief's map app wants, and one tap to the 整改 form.
import { get } from "../api.js";
import { h } from "../dom.js";
import { category, fmtTime, levelName, t, tf } from "../i18n.js";

const DATUMS = ["gcj02", "wgs84"];
export function datum() {
  const d = localStorage.getItem("heyan.datum");
  return DATUMS.includes(d) ? d : "gcj02"; // Chinese phone map apps (AMap, Tencent) draw GCJ-02
}

// The task's place in the chosen datum, and a link a phone hands to its map app: AMap's URI
// for GCJ-02, the standard geo: URI (WGS-84) otherwise.
export function navigation(x, which = datum()) {
  const gcj = which === "gcj02";
  const lat = gcj ? x.lat_gcj02 : x.lat, lon = gcj ? x.lon_gcj02 : x.lon;
  const name = encodeURIComponent(`${x.segment_name || ""} ${category(x.category, x.category_zh)}`.trim());
  const href = gcj ? `https://uri.amap.com/marker?position=${lon},${lat}&name=${name}&coordinate=gaode&callnative=1`
    : `geo:${lat},${lon}?q=${lat},${lon}(${name})`;
  return { lat, lon, href, label: `${lat.toFixed(6)}, ${lon.toFixed(6)}（${t(`datum.${which}`)}）` };
}

export function countdown(x) {
  if (x.days_left == null) return h("span", { class: "countdown" }, "—");
  if (x.days_left < 0) return h("span", { class: "countdown late", "data-days": x.days_left }, tf("task.overdue", { n: -x.days_left }));
  const cls = x.days_left <= 1 ? "countdown soon" : "countdown";
  return h("span", { class: cls, "data-days": x.days_left }, x.days_left === 0 ? t("task.today") : tf("task.left", { n: x.days_left }));
}

function card(x) {
  const nav = navigation(x);
  const where = [x.river, x.segment_name].filter(Boolean).join(" · ");
  const km = x.chainage_km != null ? ` · ${x.chainage_km.toFixed(2)} km${x.bank ? ` ${t(`bank.${x.bank}`)}` : ""}` : "";
  const img = x.crop_url || x.photo_url;
  return h("article", { class: `task-card${x.overdue ? " overdue" : ""}`, "data-ticket": x.id },
    h("header", {}, h("b", {}, category(x.category, x.category_zh)), countdown(x)),
    x.sent_back ? h("p", { class: "sent-back" }, t("task.sent_back")) : "",
    h("div", { class: "task-body" },
      img ? h("img", { src: img, class: "task-crop", alt: t("review.crop"), loading: "lazy" }) : h("div", { class: "task-crop empty" }),
      h("dl", {},
        h("dt", {}, t("ticket.segment")), h("dd", {}, (where || "—") + km),
        h("dt", {}, t("ticket.deadline")), h("dd", {}, fmtTime(x.deadline)),
        x.escalations ? [h("dt", {}, t("ticket.chief")), h("dd", {}, `${levelName(x.chief_level)} ${x.chief_name || ""}`)] : "",
        x.note ? [h("dt", {}, t("task.note")), h("dd", { class: "task-note" }, x.note)] : "")),
    h("div", { class: "task-actions" },
      h("a", { class: "button primary go-rectify", href: `#/rectify/${encodeURIComponent(x.id)}` }, t("task.rectify")),
      h("a", { class: "button go-nav", href: nav.href, target: "_blank", rel: "noopener", title: nav.label }, t("task.navigate")),
      h("a", { class: "button go-ticket", href: `#/ticket/${encodeURIComponent(x.id)}` }, t("task.detail"))),
    h("p", { class: "muted coords" }, nav.label));
}

export async function render(main) {
  const data = await get("/api/tasks");
  main.innerHTML = "";
  const pick = h("select", { id: "datum", "aria-label": t("datum.title") },
    DATUMS.map((d) => h("option", { value: d, selected: d === datum() }, t(`datum.${d}`))));
  const list = h("div", { class: "task-list", id: "tasks" });
  const draw = () => {
    list.innerHTML = "";
    if (!data.items.length) list.append(h("p", { class: "muted" }, t("chief.none")));
    data.items.forEach((x) => list.append(card(x)));
  };
  pick.addEventListener("change", () => { localStorage.setItem("heyan.datum", pick.value); draw(); });
  const late = data.items.filter((x) => x.days_left != null && x.days_left < 0).length;
  main.append(h("div", { class: "phone-head" }, h("h1", {}, t("chief.title")),
    h("label", { class: "datum" }, t("datum.title"), " ", pick)),
    h("p", { class: "muted", id: "tasks-summary" }, tf("task.summary", { n: data.items.length, late })), list);
  draw();
}
