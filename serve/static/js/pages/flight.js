// One 航拍任务 (#/flight/<id>): what the server made of it — photos used and rejected with
// each reason, finds per category, new tickets and earlier ones seen again, the photos on
// their footprints and the track on the map. A flight with nothing usable is failed, in red.
import { get } from "../api.js";
import { h, table } from "../dom.js";
import { category, fmtTime, t, tf } from "../i18n.js";
import { HeyanMap } from "../map.js";
import { network } from "./common.js";

export function jobState(job) {
  if (!job) return h("span", { class: "job", "data-state": "none" }, "—");
  return h("span", { class: `job job-${job.state}`, "data-state": job.state }, t(`job.${job.state}`));
}

// A failed job's reason in words (the server's English only in the English UI).
export function jobError(job) {
  if (!job || job.state !== "failed") return "";
  const key = `flight.err.${job.error_code || "processing_error"}`;
  return t(key) === key ? t("flight.err.processing_error") : t(key);
}

const reason = (code) => { const k = `flight.rej.${code}`; return t(k) === k ? t("flight.rej.other") : t(k); };

function summaryFacts(d) {
  const s = d.summary || {};
  const rejected = d.rejected_photos || [];
  const byCode = new Map();
  for (const r of rejected) byCode.set(r.code, (byCode.get(r.code) || 0) + 1);
  const rows = [
    [t("flight.s.photos"), d.n_photos],
    [t("flight.s.used"), s.photos_used ?? "—"],
    [t("flight.s.rejected"), rejected.length,
     byCode.size ? h("span", { class: "muted" }, `（${[...byCode].map(([c, n]) => `${reason(c)} ${n}`).join("，")}）`) : ""],
    [t("flight.s.off_river"), s.photos_off_river ?? "—"],
    [t("flight.s.detections"), s.detections ?? "—"],
    [t("flight.s.new"), s.tickets ?? "—"],
    [t("flight.s.seen_again"), s.seen_again ?? "—"],
    [t("flight.s.not_seen"), s.not_seen ?? "—"],
    [t("flight.s.uploaded"), `${d.uploaded_by} · ${fmtTime(d.created_at)}`],
    [t("flight.s.finished"), fmtTime(d.job?.finished_at)],
  ];
  return h("dl", { class: "facts", id: "flight-summary" },
           rows.map(([k, ...v]) => [h("dt", {}, k), h("dd", {}, ...v)]));
}

function perCategory(d) {
  const per = Object.entries(d.summary?.per_category || {});
  if (!per.length) return h("p", { class: "muted", id: "flight-categories" }, t("flight.cat.none"));
  // The pipeline counts by the Chinese category name; shown as it is (a name, not an id).
  return h("ul", { class: "cat-counts", id: "flight-categories" },
           per.map(([name, n]) => h("li", { "data-category": name }, `${category(name, name)} ${n}`)));
}

function rejectedTable(d) {
  const rows = d.rejected_photos || [];
  if (!rows.length) return h("p", { class: "muted" }, t("flight.rej.none"));
  return table([t("flight.rej.file"), t("flight.rej.reason")],
               rows.map((r) => ({ attrs: { "data-photo": r.name, "data-code": r.code },
                                  cells: [r.name, reason(r.code)] })));
}

export async function render(main, id, ctx) {
  const d = await get(`/api/flights/${encodeURIComponent(id)}`);
  const perms = ctx.session.user.permissions || [];
  // Its new tickets, and earlier ones it saw again (at most 100 of those, one request each).
  const tickets = perms.includes("tickets.read")
    ? (await get(`/api/tickets?flight_id=${encodeURIComponent(d.id)}&limit=500`)).items : [];
  if (perms.includes("tickets.read")) {
    const again = await Promise.all((d.seen_again || []).slice(0, 100).map((tid) =>
      get(`/api/tickets/${encodeURIComponent(tid)}`).catch(() => null)));
    tickets.push(...again.filter(Boolean));
  }
  const failed = d.job?.state === "failed";
  const busy = d.job && (d.job.state === "queued" || d.job.state === "running");
  const mapBox = h("div", { class: "bigmap flightmap", id: "map" });
  main.innerHTML = "";
  main.append(
    h("p", { class: "muted kicker" }, t("flight.title")),
    h("h1", { id: "flight-name" }, d.name, " ", jobState(d.job), " ",
      h("a", { href: "#/flights", class: "muted", id: "flight-back" }, t("ticket.back"))),
    failed ? h("div", { class: "failed-banner", id: "flight-failed", role: "alert" },
               h("b", {}, t("flight.failed")), " ", jobError(d.job),
               d.rejected_photos?.length ? ` ${tf("flight.failed.photos", { n: d.rejected_photos.length })}` : "") : "",
    busy ? h("p", { class: "muted", id: "flight-busy" }, tf("flight.busy", { a: d.job.photos_done, b: d.job.photos_total })) : "",
    h("div", { class: "flight-grid" },
      h("section", {}, summaryFacts(d), h("h3", {}, t("flight.cat.title")), perCategory(d),
        d.report_url ? h("p", {}, h("a", { href: d.report_url, target: "_blank", rel: "noopener", id: "flight-report" }, t("flight.report")),
                         d.report_pdf_url ? [" · ", h("a", { href: d.report_pdf_url, id: "flight-report-pdf" }, t("flight.report.pdf"))] : "") : ""),
      h("section", {}, mapBox)),
    h("h2", {}, t("flight.rej.title")), h("div", { id: "flight-rejected" }, rejectedTable(d)));
  const map = new HeyanMap(mapBox, { config: ctx.session.config, flight: true });
  map.network = await network();
  map.flight = d;
  map.tickets = tickets;
  map.redraw();
  // Still processing: the page is shown again in a moment (through the router, so this
  // page's cleanup runs first).
  const timer = busy ? setTimeout(() => window.dispatchEvent(new HashChangeEvent("hashchange")), 2000) : null;
  const onResize = () => map.resize();
  window.addEventListener("resize", onResize);
  return () => { clearTimeout(timer); window.removeEventListener("resize", onResize); map.map.remove(); };
}
