// 模型 (#/models): which detector the server runs, adaptation jobs on a site's labels with
// their progress, each finished job's base-vs-new table per class, 启用此模型 and 回退.
// The server decides everything; the page polls a running job every two seconds.
import { get, post } from "../api.js";
import { h, table, toast } from "../dom.js";
import { className, errorText, fmtTime, getLang, t } from "../i18n.js";
import { can } from "../roles.js";

const POLL_MS = 2000;

export async function render(main, _arg, ctx) {
  const mayAdmin = can(ctx.session.user, "models.admin");
  let timer = null;
  let gone = false;

  async function show() {
    const [models, jobs, scopes] = await Promise.all([get("/api/models"), get("/api/models/jobs"),
      get("/api/models/scopes")]);
    if (gone) return;
    main.innerHTML = "";
    const f = models.in_force;
    const byModel = Object.fromEntries(models.models.map((m) => [m.sha256, m]));
    main.append(h("h1", {}, t("models.title")),
      h("section", { class: "card", id: "models-in-force", "data-sha": f.sha256 || "" },
        h("b", {}, t("models.in_force")), " ", f.name, " ", f.sha256 ? h("code", { title: f.sha256 }, f.sha256.slice(0, 12)) : "",
        " ", h("span", { class: "muted" }, f.site_model ? t("models.site_model") : t("models.configured")),
        mayAdmin && models.may_roll_back ? h("button", { id: "btn-rollback", class: "danger", onclick: () => act(
          () => post("/api/models/rollback", { scope: "all" }), t("models.rolled_back")) }, t("models.rollback")) : "",
        models.history.length ? h("ol", { class: "muted", id: "models-history" }, models.history.slice(0, 5).map((a) =>
          h("li", {}, `${fmtTime(a.at)} ${a.actor} ${t(`models.action.${a.action}`)} → ${a.model_sha256 ? (byModel[a.model_sha256]?.name || a.model_sha256.slice(0, 12)) : t("models.configured")}`))) : ""));

    const boxes = models.targets.filter((x) => x.scope !== "all");
    if (boxes.length) {
      main.append(h("section", { class: "card", id: "models-boxes" }, h("h3", {}, t("models.boxes")),
        table([t("models.box"), t("models.in_force")], boxes.map((b) => ({ attrs: { "data-scope": b.scope, "data-sha": b.sha256 || "" },
          cells: [scopeName(b.scope), [b.site_model ? `${b.name} ` : t("models.box_own"), b.sha256 ? h("code", {}, b.sha256.slice(0, 12)) : "",
            mayAdmin && b.site_model ? h("button", { class: "danger", "data-rollback": b.scope, onclick: () => act(
              () => post("/api/models/rollback", { scope: b.scope }), t("models.rolled_back")) }, t("models.rollback")) : ""]] })))));
    }

    if (mayAdmin) {
      const scope = h("select", { id: "job-scope" }, scopes.items.map((s) =>
        h("option", { value: s.scope }, `${scopeName(s.scope)}（${s.frames} ${t("models.frames")}）`)));
      const minutes = h("input", { id: "job-minutes", type: "number", min: "1", max: "120", value: "20", size: "4" });
      main.append(h("section", { class: "card" }, h("h3", {}, t("models.new_job")),
        scopes.items.length ? h("div", { class: "toolbar" },
          h("label", {}, t("models.scope"), scope), h("label", {}, t("models.minutes"), minutes),
          h("button", { class: "primary", id: "btn-start-job", onclick: () => act(
            () => post("/api/models/jobs", { scope: scope.value, minutes: Number(minutes.value) || undefined }), t("models.started")) },
            t("models.start"))) : h("p", { class: "muted" }, t("models.no_labels"))));
    }

    main.append(h("h2", {}, t("models.jobs")));
    if (!jobs.items.length) main.append(h("p", { class: "muted" }, t("models.no_jobs")));
    for (const j of jobs.items) main.append(jobCard(j, byModel, f, mayAdmin, models.targets));
    const running = jobs.items.some((j) => j.state === "queued" || j.state === "running");
    clearTimeout(timer);
    if (running) timer = setTimeout(() => show().catch((e) => toast(errorText(e), true)), POLL_MS);
  }

  async function act(fn, done) {
    try { await fn(); toast(done); await show(); } catch (e) { toast(errorText(e), true); }
  }

  function jobCard(j, byModel, f, admin, targets) {
    const card = h("section", { class: "card job", "data-job": j.id, "data-state": j.state },
      h("b", {}, `#${j.id} ${scopeName(j.scope)}`), " ",
      h("span", { class: `job-state job-${j.state}` }, t(`job.${j.state}`)), " ",
      h("span", { class: "muted" }, `${j.created_by} · ${fmtTime(j.created_at)} · ${t("models.base")} ${j.base_name || "—"}`));
    if (j.state === "running" || j.state === "queued") {
      card.append(h("div", {}, h("progress", { max: "1", value: String(j.progress) }),
        ` ${Math.round(j.progress * 100)}% · ${j.stage ? t(`models.stage.${j.stage}`) : ""} · ${t("models.budget")} ${j.minutes} ${t("models.min")}`));
    }
    // The server's reason is English: shown as is in English, behind a hover in Chinese.
    if (j.state === "failed") card.append(h("p", { class: "error", title: j.error || "" }, t("models.failed"), " ",
      h("span", { class: "muted" }, getLang() === "en" ? j.error || "" : t("models.failed_hint"))));
    if (j.state === "done" && j.result) {
      const r = j.result;
      const cell = (v) => (v == null ? "—" : v.toFixed(3));
      const better = (a, b) => (a != null && b != null && b > a ? "up" : a != null && b != null && b < a ? "down" : "");
      card.append(h("p", { class: "muted" }, t("models.summary").replace("{train}", r.train_frames).replace("{hold}", r.holdout_frames)
        .replace("{chips}", r.train_chips).replace("{min}", r.minutes)),
      table([t("models.class"), t("models.instances"), t("models.base_ap"), t("models.new_ap"), t("models.base_rec"), t("models.new_rec")],
        // Classes with no object in the held-back frames say nothing: left out, as `heyan adapt` does.
        r.per_class.filter((c) => c.class === "all" || c.instances > 0).map((c) => ({ attrs: { "data-class": c.class, class: better(c.base_ap50, c.new_ap50) },
          cells: [c.class === "all" ? t("models.all_classes") : className(c.class), c.instances, cell(c.base_ap50), cell(c.new_ap50),
                  cell(c.base_recall), cell(c.new_recall)] }))),
      h("p", {}, r.better ? h("span", { class: "good" }, t("models.better")) : h("span", { class: "error" }, t("models.not_better"))));
      const m = byModel[j.new_model_sha256];
      if (m && admin) {
        const inForce = f.sha256 === m.sha256 && f.site_model;
        // Where to switch it on: the server's flights (全部点位) or one edge box.
        const where = h("select", { class: "activate-scope" }, targets.map((x) => h("option", { value: x.scope }, scopeName(x.scope))));
        card.append(inForce ? h("p", { class: "good", id: `in-force-${j.id}` }, t("models.now_in_force")) : "",
          h("div", { class: "buttons" }, where, h("button", { class: "primary", "data-activate": m.sha256, onclick: () => act(
            () => post(`/api/models/${m.sha256}/activate`, { scope: where.value }), t("models.activated")) }, t("models.activate"))));
      }
    }
    return card;
  }

  await show();
  return () => { gone = true; clearTimeout(timer); };
}

function scopeName(scope) {
  if (scope === "all") return t("models.scope.all");
  const [kind, ...rest] = scope.split(":");
  return `${t(`models.scope.${kind}`)} ${rest.join(":")}`;
}
