"""The architecture's import rules (DESIGN.md, "Top-level layout"), checked on the source:
arrows only point down, nothing imports `serve` but `serve`, the edge runner needs nothing
server-side, and no runtime module pulls in torch or Ultralytics."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOPS = ("vision", "models", "datasets", "pipeline", "serve", "edge", "heyan")

# What each folder may import among the project's own packages. Two edges go beyond
# DESIGN.md's table, on purpose: `datasets` -> `pipeline` (the flight simulator renders with
# the same camera model and EXIF/XMP conventions that georeferencing reads back, so its
# ground truth cannot drift from them), and `models` -> `datasets` (evaluation reads YOLO
# label folders). `heyan` holds the CLI and the one settings object everyone reads.
ALLOWED: dict[str, set[str]] = {
    "vision": set(),
    "models": {"vision", "datasets"},
    "datasets": {"vision", "pipeline"},
    "pipeline": {"vision", "models", "heyan"},
    "serve": {"pipeline", "models", "vision", "heyan"},
    "edge": {"vision", "models", "pipeline", "datasets", "heyan"},
    "heyan": set(TOPS),
}
HEAVY = ("torch", "ultralytics", "torchvision")
# Only training/export code may import the training stack (lazily).
HEAVY_OK = {"models/train.py", "models/offline.py", "models/quantize.py", "models/recover.py"}


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def _sources(top: str) -> list[Path]:
    return [p for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts]


@pytest.mark.parametrize("top", TOPS)
def test_imports_point_down(top: str) -> None:
    bad = []
    for path in _sources(top):
        for mod in _imports(path) & set(TOPS):
            if mod != top and mod not in ALLOWED[top]:
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("top", [t for t in TOPS if t != "heyan"])
def test_no_training_stack_outside_training_code(top: str) -> None:
    bad = [f"{p.relative_to(ROOT)} imports {m}" for p in _sources(top) for m in _imports(p) & set(HEAVY)
           if str(p.relative_to(ROOT)) not in HEAVY_OK]
    assert not bad, "\n".join(bad)


def test_runtime_paths_do_not_load_torch() -> None:
    """Import what a running server, edge box and `heyan detect` import, in a fresh
    interpreter, and look at sys.modules: lazy imports must stay lazy."""
    code = (
        "import sys\n"
        "import heyan.cli, vision.inference, pipeline.ingest, serve.app, edge.runner\n"
        "from heyan.commands.common import load_detector\n"
        f"loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "", f"runtime imports loaded {r.stdout.strip()}"
