"""The box's YAML config: minimal config works, every default prints, bad values are named."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from heyan.edge.config import ConfigError, default_config_yaml, load_config, parse_config
from heyan.models import DEFAULT_MODEL

MINIMAL = """
server: {url: "http://127.0.0.1:8000", token: "abc"}
storage: {dir: "./edge-data"}
cameras:
  - {id: "bridge-1", source: "river.mp4"}
"""


def _app():
    import typer

    from heyan.commands.edge import register

    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def test_minimal_config_is_whole_and_paths_resolve_next_to_it(tmp_path):
    p = tmp_path / "box.yaml"
    p.write_text(MINIMAL, encoding="utf-8")
    cfg = load_config(p)
    cam = cfg.cameras[0]
    assert cam.source == str(tmp_path / "river.mp4")  # relative to the config file, not the cwd
    assert cfg.storage.dir == tmp_path / "edge-data"
    assert cam.gate.enabled and cam.detect_fps > 0 and cam.tracker.min_hits <= cam.tracker.window
    assert cfg.detector.model == DEFAULT_MODEL


def test_printed_default_config_is_valid_and_documents_every_field():
    text = default_config_yaml()
    cfg = parse_config(yaml.safe_load(text))
    assert cfg.cameras[0].outfalls[0].type == "rain" and cfg.cameras[0].outfalls[0].flow_expected is False
    for key in ("detect_fps", "full_detect_interval_s", "frozen_after_s", "max_mb", "min_hits", "on_delta_e", "heartbeat_interval_s"):
        assert f"{key}:" in text
    # every value line is preceded by its description
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if ln.strip() and not ln.strip().startswith("#") and not ln.rstrip().endswith(":") and i > 2:
            assert lines[i - 1].strip().startswith("#"), f"no description above {ln!r}"


@pytest.mark.parametrize("patch, where, words", [
    ({"cameras": [{"id": "a", "source": "x.mp4", "detct_fps": 3}]}, "cameras[0](a).detct_fps", "Extra inputs"),
    ({"cameras": [{"id": "a", "source": "x.mp4", "detect_fps": -1}]}, "cameras[0](a).detect_fps", "greater than 0"),
    ({"cameras": [{"id": "a", "source": "x.mp4", "rois": [[[0, 0], [1.5, 0], [1, 1]]]}]}, "cameras[0](a).rois", "outside 0..1"),
    ({"cameras": [{"id": "a", "source": "x.mp4", "thresholds": {"cat": 0.3}}]}, "cameras[0](a).thresholds", "unknown class 'cat'"),
    ({"cameras": [{"id": "a", "source": "x.mp4", "outfalls": [{"id": "o1", "roi": [[0, 0], [1, 0], [1, 1]], "type": "storm"}]}]},
     "cameras[0](a).outfalls[0](o1).type", "'rain', 'sewage' or 'mixed'"),
    ({"cameras": [{"id": "a", "source": "x.mp4", "tracker": {"min_hits": 9}}]}, "cameras[0](a).tracker", "min_hits (9) cannot exceed window"),
    ({"cameras": [{"id": "a", "source": "x"}, {"id": "a", "source": "y"}]}, "(top level)", "camera ids must be unique"),
    ({"cameras": []}, "cameras", "at least 1"),
    ({"server": {"url": "ftp://x", "token": "t"}}, "server.url", "http://"),
    ({"server": {"url": "http://x"}}, "server", "give token"),
])
def test_bad_config_names_the_field(patch, where, words):
    data = yaml.safe_load(MINIMAL)
    data.update(patch)
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "box.yaml")
    msg = str(exc.value)
    assert msg.startswith("box.yaml: invalid edge config")
    assert f"  {where}: " in msg and words in msg, msg


def test_cli_rejects_bad_config_with_field_path_and_prints_default(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace('source: "river.mp4"', 'source: "river.mp4", outfalls: [{id: o, roi: [[0,0],[1,0]]}]'), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(_app(), ["edge", "--config", str(bad)])
    assert res.exit_code == 2
    assert "cameras[0](bridge-1).outfalls[0](o).roi" in res.output and "at least 3 points" in res.output
    res = runner.invoke(_app(), ["edge", "--print-default-config"])
    assert res.exit_code == 0 and "# Device token issued by the server" in res.output
    ok = tmp_path / "ok.yaml"
    ok.write_text(MINIMAL, encoding="utf-8")
    res = runner.invoke(_app(), ["edge", "--config", str(ok), "--check"])
    assert res.exit_code == 0 and "ok (1 camera(s))" in res.output
