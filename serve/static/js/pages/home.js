// 首页: the first page after login, one per role, from the APIs the other pages use.
// reviewer/admin: the work queues (each a link to its ledger tab) and today's flights;
// admin also device health and accounts; chief: his tickets being fixed, nearest deadline
// first; operator: his recent flights; viewer: the totals.
import { get } from "../api.js";
import { h } from "../dom.js";
import { ago, category, fmtTime, stateName, t, tf } from "../i18n.js";
import { can } from "../roles.js";

const QUEUES = ["pending_review", "confirmed", "rectified", "overdue"];

// "YYYY-MM-DD" of a time in Beijing: what "today" means to the office.
const beijingDay = (d) => new Date(d).toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

function tile(id, label, n, href, bad = false) {
  return h("a", { class: `tile${bad && n ? " bad" : ""}`, id, href, "data-count": n },
    h("b", {}, String(n)), h("span", {}, label));
}

function section(id, title, ...body) {
  return h("section", { class: "card home-card", id }, h("h2", {}, title), ...body);
}

function flightRows(items) {
  if (!items.length) return h("p", { class: "muted" }, t("home.none"));
  return h("ul", { class: "home-list" }, items.map((f) => h("li", { "data-flight": f.id },
    h("span", {}, f.name), " ",
    h("span", { class: `job job-${f.job?.state || "none"}`, "data-state": f.job?.state || "" }, f.job ? t(`job.${f.job.state}`) : "—"),
    h("span", { class: "muted" }, ` · ${f.n_photos} ${t("flights.col.photos")} · ${fmtTime(f.created_at)}`))));
}

function ticketRows(items) {
  if (!items.length) return h("p", { class: "muted" }, t("chief.none"));
  return h("ul", { class: "home-list" }, items.map((x) => h("li", { "data-ticket": x.id, class: x.overdue ? "overdue" : "" },
    h("a", { href: `#/ticket/${encodeURIComponent(x.id)}` }, category(x.category, x.category_zh)), " ",
    h("span", { class: `state state-${x.state}` }, stateName(x.state)), " ",
    h("span", {}, [x.river, x.segment_name].filter(Boolean).join(" · ")),
    h("span", { class: x.overdue ? "overdue" : "muted" },
      ` · ${t("ticket.deadline")} ${fmtTime(x.deadline)}${x.overdue ? ` ${t("ticket.overdue")}` : ""}`))));
}

async function queues() {
  const q = await get("/api/tickets/queues");
  return section("home-queues", t("ledger.title"), h("div", { class: "tiles" },
    QUEUES.map((k) => tile(`tile-${k}`, t(`ledger.q.${k}`), q[k], `#/ledger/${k}`, k === "overdue"))));
}

async function todaysFlights() {
  const today = beijingDay(Date.now());
  const page = await get("/api/flights?limit=100");
  return section("home-today", t("home.today"), flightRows(page.items.filter((f) => beijingDay(f.created_at) === today)));
}

async function chiefTickets() {
  const [q, page] = await Promise.all([get("/api/tickets/queues"), get("/api/tickets?state=dispatched&sort=deadline&limit=8")]);
  return [
    section("home-queues", t("home.mine"), h("div", { class: "tiles" },
      tile("tile-dispatched", t("ledger.q.dispatched"), q.dispatched, "#/chief"),
      tile("tile-overdue", t("home.overdue"), q.overdue, "#/ledger/overdue", true))),
    section("home-deadlines", t("home.deadlines"), ticketRows(page.items)),
  ];
}

async function adminCards() {
  const [devices, users] = await Promise.all([get("/api/devices"), get("/api/users")]);
  const off = devices.filter((d) => d.silent);
  const newest = devices.map((d) => d.last_heartbeat_at).filter(Boolean).sort().pop();
  return [
    section("home-devices", t("home.devices"), h("div", { class: "tiles" },
      tile("tile-online", t("devices.online"), devices.length - off.length, "#/devices"),
      tile("tile-offline", t("devices.offline"), off.length, "#/devices", true)),
      off.length ? h("p", { class: "overdue" }, off.map((d) => d.name).join("、")) : "",
      newest ? h("p", { class: "muted" }, `${t("devices.heartbeat")} ${ago(newest)}`) : ""),
    section("home-users", t("home.users"), h("p", {}, h("a", { href: "#/users" },
      tf("home.users.n", { n: users.length, m: users.filter((u) => !u.active).length })))),
  ];
}

async function myFlights(user) {
  const page = await get("/api/flights?limit=100");
  const mine = page.items.filter((f) => f.uploaded_by === user.username).slice(0, 8);
  return section("home-myflights", t("home.myflights"), flightRows(mine),
    can(user, "flights.upload") ? h("a", { href: "#/flights", class: "button-link" }, t("home.upload")) : "");
}

async function totals() {
  const [all, closed, q] = await Promise.all([get("/api/tickets?limit=1"), get("/api/tickets?state=closed&limit=1"),
                                              get("/api/tickets/queues")]);
  const open = q.confirmed + q.dispatched + q.rectified;
  return section("home-totals", t("home.totals"), h("div", { class: "tiles" },
    tile("tile-total", t("home.total"), all.total, "#/ledger/all"),
    tile("tile-open", t("home.open"), open, "#/ledger/dispatched"),
    tile("tile-closed", t("home.closed"), closed.total, "#/ledger/all"),
    tile("tile-overdue", t("home.overdue"), q.overdue, "#/ledger/overdue", true)));
}

export async function render(main, _arg, ctx) {
  const user = ctx.session.user;
  const parts = [];
  if (user.role === "admin" || user.role === "reviewer") {
    parts.push(queues(), todaysFlights());
    if (user.role === "admin") parts.push(adminCards());
  } else if (user.role === "chief") parts.push(chiefTickets());
  else if (user.role === "operator") parts.push(myFlights(user));
  else parts.push(totals());
  const cards = (await Promise.all(parts)).flat();
  main.innerHTML = "";
  main.append(h("h1", {}, t("home.title"), h("span", { class: "muted keys" }, tf("home.hello", { name: user.full_name || user.username }))),
    h("div", { class: "home", id: "home", "data-role": user.role }, cards));
}
