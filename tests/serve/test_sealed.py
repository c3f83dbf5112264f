"""Per-photo results are pickles; a pickle not sealed with the installation's key is never
unpickled (it could run code), neither from a checkpoint file nor from a stored row."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

from heyan.serve import sealed
from heyan.serve.processing import PhotoCheckpoints


class Payload:
    """Unpickling this writes a file: the proof that a forged pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


def test_key_is_made_once_private_and_shared(tmp_path: Path) -> None:
    key = sealed.seal_key(tmp_path)
    assert len(key) == 32
    path = tmp_path / "keys" / "seal.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    sealed.seal_key.cache_clear()
    assert sealed.seal_key(tmp_path) == key  # another process reads the same key


def test_round_trip_and_refusals(tmp_path: Path) -> None:
    key = sealed.seal_key(tmp_path)
    blob = sealed.dumps({"boxes": [1, 2, 3]}, key)
    assert sealed.loads(blob, key) == {"boxes": [1, 2, 3]}
    with pytest.raises(sealed.SealError, match="does not match"):
        sealed.loads(blob[:-1] + bytes([blob[-1] ^ 1]), key)
    with pytest.raises(sealed.SealError, match="does not match"):
        sealed.loads(blob, b"k" * 32)
    with pytest.raises(sealed.SealError, match="too short"):
        sealed.loads(b"abc", key)
    marker = tmp_path / "ran"
    forged = b"\0" * 32 + pickle.dumps(Payload(marker))
    with pytest.raises(sealed.SealError):
        sealed.loads(forged, key)
    assert not marker.exists()


def test_a_forged_checkpoint_is_redone_not_run(tmp_path: Path) -> None:
    key = sealed.seal_key(tmp_path / "data")
    cps = PhotoCheckpoints(tmp_path / "cp", "model+rules", key)
    cps.save("a" * 64, {"finds": 3})
    assert cps.load("a" * 64) == {"finds": 3}
    marker = tmp_path / "ran"
    (tmp_path / "cp" / f"{'b' * 64}.pkl").write_bytes(pickle.dumps(Payload(marker)))  # unsealed, as an attacker would
    assert cps.load("b" * 64) is None
    assert not marker.exists()
