// One ticket: facts, the map, the evidence timeline, the audit log, and the actions the
// server says this user may take now (allowed_transitions) — the page never guesses them.
import { get, post } from "../api.js";
import { dispatchDialog, urgeDialog } from "../dialogs.js";
import { h, table, toast } from "../dom.js";
import { actionName, errorText, fmtTime, levelName, stateName, t } from "../i18n.js";
import { drawMap } from "../map.js";
import { beforeAfter } from "../beforeafter.js";
import { can } from "../roles.js";
import { facts, network, photoWithBox } from "./common.js";

export async function render(main, id, ctx) {
  const d = await get(`/api/tickets/${encodeURIComponent(id)}`);
  const net = await network();
  const comment = h("textarea", { id: "comment", rows: 2, placeholder: t("ticket.comment") });
  const actions = h("div", { class: "buttons", id: "actions" });
  const reload = () => render(main, id, ctx);
  const act = async (fn, done) => {
    try { await fn(); toast(done); await reload(); } catch (e) { toast(errorText(e), true); }
  };
  const path = `/api/tickets/${encodeURIComponent(d.id)}`;
  for (const to of d.allowed_transitions.filter((x) => x !== "rectified")) {
    // Assigning (交办) and sending back (退回整改) go through the dialog: level, person, deadline.
    const back = to === "dispatched" && d.state === "rectified";
    const label = back ? t("to.redispatch") : t(`to.${to}`);
    actions.append(h("button", { "data-to": to, class: to === "rejected" ? "danger" : "primary", onclick: async () => {
      if (to === "dispatched") {
        const choice = await dispatchDialog([d], { back });
        if (!choice) return;
        await act(() => post(`${path}/transition`, { to, ...choice, comment: choice.comment || comment.value || null }),
                  `${d.id}: ${label}`);
        return;
      }
      await act(() => post(`${path}/transition`, { to, comment: comment.value || null }), `${d.id}: ${label}`);
    } }, label));
  }
  if (d.may_urge) {
    actions.append(h("button", { id: "btn-urge", class: "warn", onclick: async () => {
      const choice = await urgeDialog();
      if (choice) await act(() => post(`${path}/urge`, choice), `${d.id}: ${t("urge.done")}`);
    } }, t("to.urge")));
  }
  // 整改 has one form, the phone page's (camera, proof check, reason): a link to it here.
  const rectify = d.allowed_transitions.includes("rectified")
    ? h("a", { class: "button primary", id: "go-rectify", href: `#/rectify/${encodeURIComponent(d.id)}` }, t("ticket.rectify")) : "";
  // The server sends the evidence in time order (photo time, else when it was added).
  const timeline = h("ol", { class: "timeline", id: "evidence" }, d.evidence.map((e) => h("li", { "data-kind": e.kind },
    h("b", {}, t(`ev.${e.kind}`)), " ", h("time", { datetime: e.taken_at || e.created_at }, fmtTime(e.taken_at || e.created_at)), " · ",
    e.created_by === "system" ? t("audit.system") : e.created_by,
    e.flight_id ? ` · ${t("ticket.flight")} ${e.flight_id}` : "",
    // A chief's words with his photo; the server's own notes on sightings are its English log.
    e.kind === "rectification" && e.comment ? h("div", { class: "muted" }, e.comment) : "",
    e.crop_url ? h("img", { src: e.crop_url, class: "thumb" }) : e.photo_url ? h("img", { src: e.photo_url, class: "thumb" }) : "",
    // Hand labels of this photo (missed objects, a wrong class): pages/label.js.
    e.photo_url && e.kind !== "rectification" && can(ctx.session.user, "labels.read")
      ? h("a", { href: `#/label/${e.photo_url.split("/").pop()}`, class: "label-link" }, t("label.open")) : "")));
  const audit = table([t("audit.when"), t("audit.who"), t("audit.what"), t("audit.note")],
    d.audit.map((a) => ({ attrs: { "data-to": a.to_state || "", "data-action": a.action }, cells: [fmtTime(a.at), a.actor === "system" ? t("audit.system") : a.actor, what(a), note(a)] })));
  audit.id = "audit";
  const mapBox = h("div", { class: "minimap" });
  const first = d.evidence.find((e) => e.kind === "detection" && e.photo_url);
  main.innerHTML = "";
  main.append(h("h1", {}, `${t("ticket.title")} ${d.id}`, " ", h("a", { href: "#", id: "ticket-back", class: "muted", onclick: (e) => { e.preventDefault(); history.back(); } }, t("ticket.back"))),
    h("div", { class: "review", id: "ticket", "data-state": d.state },
      h("section", { class: "main-photo" }, photoWithBox(first)),
      h("aside", {}, facts(d), modelLine(d), h("h3", {}, t("ticket.actions")), comment, actions, rectify, mapBox)),
    beforeAfter(d), h("h2", {}, t("ticket.evidence")), timeline, h("h2", {}, t("ticket.audit")), audit);
  drawMap(mapBox, { network: net, tickets: [d], highlight: d.id, width: 360, height: 220, padding: 10,
                    tileUrl: ctx.session.config.tile_url });
}

