"""Who may do what: one table from permission to roles. Routes name a permission; a chief's
ticket access is further limited to his segments (``serve.deps``)."""

from __future__ import annotations

ROLES = ("admin", "reviewer", "chief", "operator", "viewer", "trainer")
EVERYONE = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    "tickets.read": EVERYONE,
    "tickets.review": frozenset({"admin", "reviewer"}),  # confirm, reject, dispatch, close
    "tickets.rectify": frozenset({"admin", "chief"}),
    "tickets.escalate": frozenset({"admin", "reviewer"}),
    "flights.read": frozenset({"admin", "reviewer", "operator", "viewer", "trainer"}),
    "flights.upload": frozenset({"admin", "operator"}),
    "rivers.read": EVERYONE,
    "rivers.write": frozenset({"admin"}),
    "users.admin": frozenset({"admin"}),
    "devices.admin": frozenset({"admin"}),
    # Raw edge events are not filtered by segment (many are off every river), so chiefs see
    # them as tickets only.
    "edge.read": frozenset({"admin", "reviewer", "operator", "viewer", "trainer"}),
    "exports.tickets": EVERYONE,
    "exports.training": frozenset({"admin", "reviewer"}),
    "stats.read": frozenset({"admin", "reviewer", "chief", "viewer"}),
    "blobs.read": EVERYONE,
    "patrols.write": frozenset({"admin", "chief"}),  # 巡河: a chief records his own
    "patrols.read": frozenset({"admin", "reviewer", "chief", "viewer"}),
    "reports.write": frozenset({"admin", "reviewer", "chief", "operator"}),  # 问题上报 by chiefs and staff
    "archive.read": frozenset({"admin", "reviewer", "chief", "viewer"}),  # 一河一档
    "notifications.read": frozenset({"admin", "reviewer"}),
    "notifications.run": frozenset({"admin"}),
    # Hand labels (serve.labels): a trainer (模型训练员) labels frames and exports them; he
    # sees flights and edge events for that, but decides no ticket.
    "labels.read": frozenset({"admin", "reviewer", "trainer", "operator", "viewer"}),
    "labels.write": frozenset({"admin", "reviewer", "trainer"}),
    "labels.export": frozenset({"admin", "reviewer", "trainer"}),
    # Site models (serve.training): reviewers and viewers see which model runs and how jobs
    # went; admins and trainers start jobs and switch models.
    "models.read": frozenset({"admin", "reviewer", "trainer", "viewer"}),
    "models.admin": frozenset({"admin", "trainer"}),
    "self": EVERYONE,  # one's own account: me, password, personal tokens, logout
}
