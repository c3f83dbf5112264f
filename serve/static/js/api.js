// The JSON API as the page uses it: the session cookie goes along by itself; state
// changes echo the CSRF cookie in X-CSRF-Token (double submit, see serve/deps.py).
export class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)heyan_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function api(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") init.headers["X-CSRF-Token"] = csrf();
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(path, init); } catch (e) { throw new ApiError(0, String(e)); }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!r.ok) throw new ApiError(r.status, (data && data.detail) || `HTTP ${r.status}`, data);
  return data;
}

export const get = (p) => api("GET", p);
export const post = (p, b) => api("POST", p, b);

// Query string from a filter object; arrays repeat the parameter, empty values are left out.
export function query(filter) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter || {})) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

// Upload with progress: fetch() cannot report upload progress, XMLHttpRequest can.
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("POST", path);
    x.setRequestHeader("X-CSRF-Token", csrf());
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    x.onload = () => {
      let data = null;
      try { data = JSON.parse(x.responseText); } catch { data = x.responseText; }
      if (x.status >= 200 && x.status < 300) resolve(data);
      else reject(new ApiError(x.status, (data && data.detail) || `HTTP ${x.status}`, data));
    };
    x.onerror = () => reject(new ApiError(0, "network error"));
    x.send(form);
  });
}
