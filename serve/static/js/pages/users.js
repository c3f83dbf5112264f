// 用户与角色 (admin): every account, a new one, role changes, 停用/启用, 重置密码, and the
// link of a chief account to the river network: the segments it answers for, its level, and
// the chief the network registers there (name, phone) to check the link against.
import { api, get, post } from "../api.js";
import { modal } from "../dialogs.js";
import { h, toast } from "../dom.js";
import { errorText, fmtTime, levelName, t, tf } from "../i18n.js";
import { network } from "./common.js";

const ROLES = ["admin", "reviewer", "chief", "operator", "viewer"];
const LEVELS = ["village", "township", "county"];

const segName = (s) => [s.river, s.name].filter(Boolean).join(" · ") || s.id;

// The chief link fields: level, segments (ticked), the network's chief at that level beside each.
function chiefLink(segments, user) {
  const level = h("select", { name: "chief_level", class: "u-level" },
    LEVELS.map((lv) => h("option", { value: lv }, levelName(lv))));
  level.value = user?.chief_level || "village";
  const ticked = new Set(user?.segments || []);
  const list = h("div", { class: "seg-list" });
  const draw = () => {
    list.innerHTML = "";
    if (!segments.length) { list.append(h("p", { class: "muted" }, t("users.nonetwork"))); return; }
    for (const s of segments) {
      const c = (s.chiefs || {})[level.value];
      list.append(h("label", { class: "check seg" },
        h("input", { type: "checkbox", value: s.id, "data-segment": s.id, checked: ticked.has(s.id),
                     onchange: (e) => { e.target.checked ? ticked.add(s.id) : ticked.delete(s.id); } }),
        h("span", {}, segName(s)),
        h("span", { class: "muted" }, c?.name ? ` — ${t("users.link.registered")}：${c.name}${c.phone ? ` ${c.phone}` : ""}` : "")));
    }
  };
  level.addEventListener("change", draw);
  draw();
  const box = h("fieldset", { class: "chief-link" }, h("legend", {}, t("users.link")),
    h("p", { class: "muted" }, t("users.link.hint")), h("label", {}, t("users.level"), level), list);
  return { box, values: () => ({ chief_level: level.value, segments: [...ticked] }) };
}

function roleSelect(value, id) {
  const s = h("select", { name: "role", id }, ROLES.map((r) => h("option", { value: r }, t(`role.${r}`))));
  s.value = value;
  return s;
}

function linkText(u, segments) {
  if (u.role !== "chief") return "—";
  if (!u.segments.length) return h("span", { class: "overdue" }, t("users.nolink"));
  const names = u.segments.map((id) => segName(segments.find((s) => s.id === id) || { id }));
  return `${levelName(u.chief_level)}：${names.join("、")}`;
}

