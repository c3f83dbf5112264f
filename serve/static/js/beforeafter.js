// 整改前 / 整改后 side by side for the reviewer: the detection that made the ticket and the
// chief's latest rectification photo, with what the photo's own time and place say
// (pipeline.tickets.proof) and the chief's reason when it was no proof.
import { h } from "./dom.js";
import { fmtTime, t, tf } from "./i18n.js";
import { proofProblemText } from "./proof.js";

export function beforeAfter(d) {
  const rect = d.evidence.filter((e) => e.kind === "rectification");
  if (!rect.length) return "";
  const after = rect[rect.length - 1];
  const before = d.evidence.find((e) => e.kind === "detection" && (e.crop_url || e.photo_url));
  const fig = (cls, title, src, when) => h("figure", { class: cls },
    src ? h("img", { src, alt: title }) : h("div", { class: "crop empty" }),
    h("figcaption", {}, h("b", {}, title), " ", when ? fmtTime(when) : ""));
  const proof = after.proof;
  let verdict = "";
  if (proof) {
    const problems = proof.problems || [];
    verdict = problems.length
      ? h("div", { class: "proof bad", id: "proof-verdict", "data-ok": "0" },
        h("ul", {}, problems.map((p) => h("li", { "data-code": p.code }, proofProblemText(p)))),
        proof.reason ? h("p", { id: "proof-reason" }, h("b", {}, `${t("rectify.reason")}：`), proof.reason) : "")
      : h("p", { class: "proof ok", id: "proof-verdict", "data-ok": "1" },
        proof.distance_m != null ? tf("proof.ok", { d: Math.round(proof.distance_m) }) : t("proof.ok.nodist"));
  }
  return h("section", { class: "before-after", id: "before-after" },
    h("h2", {}, t("ba.title")),
    h("div", { class: "ba-pair" },
      fig("ba-before", t("ba.before"), before && (before.crop_url || before.photo_url), before && (before.taken_at || before.created_at)),
      fig("ba-after", t("ba.after"), after.photo_url, after.taken_at || after.created_at)),
    after.comment ? h("p", { class: "muted" }, after.comment) : "", verdict);
}
