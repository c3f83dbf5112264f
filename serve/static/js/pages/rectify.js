// 整改 on the phone: the form first (camera, note, submit), the problem below it. The
// server checks the photo's own time and place against the 交办 (pipeline.tickets.proof);
// when it is no proof the page says why and asks for a written reason the reviewer sees.
import { get, upload } from "../api.js";
import { h, toast } from "../dom.js";
import { category, errorText, t } from "../i18n.js";
import { proofProblemText } from "../proof.js";
import { facts, photoWithBox, zoomed } from "./common.js";

export async function render(main, id, ctx) {
  const d = await get(`/api/tickets/${encodeURIComponent(id)}`);
  main.innerHTML = "";
  if (!d.allowed_transitions.includes("rectified")) {
    main.append(h("h1", {}, t("ticket.rectify")), h("p", { class: "muted", id: "rectify-closed" }, t("rectify.not_now")),
      h("a", { href: `#/ticket/${encodeURIComponent(d.id)}` }, t("task.detail")));
    return;
  }
  const photo = h("input", { type: "file", id: "rectify-photo", accept: "image/*", capture: "environment" });
  const preview = h("img", { class: "rectify-preview", alt: "", hidden: true });
  const note = h("textarea", { id: "rectify-comment", rows: 2, placeholder: t("rectify.comment") });
  const problems = h("ul", { id: "proof-problems", class: "proof-problems", hidden: true });
  const reason = h("textarea", { id: "rectify-reason", rows: 3, placeholder: t("rectify.reason.hint") });
  const reasonBox = h("label", { id: "reason-box", class: "reason-box", hidden: true }, t("rectify.reason"), reason);
  const submit = h("button", { type: "submit", class: "primary big" }, t("ticket.rectify.submit"));
  const form = h("form", { class: "card phone-form", id: "rectify-form" },
    h("label", { class: "camera" }, h("span", {}, t("rectify.take")), photo), preview, note, problems, reasonBox, submit);
  let previewUrl = null;
  photo.addEventListener("change", () => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = photo.files.length ? URL.createObjectURL(photo.files[0]) : null;
    preview.hidden = !previewUrl;
    if (previewUrl) preview.src = previewUrl;
    problems.hidden = true; // a new photo: the old one's problems no longer apply
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!photo.files.length) { toast(t("ticket.nofile"), true); photo.focus(); return; }
    const fd = new FormData();
    fd.append("photo", photo.files[0], photo.files[0].name);
    if (note.value) fd.append("comment", note.value);
    if (!reasonBox.hidden && reason.value.trim()) fd.append("reason", reason.value.trim());
    submit.disabled = true;
    try {
      await upload(`/api/tickets/${encodeURIComponent(d.id)}/rectify`, fd, () => {});
      toast(`${t("to.rectified")}：${category(d.category, d.category_zh)}`);
      ctx.go(`ticket/${encodeURIComponent(d.id)}`);
    } catch (ex) {
      if (ex.body?.code === "proof_failed") {
        problems.innerHTML = "";
        (ex.body.problems || []).forEach((p) => problems.append(h("li", { "data-code": p.code }, proofProblemText(p))));
        problems.append(h("li", { class: "muted" }, t("rectify.reason.ask")));
        problems.hidden = false;
        reasonBox.hidden = false;
        reason.focus();
      }
      toast(errorText(ex), true);
    } finally { submit.disabled = false; }
  });
  const first = d.evidence.find((e) => e.kind === "detection" && (e.crop_url || e.photo_url));
  main.append(h("h1", {}, `${t("ticket.rectify")} · ${category(d.category, d.category_zh)}`), form,
    h("h2", {}, t("rectify.problem")), h("div", { class: "rectify-problem" }, zoomed(first), photoWithBox(first)), facts(d));
  return () => { if (previewUrl) URL.revokeObjectURL(previewUrl); };
}
