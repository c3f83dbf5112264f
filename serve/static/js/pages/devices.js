// 边缘设备 (admin): each box's state (在线 / 离线 when its heartbeat is older than the
// server's silent threshold, which the server decides), its last heartbeat in Beijing time
// and "N 分钟前", what the heartbeat says (outbox, uptime, cameras, errors), its recent
// events; registering a box shows its token once.
import { api, get, post, query } from "../api.js";
import { h, toast } from "../dom.js";
import { ago, category, errorText, fmtTime, t, tf } from "../i18n.js";

const label = (prefix, id) => { const k = `${prefix}.${id}`; const s = t(k); return s === k ? "—" : s; };

function healthLines(hb) {
  if (!hb) return [];
  const out = [];
  if (hb.version) out.push(`${t("devices.version")} ${hb.version}`);
  if (hb.uptime_s != null) out.push(tf("devices.uptime", { h: (hb.uptime_s / 3600).toFixed(1) }));
  if (hb.outbox_depth != null) out.push(tf("devices.outbox", { n: hb.outbox_depth }));
  if (hb.cameras) out.push(tf("devices.cameras", { n: Object.keys(hb.cameras).length }));
  return out;
}

function eventsTable(items) {
  if (!items.length) return h("p", { class: "muted" }, t("devices.noevents"));
  return h("div", { class: "scroll" }, h("table", { class: "events" },
    h("thead", {}, h("tr", {}, [t("devices.col.time"), t("devices.col.camera"), t("devices.col.kind"), t("ticket.category"),
                                t("devices.col.outcome")].map((x) => h("th", {}, x)))),
    h("tbody", {}, items.map((e) => h("tr", { "data-event": e.event_id },
      h("td", {}, fmtTime(e.started_at)), h("td", {}, e.camera_id), h("td", {}, label("evk", e.kind)),
      h("td", {}, e.category ? category(e.category) : "—"),
      h("td", {}, e.ticket_id ? h("a", { href: `#/ticket/${encodeURIComponent(e.ticket_id)}` }, label("out", e.outcome))
                              : label("out", e.outcome)))))));
}

export async function render(main) {
  const list = h("div", { id: "device-list" });
  const tokenBox = h("div", { id: "device-token" });
  const name = h("input", { id: "nd-name", required: true, maxlength: 128 });
  const desc = h("input", { id: "nd-desc", maxlength: 2000 });
  const form = h("form", { class: "card", id: "new-device" }, h("h2", {}, t("devices.new")),
    h("div", { class: "toolbar" }, h("label", {}, t("devices.name"), name), h("label", {}, t("devices.desc"), desc),
      h("button", { type: "submit", class: "primary" }, t("devices.create"))), tokenBox);
  const showToken = (out) => {
    tokenBox.innerHTML = "";
    tokenBox.append(h("p", {}, t("devices.token")), h("code", { class: "secret", id: "device-token-value" }, out.token));
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      showToken(await post("/api/devices", { name: name.value.trim(), description: desc.value.trim() || null }));
      form.querySelectorAll("input").forEach((i) => { i.value = ""; });
      await refresh();
    } catch (ex) { toast(errorText(ex), true); }
  });

  let timer = null;
  async function refresh() {
    const devices = await get("/api/devices");
    const events = await Promise.all(devices.map((d) => get(`/api/edge/events${query({ device: d.name, limit: 5 })}`)
      .then((p) => p.items).catch(() => [])));
    list.innerHTML = "";
    if (!devices.length) { list.append(h("p", { class: "muted" }, t("devices.none"))); return; }
    devices.forEach((d, i) => {
      const hb = d.health;
      const err = hb && (hb.auth_error || hb.uploader_error || hb.last_error);
      const state = d.revoked_at ? t("devices.revoked") : d.silent ? t("devices.offline") : t("devices.online");
      list.append(h("section", { class: `card device ${d.silent ? "offline" : "online"}`, "data-device": d.name,
                                 "data-silent": d.silent ? "true" : "false" },
        h("h2", {}, d.name, " ", h("span", { class: `badge ${d.silent ? "bad" : "good"}`, "data-state": d.silent ? "offline" : "online" }, state)),
        d.description ? h("p", { class: "muted" }, d.description) : "",
        h("dl", { class: "facts" },
          h("dt", {}, t("devices.heartbeat")),
          h("dd", { class: "hb" }, d.last_heartbeat_at ? `${fmtTime(d.last_heartbeat_at)}（${ago(d.last_heartbeat_at)}）` : t("devices.never"),
            d.silent && d.silent_after_s ? h("span", { class: "muted" },
              ` · ${tf("devices.offline_hint", { m: Math.max(1, Math.round(d.silent_after_s / 60)) })}`) : ""),
          h("dt", {}, t("devices.health")), h("dd", {}, healthLines(hb).join(" · ") || "—"),
          // The box's own words (its log line), kept as they are for whoever fixes it.
          err ? [h("dt", {}, t("devices.error")), h("dd", { class: "error" }, h("code", {}, err))] : ""),
        h("div", { class: "buttons" },
          h("button", { type: "button", class: "d-reissue", onclick: async () => {
            try { showToken(await post(`/api/devices/${d.id}/token`)); window.scrollTo(0, 0); await refresh(); }
            catch (ex) { toast(errorText(ex), true); } } }, t("devices.reissue")),
          d.revoked_at ? "" : h("button", { type: "button", class: "d-revoke danger", onclick: async () => {
            try { await api("DELETE", `/api/devices/${d.id}/token`); await refresh(); } catch (ex) { toast(errorText(ex), true); } } },
          t("devices.revoke"))),
        h("h3", {}, t("devices.events")), eventsTable(events[i])));
    });
    clearTimeout(timer);
    timer = setTimeout(() => refresh().catch(() => {}), 30_000); // "N 分钟前" and 离线 stay true
  }
  main.innerHTML = "";
  main.append(h("h1", {}, t("devices.title")), form, list);
  await refresh();
  return () => clearTimeout(timer);
}
