// 我的账号: change one's own password (the policy's refusals said in the user's language) and
// personal API tokens — created with a name, shown once, listed, revoked. The admin also
// sees and can revoke every user's tokens.
import { api, get, post } from "../api.js";
import { h, toast } from "../dom.js";
import { ago, errorText, fmtTime, t, tf } from "../i18n.js";
import { can } from "../roles.js";

// A refused password: the server's code; a too-short one is refused by the request check
// before the policy runs (invalid_request on the field), so it is named here.
function passwordError(ex) {
  const tooShort = ex?.body?.code === "invalid_request" &&
    (ex.body.errors || []).some((e) => e.type === "string_too_short" && e.loc.some((x) => /password/.test(x)));
  return tooShort ? t("code.password_too_short") : errorText(ex);
}

function tokenTable(id, rows, withUser, onRevoke) {
  if (!rows.length) return h("p", { class: "muted", id }, t("account.notokens"));
  const head = [...(withUser ? [t("col.user")] : []), t("col.name"), t("col.prefix"), t("col.created"), t("col.used"), t("col.state"), ""];
  return h("div", { class: "scroll" }, h("table", { id },
    h("thead", {}, h("tr", {}, head.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows.map((tk) => h("tr", { "data-token": tk.id, "data-name": tk.name, "data-revoked": tk.revoked_at ? "true" : "false" },
      withUser ? h("td", { class: "username" }, tk.username) : null, h("td", {}, tk.name), h("td", {}, h("code", {}, `${tk.prefix}…`)),
      h("td", {}, fmtTime(tk.created_at)), h("td", {}, tk.last_used_at ? ago(tk.last_used_at) : "—"),
      h("td", {}, tk.revoked_at ? h("span", { class: "muted" }, `${t("account.token.revoked")} ${fmtTime(tk.revoked_at)}`)
                                : t("account.token.active")),
      h("td", {}, tk.revoked_at ? "" : h("button", { type: "button", class: "t-revoke danger", onclick: () => onRevoke(tk) },
        t("account.token.revoke"))))))));
}

export async function render(main, _arg, ctx) {
  const user = ctx.session.user;
  const isAdmin = can(user, "users.admin");

  const old = h("input", { type: "password", id: "pw-old", required: true, autocomplete: "current-password" });
  const pw1 = h("input", { type: "password", id: "pw-new", required: true, autocomplete: "new-password" });
  const pw2 = h("input", { type: "password", id: "pw-new2", required: true, autocomplete: "new-password" });
  const pwStatus = h("p", { id: "pw-status", role: "status" });
  const pwForm = h("form", { class: "card", id: "password-form" }, h("h2", {}, t("account.password")),
    h("label", {}, t("account.old"), old), h("label", {}, t("account.new"), pw1), h("label", {}, t("account.new2"), pw2),
    h("p", { class: "muted" }, t("account.policy")),
    h("button", { type: "submit", class: "primary" }, t("account.change")), pwStatus);
  pwForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const bad = (msg) => { pwStatus.className = "error"; pwStatus.textContent = msg; };
    if (pw1.value !== pw2.value) return bad(t("account.mismatch"));
    try {
      await post("/api/auth/password", { old_password: old.value, new_password: pw1.value });
      pwForm.reset();
      pwStatus.className = "ok";
      pwStatus.textContent = t("account.changed");
      await refresh();
    } catch (ex) { bad(passwordError(ex)); }
  });

  const tname = h("input", { id: "tk-name", required: true, maxlength: 128 });
  const shown = h("div", { id: "tk-shown" });
  const mine = h("div", { id: "tk-mine" });
  const all = h("div", { id: "tk-all" });
  const tkForm = h("form", { class: "card", id: "token-form" }, h("h2", {}, t("account.tokens")),
    h("p", { class: "muted" }, t("account.tokens.hint")),
    h("div", { class: "toolbar" }, h("label", {}, t("account.token.name"), tname),
      h("button", { type: "submit", class: "primary" }, t("account.token.create"))), shown, mine);
  tkForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const made = await post("/api/auth/tokens", { name: tname.value.trim() });
      tname.value = "";
      shown.innerHTML = "";
      shown.append(h("p", {}, t("account.token.shown")), h("code", { class: "secret", id: "tk-secret" }, made.token));
      await refresh();
    } catch (ex) { toast(errorText(ex), true); }
  });

  async function revoke(tk) {
    try {
      await api("DELETE", `/api/auth/tokens/${tk.id}`);
      toast(tf("account.token.done", { name: tk.name }));
      await refresh();
    } catch (ex) { toast(errorText(ex), true); }
  }

  async function refresh() {
    const [own, every] = await Promise.all([get("/api/auth/tokens"), isAdmin ? get("/api/users/tokens") : null]);
    mine.innerHTML = "";
    mine.append(tokenTable("tokens-mine", own, false, revoke));
    if (every) {
      all.innerHTML = "";
      all.append(h("h2", {}, t("account.alltokens")), tokenTable("tokens-all", every, true, revoke));
    }
  }

  main.innerHTML = "";
  main.append(h("h1", {}, t("account.title"), h("span", { class: "muted keys" }, `${user.full_name || user.username}（${t(`role.${user.role}`)}）`)),
    pwForm, tkForm, isAdmin ? h("div", { class: "card" }, all) : "");
  await refresh();
}
