"""First start: the ``admin`` account, with HEYAN_ADMIN_PASSWORD or a printed one-time password."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.security import hash_password, one_time_password
from heyan.serve.tables import User


def ensure_admin(db: Session, password: str | None, now: object) -> str | None:
    """Create ``admin`` when there are no users; return the generated password, if one was."""
    if db.scalar(sa.select(sa.func.count()).select_from(User)):
        return None
    generated = None
    if not password:
        password = generated = one_time_password()
    db.add(User(username="admin", password_hash=hash_password(password), role="admin", full_name="Administrator",
                segments=[], active=True, created_at=now))
    db.commit()
    return generated
