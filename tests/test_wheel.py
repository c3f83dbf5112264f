"""The wheel installs everything under `heyan.` (heyan.vision, heyan.datasets, ...) and no
generic top-level name, so it sits beside another project's `datasets` in one environment;
its package data (model zoo, schemas, rules, migrations, web assets) comes with it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

CHECK = """
import datasets
assert datasets.WHO == "someone else's datasets", datasets.__file__
import heyan, heyan.cli, heyan.vision.nms, heyan.datasets.synthetic, heyan.serve.app, heyan.edge.runner
from heyan.models.registry import BUILTIN_ZOO, list_models
from heyan.models import DEFAULT_MODEL
from heyan.pipeline.tickets.rules import load_rules
from heyan.serve.app import STATIC
from heyan.serve.migrate import MIGRATIONS
from heyan.serve.security import COMMON_PASSWORDS
from heyan.pipeline.report.pdf_report import FONT_FILE
assert heyan.__file__.startswith(SITE), heyan.__file__
assert DEFAULT_MODEL in {c.name for c in list_models()}, "the zoo is in the wheel"
assert load_rules(None).categories, "the default rules are in the wheel"
assert (STATIC / "index.html").is_file() and any(MIGRATIONS.glob("versions/*.py"))
assert COMMON_PASSWORDS.is_file(), "the password policy's list is in the wheel"
for f in ("leaflet/leaflet.js", "leaflet/LICENSE", "leaflet/images/layers.png", "leaflet.markercluster/leaflet.markercluster.js", "VERSIONS"):
    assert (STATIC / "vendor" / f).is_file(), f"the vendored map library is in the wheel: {f}"
assert FONT_FILE.is_file() and (FONT_FILE.parent / "OFL.txt").is_file(), "the report font and its licence are in the wheel"
print("ok")
"""


def test_wheel_installs_beside_another_datasets_package(tmp_path: Path) -> None:
    src = tmp_path / "src"
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    for rel in tracked:
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("heyan-*.whl"))
    tops = {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"heyan"}, f"generic top-level names in the wheel: {tops}"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Another project's top-level `datasets` (as Hugging Face's would be) ...
    (site / "datasets").mkdir()
    (site / "datasets" / "__init__.py").write_text('WHO = "someone else\'s datasets"\n', encoding="utf-8")
    # ... and ours, installed by pip; the runtime dependencies come from the test's own
    # environment (a path entry, so its editable heyan is not picked up).
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                        str(site), str(wheel)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (site / "datasets" / "__init__.py").read_text(encoding="utf-8").startswith("WHO"), "ours overwrote theirs"
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    r = subprocess.run([str(py), "-I", "-c", f"SITE = {str(site)!r}\n" + CHECK], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout[-2000:] + r.stderr[-3000:]
