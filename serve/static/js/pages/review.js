// The review queue: one pending detection at a time, decided from the keyboard
// (Y confirm, N reject, 1–7 the reject reason, Z undo, arrows to move). The next ticket and
// its photo are fetched while the reviewer looks at this one, so a decision takes about a
// second. A small find is judged on the loupe (the box enlarged to a fixed size) and, with a
// click, on the whole photo zoomed in on the box.
import { get, post } from "../api.js";
import { h, toast } from "../dom.js";
import { category, className, errorText, t } from "../i18n.js";
import { drawMap } from "../map.js";
import { can } from "../roles.js";
import { loadPhoto, loupe, openZoom } from "../zoom.js";
import { facts, network, photoWithBox } from "./common.js";

const LOUPE_PX = 320;
const VIEW_PX = 160;

export async function render(main, _arg, ctx) {
  const page = await get("/api/tickets?state=pending_review&limit=500&sort=-score");
  const queue = page.items;
  // Operators and viewers may look at the queue, not decide it: no Y/N buttons or keys.
  const mayDecide = can(ctx.session.user, "tickets.review");
  const reasons = ctx.session.config.reject_reasons || [];
  const net = await network();
  const cache = new Map();
  let idx = 0;
  let busy = false;
  let reason = null; // the reject reason chosen for the ticket on screen
  let last = null; // { ticket, index }: the reviewer's latest decision, which Z undoes

  const detail = (id) => {
    if (!cache.has(id)) cache.set(id, get(`/api/tickets/${encodeURIComponent(id)}`));
    return cache.get(id);
  };
  const best = (d) => d.evidence.find((e) => e.kind === "detection" && e.photo_url) || d.evidence[0];
  const labelOf = (d, ev) => `${className(d.class_name)} ${((ev && ev.score) ?? d.score).toFixed(2)}`;

  async function prefetch(i) {
    if (i < 0 || i >= queue.length) return;
    try { const d = await detail(queue[i].id); const ev = best(d); if (ev?.photo_url) loadPhoto(ev.photo_url).catch(() => {}); }
    catch { /* shown when reached */ }
  }

  const zoomOpen = () => !!document.getElementById("zoom");

  function reasonButtons() {
    if (!mayDecide || !reasons.length) return null;
    return h("div", { class: "reasons", id: "review-reasons", role: "radiogroup", "aria-label": t("review.reason") },
      h("span", { class: "muted" }, t("review.reason")),
      reasons.map((r, i) => h("button", {
        type: "button", "data-reason": r, role: "radio", "aria-checked": reason === r ? "true" : "false",
        class: reason === r ? "reason active" : "reason", onclick: () => pick(r),
      }, `${i + 1} ${t(`reason.${r}`)}`)));
  }

  function pick(r) {
    reason = reason === r ? null : r;
    for (const b of document.querySelectorAll("#review-reasons [data-reason]")) {
      const on = b.dataset.reason === reason;
      b.classList.toggle("active", on);
      b.setAttribute("aria-checked", on ? "true" : "false");
    }
  }

  function undoButton() {
    return mayDecide ? h("button", { id: "btn-undo", onclick: () => undo(), disabled: !last, title: t("review.undo.help") }, t("review.undo")) : null;
  }

  async function show() {
    main.innerHTML = "";
    main.append(h("h1", {}, t("review.title"), h("span", { class: "muted keys" }, mayDecide ? t("review.keys") : t("review.readonly"))));
    if (!queue.length) {
      main.append(h("p", { class: "muted", id: "review-empty" }, t("review.empty")), h("div", { class: "buttons" }, undoButton()));
      return;
    }
    idx = Math.max(0, Math.min(idx, queue.length - 1));
    reason = null;
    const d = await detail(queue[idx].id);
    const ev = best(d);
    const label = labelOf(d, ev);
    const others = d.evidence.filter((e) => e !== ev && e.kind !== "rectification" && e.photo_url && e.box);
    const mapBox = h("div", { class: "minimap" });
    const photo = photoWithBox(ev, label);
    photo.classList.add("zoomable");
    photo.title = t("review.zoom");
    photo.addEventListener("click", () => openZoom(ev, label));
    main.append(
      h("div", { class: "review", id: "review", "data-ticket": d.id },
        h("section", { class: "main-photo" }, photo),
        h("aside", {},
          h("div", { class: "counter", id: "review-counter" }, `${idx + 1} ${t("review.of")} ${queue.length}`),
          h("h2", {}, category(d.category, d.category_zh), " ", h("a", { href: `#/ticket/${encodeURIComponent(d.id)}` }, d.id)),
          h("figure", { class: "loupe-wrap" },
            loupe(ev, label, LOUPE_PX, () => openZoom(ev, label)),
            h("figcaption", { class: "muted" }, t("review.zoom"))),
          h("div", { class: "buttons" },
            mayDecide ? h("button", { class: "primary", id: "btn-confirm", onclick: () => decide("confirmed") }, t("review.confirm")) : null,
            mayDecide ? h("button", { class: "danger", id: "btn-reject", onclick: () => decide("rejected") }, t("review.reject")) : null,
            undoButton(),
            h("button", { id: "btn-prev", onclick: () => move(-1) }, t("review.prev")),
            h("button", { id: "btn-next", onclick: () => move(1) }, t("review.next"))),
          reasonButtons(),
          facts(d), mapBox)),
      others.length ? h("section", { id: "review-views" }, h("h3", {}, t("review.views")),
        h("div", { class: "views" }, others.map((e) => h("figure", { class: "view", "data-evidence": e.id },
          loupe(e, labelOf(d, e), VIEW_PX, () => openZoom(e, labelOf(d, e))),
          h("figcaption", { class: "muted" }, `${t(`ev.${e.kind}`)} · ${(e.score ?? d.score).toFixed(2)}`))))) : "");
    drawMap(mapBox, { network: net, tickets: queue, highlight: d.id, width: 360, height: 220, padding: 10,
                      tileUrl: ctx.session.config.tile_url });
    prefetch(idx + 1);
  }

  async function decide(to) {
    if (!mayDecide || busy || !queue.length) return;
    busy = true;
    const id = queue[idx].id;
    const body = to === "rejected" && reason ? { to, reject_reason: reason } : { to };
    try {
      await post(`/api/tickets/${encodeURIComponent(id)}/transition`, body);
      last = { ticket: queue[idx], index: idx };
      queue.splice(idx, 1);
      cache.delete(id);
      toast(`${id}: ${t(`to.${to}`)}${body.reject_reason ? `（${t(`reason.${body.reject_reason}`)}）` : ""}`);
      await show();
    } catch (e) {
      toast(errorText(e), true);
    } finally {
      busy = false;
    }
  }

  // Z: the latest decision taken back (the server checks it is still the latest thing that
  // happened to the ticket); the ticket returns to the queue where it was.
  async function undo() {
    if (!mayDecide || busy || !last) return;
    busy = true;
    const { ticket, index } = last;
    try {
      await post(`/api/tickets/${encodeURIComponent(ticket.id)}/undo`, {});
      last = null;
      cache.delete(ticket.id);
      idx = Math.min(index, queue.length);
      queue.splice(idx, 0, ticket);
      toast(`${ticket.id}: ${t("review.undone")}`);
      await show();
    } catch (e) {
      last = null;
      document.getElementById("btn-undo")?.setAttribute("disabled", "");
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
    if (zoomOpen()) return; // the zoom dialog has its own keys (Esc closes it)
    if (e.target.closest && e.target.closest("input, textarea, select, dialog")) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.toLowerCase();
    if (k === "y") { e.preventDefault(); decide("confirmed"); }
    else if (k === "n") { e.preventDefault(); decide("rejected"); }
    else if (k === "z") { e.preventDefault(); undo(); }
    else if (mayDecide && /^[1-9]$/.test(e.key) && reasons[+e.key - 1]) { e.preventDefault(); pick(reasons[+e.key - 1]); }
    else if (e.key === "ArrowRight") { e.preventDefault(); move(1); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); move(-1); }
  };
  document.addEventListener("keydown", onKey);
  await show();
  return () => { document.removeEventListener("keydown", onKey); document.getElementById("zoom")?.remove(); };
}
