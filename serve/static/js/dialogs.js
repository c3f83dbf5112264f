// The 交办 dialog (assign one or several confirmed tickets, or send a rectified one back:
// 退回整改) and the 督办/催办 dialog. Each resolves to what the reviewer chose, or null when
// cancelled; the caller makes the API calls, so the ledger can assign a batch with one form.
import { h } from "./dom.js";
import { levelName, t, tf } from "./i18n.js";

const LEVELS = ["village", "township", "county"]; // lowest first: a ticket goes there by default

// A <dialog> appended to the body and removed when it closes: one open at a time.
export function modal(id, title, body, submitText) {
  document.getElementById(id)?.remove();
  const form = h("form", { method: "dialog", class: "dialog-form" }, h("h2", {}, title), body,
    h("div", { class: "buttons" },
      h("button", { type: "submit", class: "primary", id: `${id}-submit`, value: "ok" }, submitText),
      h("button", { type: "button", id: `${id}-cancel`, onclick: () => dlg.close("") }, t("jb.cancel"))));
  const dlg = h("dialog", { id, class: "dialog" }, form);
  document.body.append(dlg);
  return { dlg, form };
}

function pad(n) { return String(n).padStart(2, "0"); }

// A datetime-local value (the browser's own clock, an office's is Beijing time) and back.
function localValue(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// The chiefs of `tickets` at `level`: "name (phone)" each, once.
function chiefsAt(tickets, level) {
  const seen = new Map();
  for (const tk of tickets) {
    const c = (tk.chiefs || {})[level];
    if (c && c.name && !seen.has(c.name)) seen.set(c.name, c.phone || "");
  }
  return [...seen].map(([name, phone]) => ({ name, phone }));
}

// tickets: details (with chiefs and deadline_days). back: 退回整改 of a rectified ticket.
export function dispatchDialog(tickets, { back = false } = {}) {
  const levels = LEVELS.filter((lv) => chiefsAt(tickets, lv).length);
  const level = h("select", { id: "jb-level", name: "level" },
    LEVELS.map((lv) => h("option", { value: lv, disabled: !levels.includes(lv) }, levelName(lv))));
  level.value = levels[0] || "village";
  const person = h("div", { id: "jb-person", class: "jb-person" });
  const showPerson = () => {
    person.innerHTML = "";
    const list = chiefsAt(tickets, level.value);
    if (!list.length) { person.append(h("span", { class: "error" }, t("jb.nochief"))); return; }
    for (const c of list) {
      person.append(h("div", { class: "jb-chief" }, h("b", {}, c.name), " ",
        c.phone ? h("a", { href: `tel:${c.phone}`, class: "jb-phone" }, `${t("jb.phone")} ${c.phone}`) : ""));
    }
  };
  level.addEventListener("change", showPerson);
  showPerson();
  // The rule's days (the first ticket's; a batch usually shares a category), editable.
  const days = tickets.find((x) => x.deadline_days != null)?.deadline_days ?? 7;
  const due = new Date(Date.now() + days * 86400e3);
  const deadline = h("input", { type: "datetime-local", id: "jb-deadline", required: true, value: localValue(due),
                                min: localValue(new Date()), max: localValue(new Date(Date.now() + 366 * 86400e3)) });
  const note = h("textarea", { id: "jb-note", rows: 2, maxlength: 4000 });
  const body = h("div", {},
    tickets.length > 1 ? h("p", { class: "muted" }, tf("ledger.selected", { n: tickets.length })) : "",
    h("label", {}, t("jb.level"), level),
    h("div", { class: "jb-row" }, h("span", { class: "muted" }, t("jb.person")), person),
    h("label", {}, t("jb.deadline"), deadline, h("span", { class: "muted", id: "jb-rule" }, tf("jb.rule_days", { n: days }))),
    h("label", {}, t("jb.note"), note));
  const { dlg } = modal("jb", back ? t("jb.title.back") : t("jb.title"), body, back ? t("jb.submit.back") : t("jb.submit"));
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      const ok = dlg.returnValue === "ok" && deadline.value;
      const out = ok ? { chief_level: level.value, deadline: new Date(deadline.value).toISOString(),
                         comment: note.value || null } : null;
      dlg.remove();
      resolve(out);
    });
    dlg.showModal();
  });
}

// 督办/催办: a note for the chief's record. Resolves to { comment } or null.
export function urgeDialog() {
  const note = h("textarea", { id: "urge-note", rows: 2, maxlength: 4000 });
  const { dlg } = modal("urge", t("urge.title"), h("label", {}, t("urge.note"), note), t("urge.submit"));
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      const out = dlg.returnValue === "ok" ? { comment: note.value || null } : null;
      dlg.remove();
      resolve(out);
    });
    dlg.showModal();
  });
}
