// 标注: hand labels on one frame (#/label/<sha256>), or the 待标注 queue (#/label).
// A canvas shows the downscaled preview first and the full photo once zoomed past it; boxes
// live in the photo's full-resolution pixels, the view maps them to the screen
// (screen = photo * scale + offset). Keyboard first: 1-5 class, Del delete, Tab next box,
// F 已完整标注 (saves), S save, →/← next/previous frame (saves first), +/-/0 zoom, Esc.
import { get, post } from "../api.js";
import { h, toast } from "../dom.js";
import { className, errorText, fmtTime, t } from "../i18n.js";
import { can } from "../roles.js";

const HANDLE = 7; // px on screen: grab distance of a corner
const MIN_BOX = 3; // px on screen: a smaller drag is a click, not a box
// The queue the person walks with → / ←; kept across frames (each frame is its own route).
const walk = { items: [], idx: -1 };

export async function render(main, arg, ctx) {
  if (!arg) return startQueue(main, ctx);
  const sha = arg;
  const frame = await get(`/api/labels/frames/${sha}`);
  const mayWrite = can(ctx.session.user, "labels.write");
  const classes = frame.classes;
  const colour = Object.fromEntries(classes.map((c) => [c.name, c.colour]));
  // Saved labels were checked by a person; the machine's detections are drawn dashed until touched.
  let boxes = structuredClone(frame.labels ? frame.labels.boxes.map((b) => ({ ...b, checked: true })) : frame.detections.map(({ class: c, box, ticket_id, score }) =>
    ({ class: c, box, origin: "detection", ...(ticket_id ? { ticket_id } : {}), ...(score != null ? { score } : {}) })));
  let base = frame.labels ? frame.labels.version : null;
  let complete = frame.labels ? frame.labels.complete : false;
  let dirty = false;
  let selected = -1;
  let drawClass = classes[0].name;
  let busy = false;
  let drag = null; // the mouse gesture under way: draw | move | resize | pan
  let spaceDown = false; // space held: dragging pans
  const pos = walk.items.findIndex((i) => i.sha256 === sha);
  if (pos >= 0) walk.idx = pos;

  // ---------------------------------------------------------------- layout
  const canvas = h("canvas", { id: "label-canvas", tabindex: "0" });
  const list = h("ol", { id: "label-boxes", class: "label-boxes" });
  const status = h("span", { id: "label-status", class: "muted" });
  const classBar = h("div", { class: "label-classes", id: "label-classes" }, classes.map((c, i) =>
    h("button", { "data-class": c.name, onclick: () => setClass(c.name) },
      swatch(c.colour), `${i + 1} ${className(c.name)}`)));
  const completeBtn = h("button", { id: "btn-complete", onclick: () => toggleComplete() }, "");
  const saveBtn = h("button", { id: "btn-save", class: "primary", onclick: () => save() }, t("label.save"));
  const where = walk.idx >= 0 && walk.items[walk.idx]?.sha256 === sha ? `${walk.idx + 1} / ${walk.items.length} · ${t(`label.why.${walk.items[walk.idx].reason}`)}` : "";
  main.innerHTML = "";
  main.classList.add("wide");
  main.append(h("div", { class: "label-page", id: "label-page", "data-sha": sha },
    h("div", { class: "label-top" },
      h("h1", {}, t("label.title"), " ", h("span", { class: "muted" }, frame.name)),
      h("span", { class: "muted", id: "label-where" }, where),
      h("span", { class: "muted keys" }, t("label.keys"))),
    h("div", { class: "label-tools" }, classBar,
      mayWrite ? h("div", { class: "buttons" }, saveBtn, completeBtn,
        h("button", { id: "btn-delete", onclick: () => remove() }, t("label.delete")),
        h("button", { id: "btn-next-frame", onclick: () => nextFrame(1) }, t("label.next"))) : h("span", { class: "muted" }, t("label.readonly")),
      status),
    h("div", { class: "label-body" }, h("div", { class: "label-stage", id: "label-stage" }, canvas),
      h("aside", { class: "label-side" }, h("h3", {}, t("label.boxes")), list,
        h("h3", {}, t("label.versions")),
        h("ul", { class: "label-versions", id: "label-versions" }, frame.versions.map((v) =>
          h("li", { "data-version": v.version }, `v${v.version} · ${v.created_by} · ${fmtTime(v.created_at)} · ${v.n_boxes} ${t("label.n")}${v.complete ? ` · ${t("label.complete")}` : ""}`)))))));

  // ---------------------------------------------------------------- images and view
  const W = frame.width, H = frame.height;
  const view = { scale: 1, ox: 0, oy: 0 };
  let img = null; // what is drawn: the preview, then the full photo
  let full = null; // the full photo once loaded
  const preview = new Image();
  preview.src = frame.preview_url;
  preview.onload = () => { if (!full) { img = preview; fit(); } };
  const needFull = () => {
    if (full || !img) return;
    if (view.scale * W > preview.naturalWidth * 1.05) {
      full = new Image();
      full.src = frame.photo_url;
      full.onload = () => { img = full; draw(); };
    }
  };

  const ctx2 = canvas.getContext("2d");
  function sizeCanvas() {
    const stage = canvas.parentElement;
    const r = stage.getBoundingClientRect();
    const height = Math.max(300, window.innerHeight - r.top - 12);
    stage.style.height = `${height}px`;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(r.width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${r.width}px`;
    canvas.style.height = `${height}px`;
    ctx2.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  function fit() {
    sizeCanvas();
    const cw = canvas.clientWidth, ch = canvas.clientHeight;
    view.scale = Math.min(cw / W, ch / H);
    view.ox = (cw - W * view.scale) / 2;
    view.oy = (ch - H * view.scale) / 2;
    draw();
  }
  function zoomAt(factor, sx, sy) {
    const s = Math.max(Math.min(canvas.clientWidth / W, canvas.clientHeight / H) * 0.5, Math.min(8, view.scale * factor));
    view.ox = sx - ((sx - view.ox) * s) / view.scale;
    view.oy = sy - ((sy - view.oy) * s) / view.scale;
    view.scale = s;
    needFull();
    draw();
  }
  const toScreen = ([x1, y1, x2, y2]) => [x1 * view.scale + view.ox, y1 * view.scale + view.oy, x2 * view.scale + view.ox, y2 * view.scale + view.oy];
  const toPhoto = (sx, sy) => [(sx - view.ox) / view.scale, (sy - view.oy) / view.scale];
  const clampBox = ([x1, y1, x2, y2]) => {
    const a = [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
    return [Math.max(0, a[0]), Math.max(0, a[1]), Math.min(W, a[2]), Math.min(H, a[3])].map((v) => Math.round(v * 100) / 100);
  };

  function draw() {
    const cw = canvas.clientWidth, ch = canvas.clientHeight;
    ctx2.fillStyle = "#111";
    ctx2.fillRect(0, 0, cw, ch);
    if (img) ctx2.drawImage(img, view.ox, view.oy, W * view.scale, H * view.scale);
    boxes.forEach((b, i) => {
      const [x1, y1, x2, y2] = toScreen(b.box);
      ctx2.lineWidth = i === selected ? 3 : 2;
      ctx2.strokeStyle = colour[b.class] || "#fff";
      ctx2.setLineDash(b.origin === "detection" && !b.checked ? [6, 3] : []);
      ctx2.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx2.setLineDash([]);
      if (i === selected) {
        ctx2.fillStyle = "#fff";
        for (const [x, y] of [[x1, y1], [x2, y1], [x1, y2], [x2, y2]]) ctx2.fillRect(x - 4, y - 4, 8, 8);
      }
      ctx2.font = "12px system-ui, sans-serif";
      const tag = className(b.class);
      ctx2.fillStyle = colour[b.class] || "#fff";
      ctx2.fillRect(x1, y1 - 16, ctx2.measureText(tag).width + 8, 16);
      ctx2.fillStyle = "#000";
      ctx2.fillText(tag, x1 + 4, y1 - 4);
    });
    if (drag && drag.mode === "draw") {
      const [x1, y1, x2, y2] = toScreen(drag.box);
      ctx2.strokeStyle = colour[drawClass];
      ctx2.lineWidth = 2;
      ctx2.strokeRect(x1, y1, x2 - x1, y2 - y1);
    }
    // What a test (and a curious person) can read: the view transform.
    Object.assign(canvas.dataset, { scale: view.scale, ox: view.ox, oy: view.oy, full: full && img === full ? "1" : "0" });
    renderSide();
  }

  function renderSide() {
    list.innerHTML = "";
    boxes.forEach((b, i) => list.append(h("li", { class: i === selected ? "sel" : "", "data-class": b.class, "data-index": i,
      "data-ticket": b.ticket_id || "", onclick: () => { selected = i; draw(); } },
      swatch(colour[b.class]), className(b.class),
      b.ticket_id ? h("a", { href: `#/ticket/${encodeURIComponent(b.ticket_id)}`, class: "muted" }, ` ${t("label.ticket")}`) : "",
      b.origin === "detection" && b.score != null ? h("span", { class: "muted" }, ` ${b.score.toFixed(2)}`) : "")));
    for (const btn of classBar.querySelectorAll("button")) {
      const cur = selected >= 0 ? boxes[selected].class : drawClass;
      btn.classList.toggle("active", btn.dataset.class === cur);
    }
    completeBtn.textContent = complete ? `✓ ${t("label.complete")}` : `${t("label.mark_complete")} (F)`;
    completeBtn.classList.toggle("primary", complete);
    status.textContent = `${base ? `v${base}` : t("label.unsaved")}${dirty ? ` · ${t("label.dirty")}` : ""} · ${boxes.length} ${t("label.n")}`;
    status.dataset.version = base || "";
    status.dataset.dirty = dirty ? "1" : "0";
  }

  // ---------------------------------------------------------------- editing
  const change = () => { dirty = true; draw(); };
  function setClass(name) {
    if (selected >= 0 && mayWrite) { boxes[selected].class = name; boxes[selected].checked = true; change(); }
    else { drawClass = name; draw(); }
  }
  function remove() {
    if (selected < 0 || !mayWrite) return;
    boxes.splice(selected, 1);
    selected = Math.min(selected, boxes.length - 1);
    change();
  }
  async function toggleComplete() { complete = !complete; dirty = true; await save(); }

  async function save() {
    if (!mayWrite || busy) return false;
    busy = true;
    try {
      const body = { boxes: boxes.map(({ checked, ...b }) => b), complete, base_version: base };
      const r = await post(`/api/labels/frames/${sha}`, body);
      base = r.version;
      boxes = r.boxes.map((b) => ({ ...b, checked: true }));
      dirty = false;
      toast(r.tickets_changed.length ? t("label.saved_tickets").replace("{n}", r.tickets_changed.length) : `${t("label.saved")} v${r.version}`);
      const ul = document.getElementById("label-versions");
      ul.prepend(h("li", { "data-version": r.version }, `v${r.version} · ${r.created_by} · ${fmtTime(r.created_at)} · ${r.boxes.length} ${t("label.n")}${r.complete ? ` · ${t("label.complete")}` : ""}`));
      draw();
      return true;
    } catch (e) {
      toast(errorText(e), true);
      return false;
    } finally {
      busy = false;
    }
  }

  async function nextFrame(step) {
    if (dirty && !(await save())) return;
    if (!walk.items.length) {
      try { walk.items = (await get("/api/labels/queue?limit=200")).items; walk.idx = -1; } catch (e) { toast(errorText(e), true); return; }
    }
    let i = walk.idx + step;
    while (walk.items[i] && walk.items[i].sha256 === sha) i += step;
    if (i < 0 || i >= walk.items.length) { toast(t("label.queue_end")); return; }
    walk.idx = i;
    ctx.go(`label/${walk.items[i].sha256}`);
  }

  // ---------------------------------------------------------------- mouse
  const at = (e) => { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  function hit(sx, sy) {
    if (selected >= 0) {
      const [x1, y1, x2, y2] = toScreen(boxes[selected].box);
      const corners = [[x1, y1, 0, 1], [x2, y1, 2, 1], [x1, y2, 0, 3], [x2, y2, 2, 3]];
      for (const [x, y, ix, iy] of corners) if (Math.abs(sx - x) <= HANDLE && Math.abs(sy - y) <= HANDLE) return { i: selected, corner: [ix, iy] };
    }
    // The smallest box under the pointer: a small object inside a large one stays reachable.
    let best = -1, area = Infinity;
    boxes.forEach((b, i) => {
      const [x1, y1, x2, y2] = toScreen(b.box);
      if (sx >= x1 && sx <= x2 && sy >= y1 && sy <= y2 && (x2 - x1) * (y2 - y1) < area) { best = i; area = (x2 - x1) * (y2 - y1); }
    });
    return best >= 0 ? { i: best } : null;
  }
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener("mousedown", (e) => {
    canvas.focus();
    const [sx, sy] = at(e);
    if (e.button === 1 || e.button === 2 || e.shiftKey || spaceDown || !mayWrite) {
      drag = { mode: "pan", sx, sy, ox: view.ox, oy: view.oy };
      return;
    }
    const got = hit(sx, sy);
    if (got && got.corner) drag = { mode: "resize", i: got.i, corner: got.corner, start: [...boxes[got.i].box] };
    else if (got) { selected = got.i; drag = { mode: "move", i: got.i, p: toPhoto(sx, sy), start: [...boxes[got.i].box] }; }
    else { selected = -1; const p = toPhoto(sx, sy); drag = { mode: "draw", p, box: [p[0], p[1], p[0], p[1]], sx, sy }; }
    draw();
  });
  const onMove = (e) => {
    if (!drag) return;
    const [sx, sy] = at(e);
    const [px, py] = toPhoto(sx, sy);
    if (drag.mode === "pan") { view.ox = drag.ox + sx - drag.sx; view.oy = drag.oy + sy - drag.sy; draw(); return; }
    if (drag.mode === "draw") { drag.box = [drag.p[0], drag.p[1], px, py]; draw(); return; }
    const b = boxes[drag.i];
    if (drag.mode === "move") {
      const dx = Math.max(-drag.start[0], Math.min(W - drag.start[2], px - drag.p[0]));
      const dy = Math.max(-drag.start[1], Math.min(H - drag.start[3], py - drag.p[1]));
      b.box = [drag.start[0] + dx, drag.start[1] + dy, drag.start[2] + dx, drag.start[3] + dy].map((v) => Math.round(v * 100) / 100);
    } else {
      const nb = [...drag.start];
      nb[drag.corner[0]] = px;
      nb[drag.corner[1]] = py;
      b.box = clampBox(nb);
    }
    b.checked = true;
    drag.moved = true;
    draw();
  };
  const onUp = (e) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (d.mode === "draw") {
      const [sx, sy] = at(e);
      if (Math.abs(sx - d.sx) >= MIN_BOX && Math.abs(sy - d.sy) >= MIN_BOX) {
        boxes.push({ class: drawClass, box: clampBox(d.box), origin: "drawn" });
        selected = boxes.length - 1;
        change();
        return;
      }
    }
    if (d.moved) change(); else draw();
  };
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  canvas.addEventListener("wheel", (e) => { e.preventDefault(); const [sx, sy] = at(e); zoomAt(e.deltaY < 0 ? 1.25 : 0.8, sx, sy); }, { passive: false });

  // ---------------------------------------------------------------- keyboard
  const onKey = (e) => {
    if (e.target.closest && e.target.closest("input, textarea, select")) return;
    if (e.type === "keyup") { if (e.key === " ") spaceDown = false; return; }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") { e.preventDefault(); save(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key;
    const n = Number.parseInt(k, 10);
    if (n >= 1 && n <= classes.length) { e.preventDefault(); setClass(classes[n - 1].name); }
    else if (k === "Delete" || k === "Backspace") { e.preventDefault(); remove(); }
    else if (k === "Tab") { e.preventDefault(); if (boxes.length) { selected = (selected + (e.shiftKey ? -1 : 1) + boxes.length) % boxes.length; draw(); } }
    else if (k === "Escape") { selected = -1; drag = null; draw(); }
    else if (k.toLowerCase() === "f" && mayWrite) { e.preventDefault(); toggleComplete(); }
    else if (k.toLowerCase() === "s" && mayWrite) { e.preventDefault(); save(); }
    else if (k === "ArrowRight" || k.toLowerCase() === "n") { e.preventDefault(); nextFrame(1); }
    else if (k === "ArrowLeft") { e.preventDefault(); nextFrame(-1); }
    else if (k === "+" || k === "=") zoomAt(1.25, canvas.clientWidth / 2, canvas.clientHeight / 2);
    else if (k === "-") zoomAt(0.8, canvas.clientWidth / 2, canvas.clientHeight / 2);
    else if (k === "0") fit();
    else if (k === " ") { e.preventDefault(); spaceDown = true; }
  };
  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", onKey);
  const onResize = () => fit();
  window.addEventListener("resize", onResize);
  const onLeave = (e) => { if (dirty) { e.preventDefault(); e.returnValue = ""; } };
  window.addEventListener("beforeunload", onLeave);
  fit();
  canvas.focus();

  return () => {
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("keyup", onKey);
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
    window.removeEventListener("resize", onResize);
    window.removeEventListener("beforeunload", onLeave);
    main.classList.remove("wide");
  };
}

