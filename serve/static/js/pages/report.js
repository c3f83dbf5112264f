// 问题上报 from the phone: take a photo, the server's detector suggests what it is and where
// (its box drawn on the photo), the phone's GPS gives the place, a note, send: the report
// becomes a ticket in 待审核 by the same rules and de-duplication as flights.
import { upload } from "../api.js";
import { h, toast } from "../dom.js";
import { className, errorText, t, tf } from "../i18n.js";
import { allPatrols } from "../outbox.js";

const CLASSES = ["floating_debris", "waste_pile", "sand_dredger", "structure", "boat"];

function here() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition((p) => resolve(p.coords), () => resolve(null),
      { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
  });
}

export async function render(main, _arg, ctx) {
  main.innerHTML = "";
  const photo = h("input", { type: "file", id: "report-photo", accept: "image/*", capture: "environment" });
  const img = h("img", { class: "report-preview", alt: "" });
  const box = h("div", { class: "box", hidden: true });
  const frame = h("div", { class: "photo report-frame", hidden: true }, img, box);
  const hint = h("p", { id: "report-suggest", class: "muted" });
  const kind = h("select", { id: "report-class" }, CLASSES.map((c) => h("option", { value: c }, className(c))));
  const where = h("p", { id: "report-where", class: "muted" }, t("report.locating"));
  const note = h("textarea", { id: "report-note", rows: 2, placeholder: t("report.note") });
  const submit = h("button", { type: "submit", class: "primary big" }, t("report.submit"));
  const result = h("p", { id: "report-result" });
  const form = h("form", { class: "card phone-form", id: "report-form" },
    h("label", { class: "camera" }, h("span", {}, t("report.take")), photo), frame, hint,
    h("label", {}, t("ticket.category"), kind), where, note, submit, result);
  let pos = null, url = null;
  here().then((c) => {
    pos = c;
    where.textContent = c ? tf("report.at", { lat: c.latitude.toFixed(6), lon: c.longitude.toFixed(6), acc: Math.round(c.accuracy || 0) })
      : t("report.nogps");
    where.dataset.ok = c ? "1" : "0";
  });
  photo.addEventListener("change", async () => {
    if (url) URL.revokeObjectURL(url);
    box.hidden = true;
    if (!photo.files.length) { frame.hidden = true; return; }
    url = URL.createObjectURL(photo.files[0]);
    img.src = url;
    frame.hidden = false;
    hint.textContent = t("report.detecting");
    const fd = new FormData();
    fd.append("photo", photo.files[0], photo.files[0].name);
    try {
      const s = await upload("/api/reports/suggest", fd, () => {});
      const best = s.suggestions[0];
      if (!best) { hint.textContent = t("report.nothing"); hint.dataset.cls = ""; return; }
      if (CLASSES.includes(best.class_name)) kind.value = best.class_name;
      hint.textContent = tf("report.suggested", { what: className(best.class_name), p: Math.round(best.score * 100) });
      hint.dataset.cls = best.class_name;
      const [x1, y1, x2, y2] = best.box;
      Object.assign(box.style, { left: `${(100 * x1) / s.width}%`, top: `${(100 * y1) / s.height}%`,
                                 width: `${(100 * (x2 - x1)) / s.width}%`, height: `${(100 * (y2 - y1)) / s.height}%` });
      box.hidden = false;
    } catch (e) { hint.textContent = errorText(e); }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!photo.files.length) { toast(t("report.nofile"), true); return; }
    const fd = new FormData();
    fd.append("photo", photo.files[0], photo.files[0].name);
    fd.append("class_name", kind.value);
    if (pos) {
      fd.append("lat", String(pos.latitude)); fd.append("lon", String(pos.longitude));
      if (pos.accuracy) fd.append("accuracy_m", String(pos.accuracy));
    }
    if (note.value.trim()) fd.append("note", note.value.trim());
    // Found on a patrol: the report names it, so the patrol shows what its chief reported.
    const patrol = (await allPatrols()).find((r) => r.state === "recording" && r.user === ctx.session.user.username);
    if (patrol) fd.append("patrol_id", patrol.id);
    submit.disabled = true;
    try {
      const r = await upload("/api/reports", fd, () => {});
      result.innerHTML = "";
      result.dataset.outcome = r.outcome;
      result.dataset.ticket = r.ticket_id;
      result.append(t(`report.outcome.${r.outcome}`), " ", h("a", { href: `#/ticket/${encodeURIComponent(r.ticket_id)}` }, t("task.detail")));
      toast(t(`report.outcome.${r.outcome}`));
    } catch (ex) {
      const why = ex.body?.code === "report_no_ticket" && ex.body.reason ? `（${ex.body.reason.split(" / ")[0]}）` : "";
      result.textContent = errorText(ex) + why;
      result.dataset.outcome = "error";
      toast(errorText(ex), true);
    } finally { submit.disabled = false; }
  });
  main.append(h("h1", {}, t("report.title")), form);
  return () => { if (url) URL.revokeObjectURL(url); };
}
