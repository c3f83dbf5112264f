"""One settings model: flat HEYAN_* names and heyan.yaml fold into the typed sections whose
defaults they are (detector/slicing in models.settings, the server in serve.config)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from heyan.models import DEFAULT_MODEL
from heyan.models.settings import DetectorSettings
from heyan.serve.config import MB, ServeConfig
from heyan.settings import Settings, load_settings


def test_defaults_are_the_sections_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./heyan.yaml
    s = load_settings({})
    assert s.detector == DetectorSettings() and s.detector.model == DEFAULT_MODEL
    assert s.serve == ServeConfig()


def test_environment_over_file_and_folding(tmp_path: Path) -> None:
    cfg = tmp_path / "heyan.yaml"
    cfg.write_text("tile_overlap: 0.1\nserve_port: 9000\nmin_tile_photo_side: 2000\n", encoding="utf-8")
    s = load_settings({"HEYAN_CONFIG": str(cfg), "HEYAN_TILE_OVERLAP": "0.3", "HEYAN_ORT_THREADS": "2",
                       "HEYAN_SERVE_MAX_PHOTO_MB": "5", "HEYAN_ADMIN_PASSWORD": "pw", "HEYAN_PASSWORD": "not ours"})
    assert s.detector.tile_overlap == 0.3 and s.detector.threads == 2 and s.detector.min_tile_photo_side == 2000
    assert s.serve.port == 9000 and s.serve.max_photo_bytes == 5 * MB and s.serve.admin_password == "pw"
    # The server slices as the CLI does unless it is given a model of its own.
    assert s.serve.detector == s.detector
    other = load_settings({"HEYAN_CONFIG": str(cfg), "HEYAN_SERVE_MODEL": "site-model"})
    assert other.serve.detector.model == "site-model" and other.serve.detector.min_tile_photo_side == 2000
    assert other.detector.model == DEFAULT_MODEL


def test_hardening_settings_by_their_flat_names(tmp_path: Path) -> None:
    """Issue 16's settings are ServeConfig fields like the rest: the environment gives the
    trusted proxies as one comma-separated text, the file may give a list."""
    s = load_settings({"HEYAN_SERVE_TRUSTED_PROXIES": " 10.0.0.1, 10.8.0.0/16 ,", "HEYAN_SERVE_DB_BUSY_TIMEOUT_S": "5",
                       "HEYAN_SERVE_LOGIN_MAX_ADDRESS_FAILURES": "7"})
    assert s.serve.trusted_proxies == ("10.0.0.1", "10.8.0.0/16")
    assert s.serve.db_busy_timeout_s == 5.0 and s.serve.login_max_address_failures == 7
    cfg = tmp_path / "heyan.yaml"
    cfg.write_text("serve_trusted_proxies: [192.168.1.2]\n", encoding="utf-8")
    assert load_settings({"HEYAN_CONFIG": str(cfg)}).serve.trusted_proxies == ("192.168.1.2",)
    assert ServeConfig().trusted_proxies == () and ServeConfig().db_busy_timeout_s == 30.0
    for name in ("trusted_proxies", "db_busy_timeout_s", "login_max_address_failures"):
        assert ServeConfig.model_fields[name].description, name


def test_slice_params_follow_the_settings() -> None:
    p = DetectorSettings(tile_size=512, tile_overlap=0.25, merge="nms").slice_params(imgsz=320)
    assert (p.tile, p.overlap, p.merge) == (512, 0.25, "nms")
    assert DetectorSettings().slice_params(imgsz=320).tile == 320


def test_unknown_and_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown settings: tile_overlapp"):
        Settings.model_validate({"tile_overlapp": 0.2})
    with pytest.raises(ValidationError):
        Settings.model_validate({"merge": "mean"})
