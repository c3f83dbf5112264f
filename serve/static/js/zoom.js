// Judging a small find: a loupe (the box and its surroundings cut from the full photo and
// drawn at a fixed readable size, pixels kept sharp when enlarged a lot) and a zoom view of
// the whole photo (wheel/buttons to zoom, drag to pan, the box outlined and labelled).
import { h } from "./dom.js";
import { t } from "./i18n.js";

const photos = new Map(); // url -> Promise<HTMLImageElement>, decoded once per page

export function loadPhoto(url) {
  if (!photos.has(url)) {
    photos.set(url, new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => { photos.delete(url); reject(new Error(url)); };
      img.src = url;
    }));
  }
  return photos.get(url);
}

// The square of the photo shown around a box: three times the box, at least `min` px.
function around(box, W, H, min = 48) {
  const [x1, y1, x2, y2] = box;
  const side = Math.min(Math.max(W, H), Math.max(min, 3 * Math.max(x2 - x1, y2 - y1)));
  const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
  const sx = Math.max(0, Math.min(W - side, cx - side / 2)), sy = Math.max(0, Math.min(H - side, cy - side / 2));
  return [sx, sy, Math.min(side, W), Math.min(side, H)];
}

// A canvas `size` CSS px square showing ev.box in its photo, labelled; `onopen` on click.
export function loupe(ev, label, size, onopen) {
  const canvas = h("canvas", { class: "loupe", width: size, height: size, role: "img", "aria-label": label,
                               title: t("review.zoom"), "data-state": "loading" });
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  if (onopen) canvas.addEventListener("click", onopen);
  if (!ev?.photo_url || !ev.box) { canvas.dataset.state = "none"; return canvas; }
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(size * ratio);
  canvas.height = Math.round(size * ratio);
  loadPhoto(ev.photo_url).then((img) => {
    const [sx, sy, sw, sh] = around(ev.box, img.naturalWidth, img.naturalHeight);
    const k = canvas.width / Math.max(sw, sh);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = k / ratio < 3; // a 10 px box shown 30x: sharp pixels, not a blur
    canvas.dataset.scale = (k / ratio).toFixed(1);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, sx, sy, sw, sh, 0, 0, sw * k, sh * k);
    const [x1, y1, x2, y2] = ev.box;
    ctx.lineWidth = 2 * ratio;
    ctx.strokeStyle = "#ffd400";
    ctx.strokeRect((x1 - sx) * k, (y1 - sy) * k, (x2 - x1) * k, (y2 - y1) * k);
    if (label) {
      ctx.font = `${13 * ratio}px system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif`;
      const w = ctx.measureText(label).width + 8 * ratio, top = Math.max(0, (y1 - sy) * k - 20 * ratio);
      ctx.fillStyle = "rgba(0,0,0,.7)";
      ctx.fillRect((x1 - sx) * k, top, w, 18 * ratio);
      ctx.fillStyle = "#ffd400";
      ctx.fillText(label, (x1 - sx) * k + 4 * ratio, top + 14 * ratio);
    }
    canvas.dataset.state = "drawn";
  }).catch(() => { canvas.dataset.state = "error"; });
  return canvas;
}

// The whole photo in a dialog, opened on the box; wheel or +/- zoom, drag pans, Esc closes.
export function openZoom(ev, label) {
  if (!ev?.photo_url) return null;
  document.getElementById("zoom")?.remove();
  const img = h("img", { src: ev.photo_url, alt: ev.image_name || "", id: "zoom-photo", draggable: "false" });
  const box = ev.box ? h("div", { class: "box" }, label ? h("span", { class: "box-label" }, label) : null) : null;
  const layer = h("div", { class: "zoom-layer" }, img, box);
  const stage = h("div", { class: "zoom-stage", id: "zoom-stage" }, layer);
  const level = h("span", { class: "muted", id: "zoom-level" });
  const dlg = h("dialog", { id: "zoom", class: "dialog zoom-dialog" },
    h("div", { class: "toolbar" },
      h("b", {}, t("review.zoom.title")), h("span", { class: "muted" }, label || ""),
      h("button", { type: "button", id: "zoom-in", onclick: () => zoomBy(1.5) }, "+"),
      h("button", { type: "button", id: "zoom-out", onclick: () => zoomBy(1 / 1.5) }, "−"),
      h("button", { type: "button", id: "zoom-fit", onclick: () => fit() }, t("review.zoom.fit")),
      h("button", { type: "button", id: "zoom-box", onclick: () => onBox() }, t("review.zoom.box")),
      level,
      h("button", { type: "button", id: "zoom-close", onclick: () => dlg.close() }, t("review.zoom.close"))),
    stage);
  document.body.append(dlg);
  dlg.addEventListener("close", () => dlg.remove());
  let s = 1, tx = 0, ty = 0, W = 0, H = 0;

  function apply() {
    const vw = stage.clientWidth, vh = stage.clientHeight;
    // Keep the photo in view: centred when smaller than the stage, edge to edge when larger.
    tx = W * s <= vw ? (vw - W * s) / 2 : Math.min(0, Math.max(vw - W * s, tx));
    ty = H * s <= vh ? (vh - H * s) / 2 : Math.min(0, Math.max(vh - H * s, ty));
    Object.assign(layer.style, { width: `${W * s}px`, height: `${H * s}px`, transform: `translate(${tx}px, ${ty}px)` });
    img.style.imageRendering = s >= 3 ? "pixelated" : "auto";
    level.textContent = `${Math.round(s * 100)}%`;
    dlg.dataset.scale = s.toFixed(3);
  }
  const fitScale = () => Math.min(stage.clientWidth / W, stage.clientHeight / H);
  function zoomAt(f, px, py) {
    const ns = Math.max(fitScale() * 0.5, Math.min(16, s * f));
    tx = px - ((px - tx) * ns) / s;
    ty = py - ((py - ty) * ns) / s;
    s = ns;
    apply();
  }
  function zoomBy(f) { zoomAt(f, stage.clientWidth / 2, stage.clientHeight / 2); }
  function fit() { s = fitScale(); apply(); }
  function onBox() {
    if (!ev.box) return fit();
    const [x1, y1, x2, y2] = ev.box;
    // The box at about a fifth of the view, never below the fitted photo.
    s = Math.max(fitScale(), Math.min(8, (0.2 * Math.min(stage.clientWidth, stage.clientHeight)) / Math.max(x2 - x1, y2 - y1, 1)));
    tx = stage.clientWidth / 2 - ((x1 + x2) / 2) * s;
    ty = stage.clientHeight / 2 - ((y1 + y2) / 2) * s;
    apply();
  }
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = stage.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  stage.addEventListener("pointerdown", (e) => { drag = { x: e.clientX - tx, y: e.clientY - ty }; stage.setPointerCapture(e.pointerId); });
  stage.addEventListener("pointermove", (e) => { if (drag) { tx = e.clientX - drag.x; ty = e.clientY - drag.y; apply(); } });
  stage.addEventListener("pointerup", () => { drag = null; });
  dlg.showModal();
  const ready = () => {
    W = img.naturalWidth; H = img.naturalHeight;
    if (box) {
      const [x1, y1, x2, y2] = ev.box;
      Object.assign(box.style, { left: `${(100 * x1) / W}%`, top: `${(100 * y1) / H}%`,
                                 width: `${(100 * (x2 - x1)) / W}%`, height: `${(100 * (y2 - y1)) / H}%` });
    }
    onBox();
    dlg.dataset.state = "ready";
  };
  img.complete && img.naturalWidth ? ready() : img.addEventListener("load", ready);
  return dlg;
}
