// Which roles may do what, as serve/permissions.py says (the server enforces it; the viewer
// only hides what would be refused, so nobody meets a bare 403).
const PERMS = {
  "tickets.review": ["admin", "reviewer"],
  "tickets.escalate": ["admin", "reviewer"],
  "tickets.rectify": ["admin", "chief"],
};

export function can(user, permission) {
  return !!user && (PERMS[permission] || []).includes(user.role);
}
