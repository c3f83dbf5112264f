// 公众举报: the public page (/report.html, no login). A photo, the phone's position, a few
// words and, if the person wants a call back, a phone number that is never shown publicly.
// The server limits reports per address and day and strips the photo's metadata.
import { upload } from "../api.js";
import { h, toast } from "../dom.js";
import { className, errorText, getLang, setLang, t, tf } from "../i18n.js";

const CLASSES = ["floating_debris", "waste_pile", "sand_dredger", "structure"];
const MAX_TEXT = 500;

function render() {
  document.getElementById("brand").textContent = t("app");
  document.getElementById("subtitle").textContent = t("public.title");
  document.getElementById("lang").textContent = t("lang");
  document.title = `${t("public.title")} · ${t("app")}`;
  const main = document.getElementById("main");
  main.innerHTML = "";
  const photo = h("input", { type: "file", id: "pub-photo", accept: "image/jpeg,image/png,image/webp", capture: "environment" });
  const kind = h("select", { id: "pub-class" }, h("option", { value: "" }, t("public.kind.auto")),
    CLASSES.map((c) => h("option", { value: c }, className(c))));
  const where = h("p", { id: "pub-where", class: "muted" }, t("report.locating"));
  const text = h("textarea", { id: "pub-text", rows: 3, maxlength: MAX_TEXT, placeholder: t("public.text") });
  const count = h("span", { class: "muted" }, `0/${MAX_TEXT}`);
  text.addEventListener("input", () => { count.textContent = `${text.value.length}/${MAX_TEXT}`; });
  const phone = h("input", { type: "tel", id: "pub-phone", inputmode: "tel", maxlength: 20, autocomplete: "tel" });
  const submit = h("button", { type: "submit", class: "primary big" }, t("public.submit"));
  const result = h("p", { id: "pub-result" });
  let pos = null;
  const locate = () => {
    if (!navigator.geolocation) { where.textContent = t("report.nogps"); return; }
    navigator.geolocation.getCurrentPosition((p) => {
      pos = p.coords;
      where.dataset.ok = "1";
      where.textContent = tf("report.at", { lat: pos.latitude.toFixed(6), lon: pos.longitude.toFixed(6), acc: Math.round(pos.accuracy || 0) });
    }, () => { where.dataset.ok = "0"; where.textContent = t("report.nogps"); },
    { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
  };
  const form = h("form", { class: "card phone-form", id: "pub-form" },
    h("p", {}, t("public.intro")),
    h("label", { class: "camera" }, h("span", {}, t("report.take")), photo),
    h("label", {}, t("ticket.category"), kind), where,
    h("label", {}, t("public.text.label"), text, count),
    h("label", {}, t("public.phone"), phone, h("span", { class: "muted" }, t("public.phone.note"))),
    submit, result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!photo.files.length) { toast(t("report.nofile"), true); return; }
    const fd = new FormData();
    fd.append("photo", photo.files[0], photo.files[0].name);
    if (kind.value) fd.append("category", kind.value);
    if (pos) {
      fd.append("lat", String(pos.latitude)); fd.append("lon", String(pos.longitude));
      if (pos.accuracy) fd.append("accuracy_m", String(pos.accuracy));
    }
    if (text.value.trim()) fd.append("text", text.value.trim());
    if (phone.value.trim()) fd.append("phone", phone.value.trim());
    submit.disabled = true;
    try {
      const r = await upload("/api/public/reports", fd, () => {});
      result.className = "ok";
      result.dataset.outcome = r.outcome;
      result.textContent = tf(`public.done.${r.outcome}`, { id: r.id });
      form.reset();
      count.textContent = `0/${MAX_TEXT}`;
    } catch (ex) {
      result.className = "error";
      result.dataset.outcome = "error";
      result.textContent = errorText(ex);
      toast(errorText(ex), true);
    } finally { submit.disabled = false; }
  });
  main.append(h("h1", {}, t("public.title")), form);
  locate();
}

setLang(getLang());
document.getElementById("lang").addEventListener("click", () => { setLang(getLang() === "zh" ? "en" : "zh"); render(); });
render();
