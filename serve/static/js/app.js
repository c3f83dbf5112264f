// The viewer: hash routes, one module per page. Who is logged in decides the pages shown.
import { api, ApiError, get } from "./api.js";
import { clearToast, h, toast } from "./dom.js";
import { errorText, getLang, setLang, t, tf } from "./i18n.js";
import { setViewerConfig } from "./map.js";
import * as account from "./pages/account.js";
import * as assessment from "./pages/assessment.js";
import * as chief from "./pages/chief.js";
import * as devices from "./pages/devices.js";
import * as flight from "./pages/flight.js";
import * as flights from "./pages/flights.js";
import * as home from "./pages/home.js";
import * as label from "./pages/label.js";
import * as ledger from "./pages/ledger.js";
import * as login from "./pages/login.js";
import * as mapPage from "./pages/map.js";
import * as models from "./pages/models.js";
import * as patrol from "./pages/patrol.js";
import * as rectify from "./pages/rectify.js";
import * as report from "./pages/report.js";
import * as review from "./pages/review.js";
import * as river from "./pages/river.js";
import * as rivers from "./pages/rivers.js";
import * as ticket from "./pages/ticket.js";
import * as users from "./pages/users.js";
import { can } from "./roles.js";

const PAGES = {
  login, flights, review, map: mapPage, ticket, chief, assessment, ledger, home, users, devices, rivers, account,
  patrol, rectify, report, river, flight, label, models,
};
// Pages per role, in menu order; the first is where the role lands after logging in.
const MENUS = {
  admin: ["home", "review", "ledger", "map", "flights", "assessment", "river", "label", "models", "users", "devices",
    "rivers", "account"],
  reviewer: ["home", "review", "ledger", "map", "flights", "assessment", "river", "label", "account"],
  trainer: ["label", "models", "home", "map", "flights", "account"],
  operator: ["home", "flights", "map", "account"],
  // A chief's day is his task cards (我的工单, on a phone): he lands there, 首页 is one tap away.
  chief: ["chief", "home", "patrol", "report", "river", "map", "account"],
  viewer: ["home", "map", "ledger", "assessment", "river", "account"],
};
// Pages only some roles may open: the permission (serve/permissions.py) the server checks.
// Anyone else gets the 无权限 page instead of the server's 403.
const PAGE_PERMISSION = { users: "users.admin", devices: "devices.admin", rivers: "rivers.write", flight: "flights.read" };

function forbidden(main) {
  main.innerHTML = "";
  main.append(h("div", { class: "card narrow", id: "forbidden" }, h("h1", {}, t("forbidden.title")),
    h("p", {}, tf("forbidden.text", { role: t(`role.${session.user.role}`) })),
    h("a", { href: "#/home", class: "button-link" }, t("forbidden.back"))));
}

export const session = { user: null, config: {} };
let cleanup = null;
let renders = 0; // generation of the page being shown

function route() {
  const [name, ...rest] = (location.hash.replace(/^#\/?/, "") || "").split("/");
  return { name: name || "", arg: rest.map(decodeURIComponent).join("/") };
}

export function go(path) { location.hash = `#/${path}`; }

function chrome() {
  document.getElementById("brand").textContent = t("app");
  document.getElementById("subtitle").textContent = t("subtitle");
  document.getElementById("lang").textContent = t("lang");
  const out = document.getElementById("logout");
  out.textContent = t("logout");
  out.hidden = !session.user;
  document.getElementById("who").textContent = session.user ? `${session.user.full_name || session.user.username}（${t(`role.${session.user.role}`)}）` : "";
  const nav = document.getElementById("nav");
  nav.innerHTML = "";
  const cur = route().name;
  for (const p of session.user ? MENUS[session.user.role] || [] : []) {
    nav.append(h("a", { href: `#/${p}`, class: cur === p ? "active" : "", "data-page": p }, t(`nav.${p}`)));
  }
}

async function render() {
  clearToast(); // a message belongs to the page it was shown on
  if (cleanup) { try { cleanup(); } catch { /* a page's cleanup must not block the next */ } cleanup = null; }
  let { name, arg } = route();
  if (!session.user && name !== "login") return go("login");
  if (session.user && (!name || name === "login")) return go((MENUS[session.user.role] || ["map"])[0]);
  const page = PAGES[name];
  chrome();
  // Each render draws into its own element: a page still loading when the user moves on
  // (its fetches answer late) then fills a detached element, never the next page's.
  const gen = ++renders;
  const main = h("div", { class: "page-view", "data-page": name });
  document.getElementById("main").replaceChildren(main);
  main.append(h("p", { class: "muted" }, t("loading")));
  if (!page) return go("");
  if (PAGE_PERMISSION[name] && !can(session.user, PAGE_PERMISSION[name])) return forbidden(main);
  try {
    const done = (await page.render(main, arg, { session, go, refreshChrome: chrome })) || null;
    if (gen === renders) cleanup = done;
    else if (done) done(); // a newer page is shown: this one's timers end now
  } catch (e) {
    if (gen !== renders) return;
    if (e instanceof ApiError && e.status === 401) { session.user = null; return go("login"); }
    if (e instanceof ApiError && e.status === 403 && e.body?.code === "forbidden") return forbidden(main);
    main.innerHTML = "";
    main.append(h("p", { class: "error" }, errorText(e)));
  }
}

// The CSRF cookie is set and cleared with the session (same lifetime) and is readable:
// without it nobody is logged in, so the first load asks nothing (no 401 in the console).
const loggedIn = () => /(?:^|;\s*)heyan_csrf=/.test(document.cookie);

export async function whoami() {
  if (!loggedIn()) { session.user = null; session.config = {}; return; }
  try {
    session.user = await get("/api/auth/me");
    localStorage.setItem("heyan.me", JSON.stringify(session.user));
  } catch (e) {
    // No signal (status 0): the phone pages work offline as the last known user; the server
    // still checks every request when they are sent.
    const last = e instanceof ApiError && e.status === 0 ? localStorage.getItem("heyan.me") : null;
    session.user = last ? JSON.parse(last) : null;
  }
  try { session.config = await get("/api/config"); } catch { session.config = {}; }
  setViewerConfig(session.config);
}

async function start() {
  setLang(getLang());
  document.getElementById("lang").addEventListener("click", () => { setLang(getLang() === "zh" ? "en" : "zh"); render(); });
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/auth/logout"); } catch (e) { toast(errorText(e), true); }
    session.user = null;
    localStorage.removeItem("heyan.me");
    go("login");
  });
  window.addEventListener("hashchange", render);
  await whoami();
  render();
}

start();
// Installable and openable offline (PWA): the service worker keeps the page itself.
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