// An audit entry's action in words: a state change by its states, 交办/退回整改 with the
// chief, 督办 and escalations by name (the server's ids never shown as such).
function what(a) {
  if (a.action === "transition" || (a.action === "created" && a.to_state)) {
    const move = `${a.from_state ? stateName(a.from_state) : "∅"} → ${a.to_state ? stateName(a.to_state) : ""}`;
    if (a.to_state === "dispatched") {
      const verb = a.from_state === "rectified" ? t("to.redispatch") : t("to.dispatched");
      return `${verb}（${move}）`;
    }
    return move;
  }
  return actionName(a.action);
}

function note(a) {
  const x = a.data || {};
  const parts = [];
  if (a.to_state === "dispatched" && x.chief) {
    parts.push(`${levelName(x.chief_level)} ${x.chief}${x.phone ? ` ${t("jb.phone")} ${x.phone}` : ""}`);
    if (x.deadline) parts.push(`${t("jb.deadline")} ${fmtTime(x.deadline)}`);
  } else if (a.action === "escalate" && x.to_chief) {
    parts.push(`${x.from_chief || "—"} → ${levelName(x.level)} ${x.to_chief}`);
  } else if (a.action === "urge" && x.chief) {
    parts.push(`${levelName(x.chief_level)} ${x.chief}${x.overdue ? ` · ${t("ticket.overdue")}` : ""}`);
  } else if (a.action === "overdue" && x.deadline) {
    parts.push(`${t("jb.deadline")} ${fmtTime(x.deadline)}`);
    return parts.join(" · ");  // the server's own comment here is its bilingual log line
  } else if (a.action === "escalate") {
    return "";
  }
  if (x.reject_reason) parts.push(`${t("review.reason")}：${t(`reason.${x.reject_reason}`)}`); // a rejection, or its undo
  if (a.actor === "system" && a.comment) return systemNote(a.comment);
  if (a.comment) parts.push(a.comment);
  return parts.join(" · ");
}

// The server's log lines ("flight F: 中文原因 / English reason", "seen again by flight F"):
// the flight and the Chinese half only.
function systemNote(text) {
  const flight = text.match(/flight ([\w.-]+)/);
  const reason = text.replace(/^flight [\w.-]+:\s*/, "")
    .replace(/\s*\/\s*[A-Za-z][^\u4e00-\u9fff]*$/, "") // the English half at the end
    .replace(/\/[A-Za-z][A-Za-z _-]*/g, ""); // inline glosses: "右岸/right"
  const parts = [flight ? `${t("ticket.flight")} ${flight[1]}` : "", /[\u4e00-\u9fff]/.test(reason) ? reason : ""];
  return parts.filter(Boolean).join(" · ");
}

// Which detector made this ticket (name and the start of its file's sha256): every ticket
// is traceable to its model (issue 14).
function modelLine(d) {
  if (!d.model_name && !d.model_sha256) return "";
  return h("p", { class: "muted", id: "ticket-model", "data-sha": d.model_sha256 || "" }, `${t("ticket.model")}：${d.model_name || "—"}`,
    d.model_sha256 ? h("code", { title: d.model_sha256 }, ` ${d.model_sha256.slice(0, 12)}`) : "");
}
