// 河网管理 (admin): upload the river network (GeoJSON, docs/rivers.md); a refused file lists
// every problem per feature — which feature (number, name, id), which field, why — in the
// user's language from the server's codes (pipeline.geo.rivers_problems); the versions
// and the segments in force with their chiefs.
import { get, post } from "../api.js";
import { h, table } from "../dom.js";
import { errorText, fmtTime, levelName, t, tf } from "../i18n.js";

const LEVELS = ["county", "township", "village"];
const known = (k) => t(k) !== k;

// The field of a problem: its name when we have one ("properties.chiefs.village.phone" ->
// the nearest named prefix), else as written in the file (the office's own field name).
function fieldName(field) {
  if (!field) return "";
  const parts = field.split(".");
  for (let n = parts.length; n > 0; n -= 1) {
    const k = `fld.${parts.slice(0, n).join(".")}`;
    if (known(k)) return n === parts.length ? t(k) : `${t(k)}（${parts.slice(n).join(".")}）`;
  }
  return field;
}

function problemItem(p) {
  const where = p.index == null ? t("rivers.whole") : tf("rivers.feature", { i: p.index + 1 });
  const kind = p.kind && known(`kind.${p.kind}`) ? t(`kind.${p.kind}`) : "";
  const who = [p.name, p.feature_id && p.feature_id !== p.name ? p.feature_id : null].filter(Boolean).join(" / ");
  const reason = known(`rp.${p.code}`) ? t(`rp.${p.code}`) : t("rp.other");
  return h("li", { class: "problem", "data-index": p.index ?? "", "data-code": p.code },
    h("b", {}, where), who ? `（${[kind, who].filter(Boolean).join(" ")}）` : kind ? `（${kind}）` : "",
    "：", p.field ? h("span", { class: "field" }, tf("rivers.field", { f: fieldName(p.field) })) : "", h("span", { class: "reason" }, reason));
}

export async function render(main) {
  const file = h("input", { type: "file", id: "rivers-file", accept: ".geojson,.json,application/geo+json,application/json" });
  const result = h("div", { id: "rivers-result", role: "status" });
  const versions = h("div", { id: "rivers-versions" });
  const segs = h("div", { id: "rivers-segments" });
  const form = h("form", { class: "card", id: "rivers-form" }, h("h2", {}, t("rivers.upload")),
    h("label", {}, t("rivers.pick"), file), h("button", { type: "submit", class: "primary" }, t("rivers.submit")), result);

  const say = (cls, ...content) => { result.innerHTML = ""; result.className = cls; result.append(...content); };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!file.files.length) { say("error", t("rivers.nofile")); return; }
    let data;
    try { data = JSON.parse(await file.files[0].text()); } catch { say("error", t("rivers.notjson")); return; }
    try {
      const v = await post("/api/rivers", data);
      say("ok", h("p", {}, tf("rivers.ok", { v: v.version, n: v.n_segments })),
        v.warnings.length ? h("p", { class: "muted" }, tf("rivers.warnings", { n: v.warnings.length })) : "");
      await refresh();
    } catch (ex) {
      const problems = ex.body?.problems;
      if (!problems) { say("error", errorText(ex)); return; }
      say("error", h("p", {}, tf("rivers.bad", { n: problems.length })),
        h("ul", { id: "rivers-problems" }, problems.map(problemItem)));
    }
  });

  async function refresh() {
    const rows = await get("/api/rivers");
    versions.innerHTML = "";
    versions.append(h("h2", {}, t("rivers.versions")), rows.length ? table(
      [t("rivers.col.version"), t("rivers.col.name"), t("rivers.col.segments"), t("rivers.col.by"), t("rivers.col.at"), t("rivers.col.state")],
      rows.map((r) => ({ attrs: { "data-version": r.version },
        cells: [r.version, r.name || "—", r.n_segments, h("span", { class: "username" }, r.created_by), fmtTime(r.created_at),
                r.active ? h("b", {}, t("rivers.active")) : t("rivers.old")] }))) : h("p", { class: "muted" }, t("home.none")));
    segs.innerHTML = "";
    if (!rows.some((r) => r.active)) return;
    const current = await get("/api/rivers/current/segments");
    segs.append(h("h2", {}, t("rivers.segments")), h("div", { class: "scroll" }, table(
      [t("rivers.col.segment"), ...LEVELS.map(levelName)],
      current.map((s) => ({ attrs: { "data-segment": s.id },
        cells: [[s.river, s.name].filter(Boolean).join(" · ") || s.id,
                ...LEVELS.map((lv) => { const c = (s.chiefs || {})[lv]; return c ? `${c.name}${c.phone ? ` ${c.phone}` : ""}` : "—"; })] })))));
  }

  main.innerHTML = "";
  main.append(h("h1", {}, t("rivers.title")), form, h("div", { class: "card" }, versions), h("div", { class: "card" }, segs));
  await refresh();
}
