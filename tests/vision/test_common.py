"""vision.common: atomic writes and the bad-input base."""

from __future__ import annotations

from pathlib import Path

import pytest

from heyan.vision.common import BEIJING, InputError, ProblemsError, atomic_file, atomic_write


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.json"
    atomic_write(target, "one")
    atomic_write(target, b"two", durable=False)
    assert target.read_text() == "two"
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.json"], "no temp file left behind"


def test_temp_names_are_hidden_and_end_in_tmp_unless_asked(tmp_path: Path) -> None:
    with atomic_file(tmp_path / "x.jpg") as tmp:
        assert tmp.name.startswith(".") and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"1")
    with atomic_file(tmp_path / "y.jpg", keep_suffix=True) as tmp:
        assert tmp.name.startswith(".") and tmp.suffix == ".jpg"
        tmp.write_bytes(b"1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jpg", "y.jpg"]


def test_bad_input_errors() -> None:
    class NetworkError(ProblemsError):
        what = "river network"

    e = NetworkError("r.geojson", ["a", "b"])
    assert isinstance(e, InputError) and isinstance(e, ValueError)
    assert str(e) == "r.geojson: 2 problem(s) in the river network:\n  - a\n  - b" and e.errors == ["a", "b"]
    assert BEIJING.utcoffset(None).total_seconds() == 8 * 3600
