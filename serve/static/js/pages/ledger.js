// 工单台账: every ticket the user may see, filtered, sorted and paged by the server (the
// office has thousands), with the work queues as tabs (待审核 / 待交办 / 整改中 / 待销号 /
// 已逾期) and their counts. A reviewer can tick confirmed tickets and assign them at once.
import { get, post, query } from "../api.js";
import { dispatchDialog } from "../dialogs.js";
import { h, toast } from "../dom.js";
import { category, errorText, fmtTime, severityName, stateName, t, tf } from "../i18n.js";
import { can } from "../roles.js";
import { network } from "./common.js";

const PAGE = 50;
const QUEUES = ["all", "pending_review", "confirmed", "dispatched", "rectified", "overdue"];
const CATEGORIES = ["floating_debris", "illegal_mining", "illegal_dumping", "illegal_construction", "outfall_discharge"];
// Sortable columns: header key -> the API's sort name.
const COLUMNS = [
  ["ledger.col.id", null], ["ticket.state", "state"], ["ticket.category", "category"],
  ["ledger.col.severity", "severity"], ["ticket.segment", "segment"], ["ticket.chief", "chief"],
  ["ledger.col.found", "found_at"], ["ticket.deadline", "deadline"],
];
const KEY = "heyan.ledger"; // the filter survives opening a ticket and coming back
// Saved views (常用筛选): named filters a person reuses every day ("my township's overdue
// tickets"), kept in this browser per user; the tab is part of the view, the page is not.
const VIEW_FIELDS = ["queue", "category", "segment_id", "chief", "flight_id", "device", "source", "date_from", "date_to",
                     "overdue", "sort"];
const viewsKey = (user) => `heyan.ledger.views.${user}`;

function loadViews(user) {
  try {
    const v = JSON.parse(localStorage.getItem(viewsKey(user)) || "[]");
    return Array.isArray(v) ? v.filter((x) => x && typeof x.name === "string" && x.filter) : [];
  } catch { return []; }
}

function storeViews(user, views) { localStorage.setItem(viewsKey(user), JSON.stringify(views)); }

const blank = () => ({ queue: "all", category: "", segment_id: "", chief: "", flight_id: "", device: "", source: "",
                       date_from: "", date_to: "", overdue: false, sort: "-found_at", offset: 0 });

function load() {
  try { return { ...blank(), ...JSON.parse(sessionStorage.getItem(KEY) || "{}") }; } catch { return blank(); }
}

// The API filter of a ledger state: the tab decides state (and overdue).
function apiFilter(f, withTab = true) {
  const q = { category: f.category, segment_id: f.segment_id, chief: f.chief, flight_id: f.flight_id,
              device: f.device, source: f.source, date_from: f.date_from, date_to: f.date_to };
  if (f.overdue) q.overdue = "true";
  if (withTab && f.queue === "overdue") Object.assign(q, { state: "dispatched", overdue: "true" });
  else if (withTab && f.queue !== "all") q.state = f.queue;
  return q;
}

