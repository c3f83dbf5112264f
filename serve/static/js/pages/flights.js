import { get, upload } from "../api.js";
import { h, table, toast } from "../dom.js";
import { errorText, fmtTime, t } from "../i18n.js";
import { jobError } from "./flight.js";

function jobCell(job) {
  if (!job) return "—";
  const pct = job.photos_total ? Math.round((100 * job.photos_done) / job.photos_total) : 0;
  return h("span", { class: `job job-${job.state}`, "data-state": job.state },
           t(`job.${job.state}`), job.state === "failed" ? ` — ${jobError(job)}` : "",
           job.state === "running" || job.state === "queued" ? h("progress", { max: 100, value: pct }) : "");
}

export async function render(main, _arg, ctx) {
  // The server says what this role may do; the upload form is shown only to those it accepts.
  const canUpload = (ctx.session.user.permissions || []).includes("flights.upload");
  const list = h("div", { id: "flight-list" });
  const bar = h("progress", { id: "upload-progress", max: 100, value: 0, hidden: true });
  const status = h("span", { id: "upload-status" });
  const files = h("input", { type: "file", id: "flight-files", multiple: true, accept: ".jpg,.jpeg,.tif,.tiff,.png,.zip" });
  const name = h("input", { id: "flight-name", placeholder: t("flights.name") });
  const form = h("form", { class: "card", id: "upload-form" },
    h("label", {}, t("flights.pick"), files), h("label", {}, t("flights.name"), name),
    h("button", { type: "submit", class: "primary" }, t("flights.upload")), " ", bar, " ", status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!files.files.length) {  // said where the operator looks, not silently ignored
      status.textContent = t("flights.nofile");
      status.className = "error";
      files.focus();
      return;
    }
    const fd = new FormData();
    for (const f of files.files) fd.append("files", f, f.name);
    if (name.value) fd.append("name", name.value);
    bar.hidden = false;
    status.className = "";
    status.textContent = t("flights.uploading");
    try {
      const out = await upload("/api/flights", fd, (p) => { bar.value = Math.round(100 * p); });
      bar.value = 100;
      status.textContent = out.duplicate ? t("flights.duplicate") : t("flights.done");
      form.reset();
      await refresh();
    } catch (ex) {
      status.textContent = errorText(ex);
      status.className = "error";
      toast(errorText(ex), true);
    }
  });

  let timer = null;
  async function refresh() {
    const page = await get("/api/flights?limit=50");
    list.innerHTML = "";
    if (!page.items.length) { list.append(h("p", { class: "muted" }, t("flights.none"))); return; }
    list.append(table(
      [t("flights.col.name"), t("flights.col.photos"), t("flights.col.by"), t("flights.col.at"), t("flights.col.state")],
      page.items.map((f) => ({ attrs: { "data-flight": f.id, class: "clickable", tabindex: 0,  // a row opens its flight page
                                        onclick: () => ctx.go(`flight/${encodeURIComponent(f.id)}`),
                                        onkeydown: (e) => { if (e.key === "Enter") ctx.go(`flight/${encodeURIComponent(f.id)}`); } },
                               cells: [h("a", { href: `#/flight/${encodeURIComponent(f.id)}` }, f.name), f.n_photos, f.uploaded_by,
                                       fmtTime(f.created_at), jobCell(f.job)] }))));
    const busy = page.items.some((f) => f.job && (f.job.state === "queued" || f.job.state === "running"));
    clearTimeout(timer);
    if (busy) timer = setTimeout(() => refresh().catch(() => {}), 1500);
  }
  main.innerHTML = "";
  main.append(h("h1", {}, t("flights.title")), canUpload ? form : "", list);
  await refresh();
  return () => clearTimeout(timer);
}
