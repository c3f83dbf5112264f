"""Pickles that only this installation can have written: each one carries an HMAC-SHA256 of
its bytes under a key kept in the data folder (``keys/seal.key``, mode 0600, made on first
use). Per-photo results travel through files and database rows as pickles (numpy arrays,
shapely geometry, the pipeline's dataclasses); without the seal, anyone able to write one
row or file could make a worker run code of their choosing. With it, they also need the key,
which never leaves the data folder that the server and its workers share."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

MAC_BYTES = 32


class SealError(ValueError):
    """A sealed blob that is too short or whose seal does not match: not ours, or damaged."""


@lru_cache(maxsize=8)
def seal_key(data_dir: Path) -> bytes:
    """The installation's key, created once (two processes racing both read the winner's)."""
    path = Path(data_dir) / "keys" / "seal.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) < 32:
            raise SealError(f"{path}: key shorter than 32 bytes; delete it only if no job is running") from None
        return key
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
        f.flush()
        os.fsync(f.fileno())
    return path.read_bytes()


def dumps(obj: Any, key: bytes) -> bytes:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return hmac.new(key, body, hashlib.sha256).digest() + body


def loads(blob: bytes, key: bytes) -> Any:
    if len(blob) <= MAC_BYTES:
        raise SealError("sealed blob too short")
    mac, body = blob[:MAC_BYTES], blob[MAC_BYTES:]
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        raise SealError("seal does not match: not written by this installation, or damaged")
    return pickle.loads(body)  # noqa: S301 - authenticated above