// A class's colour square; the colour set through the DOM (the CSP allows no style attribute).
function swatch(colour) {
  const i = h("i", {});
  i.style.background = colour;
  return i;
}

// #/label: the 待标注 queue, then its first frame.
async function startQueue(main, ctx) {
  const q = await get("/api/labels/queue?limit=200");
  walk.items = q.items;
  walk.idx = -1;
  main.innerHTML = "";
  main.append(h("h1", {}, t("label.queue")), h("p", { class: "muted" }, t("label.queue_help").replace("{p}", Math.round(q.random_share * 100))));
  if (!q.items.length) { main.append(h("p", { class: "muted", id: "label-empty" }, t("label.queue_empty"))); return null; }
  const counts = {};
  for (const i of q.items) counts[i.reason] = (counts[i.reason] || 0) + 1;
  main.append(h("p", { id: "label-queue-counts" }, Object.entries(counts).map(([r, n]) => h("span", { class: "tag", "data-reason": r }, `${t(`label.why.${r}`)} ${n}`))),
    h("ol", { class: "label-queue", id: "label-queue" }, q.items.map((it, i) =>
      h("li", {}, h("a", { href: `#/label/${it.sha256}`, onclick: () => { walk.idx = i; } }, it.name), " ",
        h("span", { class: "muted" }, t(`label.why.${it.reason}`))))),
    h("div", { class: "buttons" }, h("button", { class: "primary", id: "btn-start", onclick: () => { walk.idx = 0; ctx.go(`label/${q.items[0].sha256}`); } }, t("label.start"))));
  return null;
}
