// The viewer: hash routes, one module per page. Who is logged in decides the pages shown.
import { api, ApiError, get } from "./api.js";
import { clearToast, h, toast } from "./dom.js";
import { errorText, getLang, setLang, t } from "./i18n.js";
import * as assessment from "./pages/assessment.js";
import * as chief from "./pages/chief.js";
import * as flights from "./pages/flights.js";
import * as label from "./pages/label.js";
import * as ledger from "./pages/ledger.js";
import * as login from "./pages/login.js";
import * as mapPage from "./pages/map.js";
import * as models from "./pages/models.js";
import * as review from "./pages/review.js";
import * as ticket from "./pages/ticket.js";

const PAGES = {
  login, flights, review, map: mapPage, ticket, chief, assessment, ledger, label, models,
};
// Pages per role, in menu order; the first is where the role lands after logging in.
const MENUS = {
  admin: ["review", "ledger", "map", "flights", "assessment", "label", "models"],
  reviewer: ["review", "ledger", "map", "flights", "assessment", "label"],
  trainer: ["label", "models", "map", "flights"],
  operator: ["flights", "map"],
  chief: ["chief", "map"],
  viewer: ["map", "ledger", "assessment"],
};

export const session = { user: null, config: {} };
let cleanup = null;

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
  const main = document.getElementById("main");
  main.innerHTML = "";
  main.append(h("p", { class: "muted" }, t("loading")));
  if (!page) return go("");
  try {
    cleanup = (await page.render(main, arg, { session, go, refreshChrome: chrome })) || null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { session.user = null; return go("login"); }
    main.innerHTML = "";
    main.append(h("p", { class: "error" }, errorText(e)));
  }
}

// The CSRF cookie is set and cleared with the session (same lifetime) and is readable:
// without it nobody is logged in, so the first load asks nothing (no 401 in the console).
const loggedIn = () => /(?:^|;\s*)heyan_csrf=/.test(document.cookie);

export async function whoami() {
  if (!loggedIn()) { session.user = null; session.config = {}; return; }
  try { session.user = await get("/api/auth/me"); } catch { session.user = null; }
  try { session.config = await get("/api/config"); } catch { session.config = {}; }
}

async function start() {
  setLang(getLang());
  document.getElementById("lang").addEventListener("click", () => { setLang(getLang() === "zh" ? "en" : "zh"); render(); });
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/auth/logout"); } catch (e) { toast(errorText(e), true); }
    session.user = null;
    go("login");
  });
  window.addEventListener("hashchange", render);
  await whoami();
  render();
}

start();