export async function render(main) {
  const net = await network();
  const segments = (net?.features || []).filter((x) => x.properties?.kind === "segment").map((x) => x.properties);
  const list = h("div", { id: "user-list" });

  // New user: the chief link shows only for the chief role.
  const uname = h("input", { id: "nu-username", required: true, maxlength: 64, pattern: "[A-Za-z0-9_.@\\-]+", autocomplete: "off" });
  const fname = h("input", { id: "nu-fullname", maxlength: 128 });
  const role = roleSelect("viewer", "nu-role");
  const pw = h("input", { id: "nu-password", type: "password", required: true, minlength: 8, autocomplete: "new-password" });
  const phone = h("input", { id: "nu-phone", type: "tel", maxlength: 20 });
  const link = chiefLink(segments, null);
  const status = h("p", { id: "nu-status", role: "status" });
  const showLink = () => { link.box.hidden = role.value !== "chief"; };
  role.addEventListener("change", showLink);
  showLink();
  const form = h("form", { class: "card", id: "new-user" }, h("h2", {}, t("users.new")),
    h("div", { class: "toolbar" }, h("label", {}, t("users.username"), uname), h("label", {}, t("users.fullname"), fname),
      h("label", {}, t("users.role"), role), h("label", {}, t("users.password"), pw), h("label", {}, t("users.phone"), phone)),
    h("p", { class: "muted" }, t("account.policy")), link.box,
    h("button", { type: "submit", class: "primary", id: "nu-submit" }, t("users.create")), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { username: uname.value.trim(), password: pw.value, role: role.value, full_name: fname.value.trim() || null,
                   phone: phone.value.trim() || null, ...(role.value === "chief" ? link.values() : {}) };
    try {
      await post("/api/users", body);
      status.className = "";
      status.textContent = tf("users.created", { name: body.username });
      form.reset();
      role.value = "viewer";
      showLink();
      await refresh();
    } catch (ex) { status.className = "error"; status.textContent = errorText(ex); }
  });

  async function patch(u, body, done) {
    try { await api("PATCH", `/api/users/${u.id}`, body); toast(done); await refresh(); }
    catch (ex) { toast(errorText(ex), true); }
  }

  function edit(u) {
    const r = roleSelect(u.role, "eu-role");
    const n = h("input", { id: "eu-fullname", maxlength: 128, value: u.full_name || "" });
    const p = h("input", { id: "eu-phone", type: "tel", maxlength: 20, value: u.phone || "" });
    const l = chiefLink(segments, u);
    const show = () => { l.box.hidden = r.value !== "chief"; };
    r.addEventListener("change", show);
    show();
    const { dlg } = modal("eu", `${t("users.edit")}：${u.username}`, h("div", {},
      h("label", {}, t("users.role"), r), h("label", {}, t("users.fullname"), n), h("label", {}, t("users.phone"), p), l.box), t("users.save"));
    dlg.addEventListener("close", () => {
      if (dlg.returnValue === "ok") {
        patch(u, { role: r.value, full_name: n.value.trim(), phone: p.value.trim(), ...(r.value === "chief" ? l.values() : {}) },
          t("users.saved"));
      }
      dlg.remove();
    });
    dlg.showModal();
  }

  function reset(u) {
    const p = h("input", { id: "rp-password", type: "password", minlength: 8, required: true, autocomplete: "new-password" });
    const { dlg } = modal("rp", `${t("users.reset")}：${u.username}`, h("div", {},
      h("label", {}, t("users.reset.new"), p), h("p", { class: "muted" }, t("account.policy"))), t("users.reset"));
    dlg.addEventListener("close", () => {
      if (dlg.returnValue === "ok" && p.value) patch(u, { password: p.value }, tf("users.reset.done", { name: u.username }));
      dlg.remove();
    });
    dlg.showModal();
  }

  async function refresh() {
    const users = await get("/api/users");
    list.innerHTML = "";
    const rows = users.map((u) => h("tr", { "data-user": u.username, class: u.active ? "" : "inactive" },
      h("td", { class: "username" }, u.username), h("td", {}, u.full_name || "—"), h("td", { class: "u-role" }, t(`role.${u.role}`)),
      h("td", { class: "u-link" }, linkText(u, segments)), h("td", {}, u.phone || "—"),
      h("td", { class: "u-state" }, u.active ? t("users.enabled") : h("span", { class: "overdue" }, t("users.disabled"))),
      h("td", {}, fmtTime(u.created_at)),
      h("td", { class: "buttons" },
        h("button", { type: "button", class: "u-edit", onclick: () => edit(u) }, t("users.edit")),
        h("button", { type: "button", class: "u-reset", onclick: () => reset(u) }, t("users.reset")),
        h("button", { type: "button", class: u.active ? "u-toggle danger" : "u-toggle",
                      onclick: () => patch(u, { active: !u.active }, t("users.saved")) },
          u.active ? t("users.disable") : t("users.enable")))));
    list.append(h("div", { class: "scroll" }, h("table", { id: "users-table" },
      h("thead", {}, h("tr", {}, [t("users.username"), t("users.fullname"), t("users.role"), t("users.link"), t("users.phone"),
                                   t("users.state"), t("users.col.created"), t("ticket.actions")].map((x) => h("th", {}, x)))),
      h("tbody", {}, rows))));
  }

  main.innerHTML = "";
  main.append(h("h1", {}, t("users.title")), form, list);
  await refresh();
}
