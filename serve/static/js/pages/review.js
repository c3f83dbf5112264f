// The review queue: one pending detection at a time, decided from the keyboard
// (Y confirm, N reject, arrows to move). The next ticket and its photo are fetched while
// the reviewer looks at this one, so a decision takes about a second.
import { get, post } from "../api.js";
import { h, toast } from "../dom.js";
import { category, errorText, t } from "../i18n.js";
import { drawMap } from "../map.js";
import { can } from "../roles.js";
import { facts, network, photoWithBox, zoomed } from "./common.js";

export async function render(main, _arg, ctx) {
  const page = await get("/api/tickets?state=pending_review&limit=500&sort=-score");
  const queue = page.items;
  // Operators and viewers may look at the queue, not decide it: no Y/N buttons or keys.
  const mayDecide = can(ctx.session.user, "tickets.review");
  const net = await network();
  const cache = new Map();
  let idx = 0;
  let busy = false;

  const detail = (id) => {
    if (!cache.has(id)) cache.set(id, get(`/api/tickets/${encodeURIComponent(id)}`));
    return cache.get(id);
  };
  const best = (d) => d.evidence.find((e) => e.kind === "detection" && e.photo_url) || d.evidence[0];

  async function prefetch(i) {
    if (i < 0 || i >= queue.length) return;
    try { const d = await detail(queue[i].id); const ev = best(d); if (ev?.photo_url) new Image().src = ev.photo_url; }
    catch { /* shown when reached */ }
  }

  async function show() {
    main.innerHTML = "";
    main.append(h("h1", {}, t("review.title"), h("span", { class: "muted keys" }, mayDecide ? t("review.keys") : t("review.readonly"))));
    if (!queue.length) { main.append(h("p", { class: "muted", id: "review-empty" }, t("review.empty"))); return; }
    idx = Math.max(0, Math.min(idx, queue.length - 1));
    const d = await detail(queue[idx].id);
    const ev = best(d);
    const others = d.evidence.filter((e) => e !== ev && e.kind !== "rectification");
    const mapBox = h("div", { class: "minimap" });
    main.append(
      h("div", { class: "review", id: "review", "data-ticket": d.id },
        h("section", { class: "main-photo" }, photoWithBox(ev)),
        h("aside", {},
          h("div", { class: "counter", id: "review-counter" }, `${idx + 1} ${t("review.of")} ${queue.length}`),
          h("h2", {}, category(d.category, d.category_zh), " ", h("a", { href: `#/ticket/${encodeURIComponent(d.id)}` }, d.id)),
          zoomed(ev),
          h("div", { class: "buttons" },
            mayDecide ? h("button", { class: "primary", id: "btn-confirm", onclick: () => decide("confirmed") }, t("review.confirm")) : null,
            mayDecide ? h("button", { class: "danger", id: "btn-reject", onclick: () => decide("rejected") }, t("review.reject")) : null,
            h("button", { id: "btn-prev", onclick: () => move(-1) }, t("review.prev")),
            h("button", { id: "btn-next", onclick: () => move(1) }, t("review.next"))),
          facts(d), mapBox)),
      others.length ? h("section", {}, h("h3", {}, t("review.views")),
        h("div", { class: "views" }, others.map((e) => e.crop_url ? h("img", { src: e.crop_url, class: "thumb", title: e.image_name || "" }) : ""))) : "");
    drawMap(mapBox, { network: net, tickets: queue, highlight: d.id, width: 360, height: 220, padding: 10,
                      tileUrl: ctx.session.config.tile_url });
    prefetch(idx + 1);
  }

  async function decide(to) {
    if (!mayDecide || busy || !queue.length) return;
    busy = true;
    const id = queue[idx].id;
    try {
      await post(`/api/tickets/${encodeURIComponent(id)}/transition`, { to });
      queue.splice(idx, 1);
      cache.delete(id);
      toast(`${id}: ${t(`to.${to}`)}`);
      await show();
    } catch (e) {
      toast(errorText(e), true);
    } finally {
      busy = false;
    }
  }

  function move(step) {
    if (!queue.length) return;
    idx = Math.max(0, Math.min(queue.length - 1, idx + step));
    show().catch((e) => toast(errorText(e), true));
  }

  const onKey = (e) => {
    if (e.target.closest && e.target.closest("input, textarea, select")) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.toLowerCase();
    if (k === "y") { e.preventDefault(); decide("confirmed"); }
    else if (k === "n") { e.preventDefault(); decide("rejected"); }
    else if (e.key === "ArrowRight") { e.preventDefault(); move(1); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); move(-1); }
  };
  document.addEventListener("keydown", onKey);
  await show();
  return () => document.removeEventListener("keydown", onKey);
}
