import { get, post } from "../api.js";
import { h } from "../dom.js";
import { errorText, t } from "../i18n.js";

export async function render(main, _arg, ctx) {
  const err = h("p", { class: "error", id: "login-error" });
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "card narrow", id: "login-form" },
    h("h1", {}, t("login.title")),
    h("label", {}, t("login.user"), user),
    h("label", {}, t("login.password"), pass),
    h("button", { type: "submit", class: "primary" }, t("login.submit")), err);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    try {
      const out = await post("/api/auth/login", { username: user.value, password: pass.value });
      ctx.session.user = out.user;
      try { ctx.session.config = await get("/api/config"); } catch { ctx.session.config = {}; }
      ctx.go("");
    } catch (ex) {
      // A wrong password, too many attempts, a busy server: said in the page's language
      // (errorText maps the server's stable error code; its English detail only in English).
      err.textContent = `${t("login.failed")}：${errorText(ex)}`;
    }
  });
  main.innerHTML = "";
  main.append(form);
  user.focus();
}
