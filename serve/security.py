"""Secrets: argon2 password hashes; random tokens stored only as their sha256 (tokens are
256-bit random, so a fast hash is enough, unlike passwords); constant-time comparisons."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)

PERSONAL_PREFIX = "hyp_"  # personal API token
DEVICE_PREFIX = "hyd_"  # edge device token
MIN_PASSWORD = 8
# A valid hash to verify against when the user does not exist, so a wrong username takes as
# long as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("heyan-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


def one_time_password() -> str:
    return secrets.token_urlsafe(12)
