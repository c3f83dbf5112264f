"""Secrets: argon2 password hashes; random tokens stored only as their sha256 (tokens are
256-bit random, so a fast hash is enough, unlike passwords); constant-time comparisons."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from functools import lru_cache
from pathlib import Path

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


COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
PASSPHRASE = 20  # this long, a password is a passphrase: common words in it are fine
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def _norm(s: str) -> str:
    """Lower case, letters and digits only (so 'Admin-2024!' and 'admin2024' compare equal)."""
    s = unicodedata.normalize("NFKC", s).lower()
    return "".join(ch for ch in s if ch.isalnum())


def _sequence(s: str) -> bool:
    """Runs along the digits, the alphabet or a keyboard row, either way ('12345678', 'zyxwvuts')."""
    return len(s) >= 4 and any(s in seq or s in seq[::-1] for seq in _SEQUENCES)


def password_problem(password: str, username: str = "", full_name: str | None = None) -> str | None:
    """Why a new password is refused (English), or None; ``password_refusal`` adds the code."""
    refusal = password_refusal(password, username, full_name)
    return refusal[1] if refusal else None


def password_refusal(password: str, username: str = "", full_name: str | None = None) -> tuple[str, str] | None:
    """Why a new password is refused, as (stable error code, English message), or None.
    Length at least MIN_PASSWORD; not one of the commonly guessed passwords
    (``data/common-passwords.txt``, also with digits and symbols added at the end); not a
    run or a repetition; not made from the user's own name. No composition rules: a long
    passphrase of plain words is the best password there is."""
    if len(password) < MIN_PASSWORD:
        return "password_too_short", f"the password must have at least {MIN_PASSWORD} characters"
    low = password.strip().lower()
    norm = _norm(password)
    stem = re.sub(r"[\d\W_]+$", "", low)
    common = common_passwords()
    if len(password) < PASSPHRASE:
        if low in common or norm in common or (stem and stem in common):
            return ("password_common", "this password is on the list of commonly guessed passwords; choose another "
                    "(a few unrelated words make a good one)")
        if len(set(norm)) <= 2 or _sequence(norm) or (norm and norm.isdigit() and len(norm) < 12):
            return ("password_pattern", "the password is a run, a repetition or a short number; choose another "
                    "(a few unrelated words make a good one)")
    for name in (username, full_name or ""):
        n = _norm(name)
        if len(n) < 3:
            continue
        rest = norm.replace(n, "") if n in norm else None
        if norm == n[::-1] or (rest is not None and (len(rest) < 6 or rest in common or len(set(rest)) <= 2)):
            return "password_own_name", "the password is made from the user's own name; choose another"
    return None


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


def one_time_password() -> str:
    return secrets.token_urlsafe(12)
