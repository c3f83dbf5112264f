// What the logged-in user may do: the server lists it (`permissions` of /api/auth/me and of
// the login answer, from serve/permissions.py). The server enforces it; the viewer only
// hides what would be refused, so nobody meets a bare 403.
export function can(user, permission) {
  return !!user && Array.isArray(user.permissions) && user.permissions.includes(permission);
}
