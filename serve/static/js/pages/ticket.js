// One ticket: facts, the map, the evidence timeline, the audit log, and the actions the
// server says this user may take now (allowed_transitions) — the page never guesses them.
import { get, post, upload } from "../api.js";
import { h, table, toast } from "../dom.js";
import { errorText, fmtTime, stateName, t } from "../i18n.js";
import { drawMap } from "../map.js";
import { facts, network, photoWithBox } from "./common.js";

export async function render(main, id, ctx) {
  const d = await get(`/api/tickets/${encodeURIComponent(id)}`);
  const net = await network();
  const comment = h("textarea", { id: "comment", rows: 2, placeholder: t("ticket.comment") });
  const actions = h("div", { class: "buttons", id: "actions" });
  for (const to of d.allowed_transitions.filter((x) => x !== "rectified")) {
    actions.append(h("button", { "data-to": to, class: to === "rejected" ? "danger" : "primary", onclick: async () => {
      try {
        await post(`/api/tickets/${encodeURIComponent(d.id)}/transition`, { to, comment: comment.value || null });
        toast(`${d.id}: ${t(`to.${to}`)}`);
        await render(main, id, ctx);
      } catch (e) { toast(e.message, true); }
    } }, t(`to.${to}`)));
  }
  let rectify = "";
  if (d.allowed_transitions.includes("rectified")) {
    const photo = h("input", { type: "file", id: "rectify-photo", accept: "image/*" });
    rectify = h("form", { class: "card", id: "rectify-form" }, h("h3", {}, t("ticket.rectify")),
      h("label", {}, t("ticket.rectify.photo"), photo), h("button", { type: "submit", class: "primary" }, t("ticket.rectify.submit")));
    rectify.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!photo.files.length) return;
      const fd = new FormData();
      fd.append("photo", photo.files[0], photo.files[0].name);
      if (comment.value) fd.append("comment", comment.value);
      try {
        await upload(`/api/tickets/${encodeURIComponent(d.id)}/rectify`, fd, () => {});
        toast(`${d.id}: ${t("to.rectified")}`);
        await render(main, id, ctx);
      } catch (ex) { toast(errorText(ex), true); }
    });
  }
  const timeline = h("ol", { class: "timeline", id: "evidence" }, d.evidence.map((e) => h("li", { "data-kind": e.kind },
    h("b", {}, t(`ev.${e.kind}`)), " ", fmtTime(e.taken_at || e.created_at), " · ", e.created_by,
    e.flight_id ? ` · ${t("ticket.flight")} ${e.flight_id}` : "", e.comment ? h("div", { class: "muted" }, e.comment) : "",
    e.crop_url ? h("img", { src: e.crop_url, class: "thumb" }) : e.photo_url ? h("img", { src: e.photo_url, class: "thumb" }) : "")));
  const audit = table(["", "", "", ""], d.audit.map((a) => ({ attrs: { "data-to": a.to_state || "" },
    cells: [fmtTime(a.at), a.actor, a.from_state || a.to_state ? `${a.from_state ? stateName(a.from_state) : "∅"} → ${a.to_state ? stateName(a.to_state) : ""}` : a.action, a.comment || ""] })));
  audit.id = "audit";
  const mapBox = h("div", { class: "minimap" });
  const first = d.evidence.find((e) => e.kind === "detection" && e.photo_url);
  main.innerHTML = "";
  main.append(h("h1", {}, `${t("ticket.title")} ${d.id}`, " ", h("a", { href: "#", id: "ticket-back", class: "muted", onclick: (e) => { e.preventDefault(); history.back(); } }, t("ticket.back"))),
    h("div", { class: "review", id: "ticket", "data-state": d.state },
      h("section", { class: "main-photo" }, photoWithBox(first)),
      h("aside", {}, facts(d), h("h3", {}, t("ticket.actions")), comment, actions, rectify, mapBox)),
    h("h2", {}, t("ticket.evidence")), timeline, h("h2", {}, t("ticket.audit")), audit);
  drawMap(mapBox, { network: net, tickets: [d], highlight: d.id, width: 360, height: 220, padding: 10,
                    tileUrl: ctx.session.config.tile_url });
}
