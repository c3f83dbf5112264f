// Pieces several pages share: the river network (fetched once), a photo with its
// detection box, and the ticket facts table.
import { get } from "../api.js";
import { h } from "../dom.js";
import { category, className, fmtTime, levelName, ruleName, stateName, t } from "../i18n.js";

let networkPromise = null;
export function network() {
  if (!networkPromise) networkPromise = get("/api/rivers/current").catch(() => null);
  return networkPromise;
}

// The photo scaled to its box, the detection drawn over it in the photo's own pixels,
// with `label` (class and score) on the box when given.
export function photoWithBox(ev, label) {
  const wrap = h("div", { class: "photo" });
  if (!ev || !ev.photo_url) return wrap;
  const img = h("img", { src: ev.photo_url, alt: ev.image_name || "", class: "evidence-photo" });
  wrap.append(img);
  if (ev.box) {
    const box = h("div", { class: "box" }, label ? h("span", { class: "box-label" }, label) : null);
    wrap.append(box);
    const place = () => {
      const [x1, y1, x2, y2] = ev.box, W = img.naturalWidth, H = img.naturalHeight;
      if (!W || !H) return;
      Object.assign(box.style, { left: `${(100 * x1) / W}%`, top: `${(100 * y1) / H}%`,
                                 width: `${(100 * (x2 - x1)) / W}%`, height: `${(100 * (y2 - y1)) / H}%` });
    };
    img.complete ? place() : img.addEventListener("load", place);
  }
  return wrap;
}

// A zoomed view of the box: the pipeline's evidence crop when there is one.
export function zoomed(ev) {
  if (ev?.crop_url) return h("img", { src: ev.crop_url, class: "crop", alt: t("review.crop") });
  return h("div", { class: "crop empty" });
}

export function facts(tk) {
  const bank = tk.bank ? t(`bank.${tk.bank}`) : "—";
  const rows = [
    [t("ticket.category"), category(tk.category, tk.category_zh)],
    [t("ticket.class"), className(tk.class_name)],
    [t("ticket.state"), h("span", { class: `state state-${tk.state}`, "data-state": tk.state }, stateName(tk.state)),
     tk.overdue ? h("span", { class: "overdue" }, ` ${t("ticket.overdue")}`) : ""],
    [t("ticket.score"), tk.score?.toFixed(2)],
    [t("ticket.segment"), [tk.river, tk.segment_name].filter(Boolean).join(" · ") || "—"],
    [t("ticket.chainage"), tk.chainage_km != null ? `${tk.chainage_km.toFixed(2)} km · ${bank}` : "—"],
    [t("ticket.place"), `${tk.lat.toFixed(6)}, ${tk.lon.toFixed(6)} (±${tk.error_m.toFixed(1)} m)`],
    [t("ticket.chief"), tk.chief_name ? `${tk.chief_name}（${levelName(tk.chief_level)}）${chiefPhone(tk)}` : "—"],
    [t("ticket.deadline"), fmtTime(tk.deadline)],
    [t("ticket.rule"), ruleName(tk.rule)],
  ];
  return h("dl", { class: "facts" }, rows.map(([k, ...v]) => [h("dt", {}, k), h("dd", {}, ...v)]));
}

function chiefPhone(tk) {
  const phone = tk.chiefs?.[tk.chief_level]?.phone;
  return phone ? ` ${t("jb.phone")} ${phone}` : "";
}
