"""Make Ultralytics work with no network at all (see ../shared/TRAINING-OFFLINE.md).

Must run before ``import ultralytics``: the package does DNS lookups at import time,
downloads Arial.ttf on the first plot/val, and pip-installs missing requirements unless
told not to.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def prepare_offline_ultralytics(config_dir: Path | None = None) -> Path:
    cfg = Path(config_dir or os.environ.get("YOLO_CONFIG_DIR") or PROJECT_ROOT / ".yolo")
    cfg.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_CONFIG_DIR"] = str(cfg)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "0"
    os.environ.setdefault("YOLO_VERBOSE", "True")
    ul = cfg / "Ultralytics"
    ul.mkdir(exist_ok=True)
    settings = ul / "settings.json"
    data = {}
    if settings.is_file():
        try:
            data = json.loads(settings.read_text())
        except ValueError:
            data = {}
    data.update({"sync": False, "hub": False, "tensorboard": False, "mlflow": False, "wandb": False,
                 "clearml": False, "comet": False, "dvc": False, "neptune": False, "raytune": False})
    settings.write_text(json.dumps(data, indent=2))
    # check_font('Arial.ttf') otherwise sends an HTTP request even when offline.
    font = ul / "Arial.ttf"
    if not font.exists():
        src = _find_ttf()
        if src is not None:
            shutil.copyfile(src, font)
    return cfg


def _find_ttf() -> Path | None:
    try:
        import matplotlib  # ships DejaVuSans

        p = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        if p.is_file():
            return p
    except ImportError:
        pass
    for p in (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),):
        if p.is_file():
            return p
    return None
