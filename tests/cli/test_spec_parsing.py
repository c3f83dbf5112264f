"""`heyan eval --data [NAME=]PATH[:SPLIT][:tile]` and `heyan dataset mix --take
DATA.yaml[:SPLIT][:COUNT]`: paths may themselves hold ':' or '='."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from heyan.commands.dataset import _part
from heyan.commands.modelcmds import _parse_source


def _yaml(p: Path) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("path: .\nval: images/val\n")
    return p


def test_source_name_split_tile_and_defaults(tmp_path: Path) -> None:
    y = _yaml(tmp_path / "ds" / "data.yaml")
    s = _parse_source(f"mine={y}:test:tile", tile=False, split="val")
    assert (s.name, s.data, s.split, s.tile) == ("mine", y, "test", True)
    s = _parse_source(str(y), tile=False, split="val")
    assert (s.name, s.split, s.tile) == ("ds", "val", False)


def test_source_paths_with_equals_and_colons(tmp_path: Path) -> None:
    y = _yaml(tmp_path / "lr=0.01" / "a:b" / "data.yaml")
    s = _parse_source(str(y), tile=False, split="val")
    assert s.data == y and s.name == "a:b"
    s = _parse_source(f"run={y}:tile", tile=False, split="val")
    assert s.data == y and s.name == "run" and s.tile


def test_source_missing_is_named(tmp_path: Path) -> None:
    with pytest.raises(typer.BadParameter, match="nope.yaml: no such dataset"):
        _parse_source(f"x={tmp_path}/nope.yaml:val", tile=False, split="val")


def test_mix_parts(tmp_path: Path) -> None:
    y = _yaml(tmp_path / "c:d" / "data.yaml")
    assert _part(f"{y}:val:500") == (y, "val", 500)
    assert _part(str(y)) == (y, "train", None)
    assert _part(f"{y}:750") == (y, "train", 750)
    with pytest.raises(typer.BadParameter, match="count"):
        _part(f"{y}:500", default_split="val", allow_count=False)
    with pytest.raises(typer.BadParameter, match="neither"):
        _part(f"{y}:1e3")


def test_eval_refuses_two_sources_with_one_name(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from heyan.cli import app

    a = _yaml(tmp_path / "a" / "ds" / "data.yaml")
    b = _yaml(tmp_path / "b" / "ds" / "data.yaml")
    res = CliRunner().invoke(app, ["eval", "--data", str(a), "--data", str(b)])
    assert res.exit_code != 0
    assert "two sources named 'ds'" in res.output
