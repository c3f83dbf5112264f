// 巡河 on the phone: start on one of the chief's segments, the browser records the GPS
// track (Geolocation API, each fix with its time), stop sends it. Everything goes through
// the IndexedDB outbox first, so a patrol recorded with no signal uploads when the phone is
// back online; the server computes the figures (length, duration, coverage, flags).
import { api, ApiError, get } from "../api.js";
import { h, toast } from "../dom.js";
import { errorText, fmtTime, t, tf } from "../i18n.js";
import { allPatrols, deletePatrol, putPatrol } from "../outbox.js";

let flushing = null;

// Send every queued patrol; keep what the network refused (status 0), drop what the server
// refused for good (4xx: it would be refused again) with a message.
export function flush() {
  if (flushing) return flushing;
  flushing = (async () => {
    let sent = 0;
    for (const rec of await allPatrols()) {
      if (rec.state !== "queued") continue;
      try {
        await api("POST", "/api/patrols", { id: rec.id, segment_id: rec.segment_id, points: rec.points, note: rec.note || null });
        await deletePatrol(rec.id);
        sent += 1;
      } catch (e) {
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 429) {
          await deletePatrol(rec.id);
          toast(errorText(e), true);
        }
      }
    }
    return sent;
  })().finally(() => { flushing = null; });
  return flushing;
}

function uuid() {
  return crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "")
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Straight-line sum of the track, for the running figure only (the server's is the record).
function roughKm(points) {
  let m = 0;
  for (let i = 1; i < points.length; i += 1) {
    const [, a, b] = points[i - 1], [, c, d] = points[i];
    const k = Math.PI / 180, x = (d - b) * k * Math.cos(((a + c) / 2) * k), y = (c - a) * k;
    m += 6371008.8 * Math.hypot(x, y);
  }
  return m / 1000;
}

const pct = (x) => (x == null ? "—" : `${Math.round(x * 100)}%`);
const minutes = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
export const flagText = (f) => t(`patrol.flag.${f}`);

export async function render(main, _arg, ctx) {
  const user = ctx.session.user;
  let segments = [];
  try {
    segments = await get("/api/rivers/current/segments");
    localStorage.setItem("heyan.segments", JSON.stringify(segments.map((x) => ({ id: x.id, name: x.name, river: x.river }))));
  } catch { segments = JSON.parse(localStorage.getItem("heyan.segments") || "[]"); } // offline: the last list
  if (user.role === "chief") segments = segments.filter((s) => (user.segments || []).includes(s.id));
  main.innerHTML = "";
  const pick = h("select", { id: "patrol-segment" }, segments.map((s) => h("option", { value: s.id }, [s.river, s.name].filter(Boolean).join(" · "))));
  const start = h("button", { id: "patrol-start", class: "primary big", type: "button" }, t("patrol.start"));
  const stop = h("button", { id: "patrol-stop", class: "danger big", type: "button", hidden: true }, t("patrol.stop"));
  const live = h("p", { id: "patrol-live", class: "patrol-live" });
  const queue = h("p", { id: "patrol-queue", class: "muted" });
  const list = h("div", { id: "patrol-list" });
  let rec = (await allPatrols()).find((r) => r.state === "recording" && r.user === user.username) || null;
  let watch = null, ticker = null;

  const showQueue = async () => {
    const n = (await allPatrols()).filter((r) => r.state === "queued").length;
    queue.textContent = n ? tf("patrol.queued", { n }) : "";
    queue.dataset.n = String(n);
  };
  const showLive = () => {
    if (!rec) { live.textContent = ""; live.dataset.points = "0"; return; }
    const secs = (Date.now() - rec.started) / 1000;
    live.textContent = tf("patrol.live", { n: rec.points.length, time: minutes(secs), km: roughKm(rec.points).toFixed(2) });
    live.dataset.points = String(rec.points.length);
  };
  const showList = async () => {
    let page = { items: [] };
    try { page = await get(`/api/patrols?username=${encodeURIComponent(user.username)}&limit=20`); } catch { /* offline */ }
    list.innerHTML = "";
    if (!page.items.length) { list.append(h("p", { class: "muted" }, t("patrol.none"))); return; }
    page.items.forEach((p) => list.append(h("article", { class: `patrol-card${p.plausible ? "" : " flagged"}`, "data-patrol": p.id },
      h("header", {}, h("b", {}, [p.river, p.segment_name].filter(Boolean).join(" · ")), h("time", {}, fmtTime(p.started_at))),
      h("dl", { class: "patrol-figures" },
        h("dt", {}, t("patrol.length")), h("dd", { "data-k": "length" }, `${(p.length_m / 1000).toFixed(2)} km`),
        h("dt", {}, t("patrol.duration")), h("dd", {}, minutes(p.duration_s)),
        h("dt", {}, t("patrol.coverage")), h("dd", { "data-k": "coverage" }, pct(p.coverage))),
      p.flags.length ? h("p", { class: "flags" }, p.flags.map(flagText).join("；")) : "")));
  };
  const sync = async () => {
    const sent = await flush();
    if (sent) toast(tf("patrol.sent", { n: sent }));
    await showQueue();
    if (sent) await showList();
  };

  const onFix = async (pos) => {
    if (!rec) return;
    const c = pos.coords;
    rec.points.push([pos.timestamp || Date.now(), c.latitude, c.longitude, c.accuracy ?? null]);
    showLive();
    await putPatrol(rec); // every fix stored: a reload or a flat battery loses nothing
  };
  const begin = () => {
    if (!navigator.geolocation) { toast(t("patrol.nogps"), true); return; }
    watch = navigator.geolocation.watchPosition(onFix, (e) => toast(`${t("patrol.nogps")}（${e.message}）`, true),
      { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 });
    ticker = setInterval(showLive, 1000);
    start.hidden = true; stop.hidden = false; pick.disabled = true;
    showLive();
  };
  start.addEventListener("click", async () => {
    if (!pick.value) { toast(t("patrol.nosegment"), true); return; }
    rec = { id: uuid(), segment_id: pick.value, points: [], state: "recording", user: user.username, started: Date.now() };
    await putPatrol(rec);
    begin();
  });
  stop.addEventListener("click", async () => {
    if (watch != null) navigator.geolocation.clearWatch(watch);
    clearInterval(ticker);
    watch = null;
    if (rec.points.length) { rec.state = "queued"; await putPatrol(rec); } else await deletePatrol(rec.id);
    rec = null;
    start.hidden = false; stop.hidden = true; pick.disabled = false;
    showLive();
    await showQueue();
    await sync();
  });
  const online = () => { sync(); };
  window.addEventListener("online", online);

  main.append(h("h1", {}, t("patrol.title")),
    h("div", { class: "card phone-form", id: "patrol-form" }, h("label", {}, t("ticket.segment"), pick), start, stop, live, queue),
    h("h2", {}, t("patrol.mine")), list);
  if (!segments.length) { start.disabled = true; live.textContent = t("patrol.nosegment"); }
  if (rec) { pick.value = rec.segment_id; begin(); } // a patrol recorded before a reload goes on
  await showQueue();
  await showList();
  sync();
  return () => {
    window.removeEventListener("online", online);
    if (watch != null) navigator.geolocation.clearWatch(watch);
    clearInterval(ticker);
  };
}