export async function render(main, arg, ctx) {
  const f = load();
  if (QUEUES.includes(arg)) Object.assign(f, { queue: arg, offset: 0 }); // #/ledger/<queue>: the home page's links
  const mayAssign = can(ctx.session.user, "tickets.review");
  const [net, flights] = await Promise.all([network(), get("/api/flights?limit=200").catch(() => ({ items: [] }))]);
  const segments = (net?.features || []).filter((x) => x.properties?.kind === "segment").map((x) => x.properties);
  const selected = new Set();

  const sel = (id, value, options) => {
    const s = h("select", { id }, h("option", { value: "" }, t("map.all")),
      options.map(([v, label]) => h("option", { value: v }, label)));
    s.value = value;
    return s;
  };
  const fCat = sel("lf-category", f.category, CATEGORIES.map((c) => [c, category(c)]));
  const fSeg = sel("lf-segment", f.segment_id, segments.map((s) => [s.id, [s.river, s.name].filter(Boolean).join(" · ") || s.id]));
  const fFlight = sel("lf-flight", f.flight_id, (flights.items || []).map((x) => [x.id, x.name || x.id]));
  const fSource = sel("lf-source", f.source, [["flight", t("ledger.src.flight")], ["edge", t("ledger.src.edge")],
    ["report", t("ledger.src.report")], ["public", t("ledger.src.public")]]);
  const fChief = h("input", { id: "lf-chief", value: f.chief, maxlength: 128, size: 8 });
  const fDevice = h("input", { id: "lf-device", value: f.device, maxlength: 128, size: 8 });
  const fFrom = h("input", { id: "lf-from", type: "date", value: f.date_from });
  const fTo = h("input", { id: "lf-to", type: "date", value: f.date_to });
  const fOver = h("input", { id: "lf-overdue", type: "checkbox" });
  fOver.checked = !!f.overdue;
  const form = h("form", { class: "toolbar ledger-filter", id: "ledger-filter" },
    h("label", {}, t("ticket.category"), fCat), h("label", {}, t("ledger.f.segment"), fSeg),
    h("label", {}, t("ledger.f.chief"), fChief), h("label", {}, t("ledger.f.flight"), fFlight),
    h("label", {}, t("ledger.f.source"), fSource), h("label", {}, t("ledger.f.device"), fDevice), h("label", {}, t("ledger.f.from"), fFrom),
    h("label", {}, t("ledger.f.to"), fTo), h("label", { class: "check" }, fOver, t("ledger.f.overdue")),
    h("button", { type: "submit", class: "primary", id: "lf-apply" }, t("ledger.f.apply")),
    h("button", { type: "button", id: "lf-reset", onclick: () => { Object.assign(f, blank()); save(); render(main, arg, ctx); } },
      t("ledger.f.reset")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    Object.assign(f, { category: fCat.value, segment_id: fSeg.value, chief: fChief.value.trim(), flight_id: fFlight.value,
                       device: fDevice.value.trim(), source: fSource.value, date_from: fFrom.value, date_to: fTo.value, overdue: fOver.checked, offset: 0 });
    refresh();
  });

  const tabs = h("div", { class: "tabs", id: "ledger-tabs", role: "tablist" });
  const body = h("div", { id: "ledger-body" });
  const batch = h("button", { id: "ledger-batch", class: "primary", disabled: true, onclick: () => assignSelected() }, t("ledger.batch"));
  const exportLink = h("a", { id: "ledger-export", class: "button-link", download: "tickets.xlsx" }, t("ledger.export"));
  function save() { sessionStorage.setItem(KEY, JSON.stringify(f)); }

  async function refresh() {
    save();
    selected.clear();
    const [page, counts] = await Promise.all([
      get(`/api/tickets${query({ ...apiFilter(f), sort: f.sort, limit: PAGE, offset: f.offset })}`),
      get(`/api/tickets/queues${query(apiFilter(f, false))}`),
    ]);
    exportLink.href = `/api/exports/tickets.xlsx${query(apiFilter(f))}`;
    drawTabs(counts, page.total);
    drawTable(page);
  }

  function drawTabs(counts, total) {
    tabs.innerHTML = "";
    for (const q of QUEUES) {
      const n = q === "all" ? null : counts[q];
      tabs.append(h("button", { type: "button", role: "tab", class: q === f.queue ? "tab active" : "tab", "data-queue": q,
                                "aria-selected": q === f.queue ? "true" : "false",
                                onclick: () => { f.queue = q; f.offset = 0; refresh(); } },
        t(`ledger.q.${q}`), n != null ? h("span", { class: "count", "data-count": n }, String(n)) :
          q === f.queue ? h("span", { class: "count" }, String(total)) : ""));
    }
  }

  function header() {
    const cells = COLUMNS.map(([label, key]) => {
      if (!key) return h("th", {}, t(label));
      const on = f.sort.replace(/^-/, "") === key;
      const arrow = on ? (f.sort.startsWith("-") ? " ▼" : " ▲") : "";
      return h("th", { class: on ? "sortable sorted" : "sortable", "data-sort": key, tabindex: 0,
                       "aria-sort": on ? (f.sort.startsWith("-") ? "descending" : "ascending") : "none",
                       onclick: () => { f.sort = on && !f.sort.startsWith("-") ? `-${key}` : key; f.offset = 0; refresh(); } },
        t(label), arrow);
    });
    // Select all: the confirmed tickets of this page (the only ones that can be assigned).
    const all = mayAssign ? h("input", { type: "checkbox", id: "ledger-all", "aria-label": t("ledger.all"), title: t("ledger.all"),
      onchange: (e) => {
        for (const box of body.querySelectorAll("input.pick")) {
          box.checked = e.target.checked;
          e.target.checked ? selected.add(box.dataset.ticket) : selected.delete(box.dataset.ticket);
        }
        picked();
      } }) : null;
    return h("thead", {}, h("tr", {}, mayAssign ? h("th", {}, all) : null, cells));
  }

  function drawTable(page) {
    body.innerHTML = "";
    batch.disabled = true;
    batch.textContent = t("ledger.batch");
    if (!page.items.length) { body.append(h("p", { class: "muted", id: "ledger-empty" }, t("ledger.none"))); return; }
    const rows = page.items.map((x) => {
      const pick = mayAssign && x.state === "confirmed"
        ? h("input", { type: "checkbox", class: "pick", "data-ticket": x.id, "aria-label": x.id,
                       onchange: (e) => { e.target.checked ? selected.add(x.id) : selected.delete(x.id); picked(); } })
        : "";
      const open = () => ctx.go(`ticket/${encodeURIComponent(x.id)}`);
      return h("tr", { "data-ticket": x.id, "data-state": x.state, class: x.overdue ? "overdue-row clickable" : "clickable",
                       onclick: (e) => { if (!e.target.closest("input, a")) open(); } },
        mayAssign ? h("td", {}, pick) : null,
        h("td", {}, h("a", { href: `#/ticket/${encodeURIComponent(x.id)}` }, x.id)),
        h("td", {}, h("span", { class: `state state-${x.state}` }, stateName(x.state)),
          x.overdue ? h("b", { class: "overdue" }, ` ${t("ticket.overdue")}`) : ""),
        h("td", {}, category(x.category, x.category_zh)),
        h("td", {}, severityName(x.severity)),
        h("td", {}, [x.river, x.segment_name].filter(Boolean).join(" · ") || "—"),
        h("td", {}, x.chief_name || "—"),
        h("td", {}, fmtTime(x.found_at)),
        h("td", {}, fmtTime(x.deadline)));
    });
    const a = page.offset + 1, b = page.offset + page.items.length;
    body.append(h("table", { id: "ledger-table", class: "ledger" }, header(), h("tbody", {}, rows)),
      h("div", { class: "pager" },
        h("button", { id: "ledger-prev", disabled: page.offset === 0, onclick: () => { f.offset = Math.max(0, f.offset - PAGE); refresh(); } }, t("ledger.prev")),
        h("span", { id: "ledger-range" }, `${tf("ledger.page", { a, b })} · ${tf("ledger.total", { n: page.total })}`),
        h("button", { id: "ledger-next", disabled: b >= page.total, onclick: () => { f.offset += PAGE; refresh(); } }, t("ledger.next"))));
  }

  function picked() {
    batch.disabled = selected.size === 0;
    batch.textContent = selected.size ? `${t("ledger.batch")}（${selected.size}）` : t("ledger.batch");
  }

  async function assignSelected() {
    const ids = [...selected];
    let details;
    try { details = await Promise.all(ids.map((id) => get(`/api/tickets/${encodeURIComponent(id)}`))); }
    catch (e) { toast(errorText(e), true); return; }
    const choice = await dispatchDialog(details);
    if (!choice) return;
    let ok = 0, bad = 0, lastError = null;
    for (const id of ids) {  // one at a time: each is its own audited transition
      try { await post(`/api/tickets/${encodeURIComponent(id)}/transition`, { to: "dispatched", ...choice }); ok += 1; }
      catch (e) { bad += 1; lastError = e; }
    }
    toast(tf("ledger.batch.done", { ok, bad }) + (lastError ? `：${errorText(lastError)}` : ""), bad > 0);
    await refresh();
  }

  const user = ctx.session.user.username;
  const views = loadViews(user);
  const vPick = h("select", { id: "lv-pick", "aria-label": t("ledger.views.pick") },
    h("option", { value: "" }, t("ledger.views.pick")), views.map((v, i) => h("option", { value: String(i) }, v.name)));
  const vName = h("input", { id: "lv-name", maxlength: 40, size: 10, placeholder: t("ledger.views.name") });
  vPick.addEventListener("change", () => {
    const v = views[Number(vPick.value)];
    if (!v) return;
    Object.assign(f, blank(), v.filter, { offset: 0 });
    save();
    render(main, "", ctx);
  });
  const vSave = h("button", { type: "button", id: "lv-save", onclick: () => {
    const name = vName.value.trim();
    if (!name) { toast(t("ledger.views.noname"), true); vName.focus(); return; }
    const filter = Object.fromEntries(VIEW_FIELDS.map((k) => [k, f[k]]));
    storeViews(user, [...views.filter((v) => v.name !== name), { name, filter }]);
    toast(tf("ledger.views.saved", { name }));
    render(main, "", ctx);
  } }, t("ledger.views.save"));
  const vDelete = h("button", { type: "button", id: "lv-delete", onclick: () => {
    const v = views[Number(vPick.value)];
    if (!v) return;
    storeViews(user, views.filter((x) => x !== v));
    toast(tf("ledger.views.deleted", { name: v.name }));
    render(main, "", ctx);
  } }, t("ledger.views.delete"));
  const viewBar = h("div", { class: "toolbar ledger-views", id: "ledger-views" },
    h("label", {}, t("ledger.views"), vPick), vDelete, vName, vSave);

  main.innerHTML = "";
  main.append(h("h1", {}, t("ledger.title")), viewBar, form, tabs,
    h("div", { class: "toolbar" }, mayAssign ? batch : null, exportLink), body);
  await refresh();
}
