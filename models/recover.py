"""Rebuild a trainable Ultralytics checkpoint from a zoo model's ONNX file.

The zoo ships ONNX only (small, no torch at run time), so an office that wants to fine-tune
the model it runs has no ``.pt``. The exported graph keeps every weight under its PyTorch
name, with each convolution's batch norm folded into the convolution. Unfolding is exact:
give the batch norm the identity statistics (mean 0, variance 1) and put the folded bias
in its shift, and the network computes what the ONNX file computes. Training then updates
the batch-norm statistics from the new data as usual.

Ultralytics and torch are imported inside the functions (training extra only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heyan.models.offline import prepare_offline_ultralytics
from heyan.vision.common import InputError


class RecoverError(InputError):
    pass


def onnx_weights(onnx_path: Path) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def is_class_layer(key: str) -> bool:
    """The last convolution of the head's classification branch (``model.N.cv3.I.2``): the
    one layer whose shape depends on the number of classes."""
    parts = key.split(".")
    return len(parts) >= 5 and parts[2] == "cv3" and parts[4] == "2"


def checkpoint_from_onnx(onnx_path: Path, out_pt: Path, class_names: list[str], arch_yaml: str,
                         imgsz: int = 320, new_classes: bool = False) -> Path:
    """Write ``out_pt``, a checkpoint ``heyan train --model-yaml`` fine-tunes, whose outputs
    equal ``onnx_path``'s. ``arch_yaml`` names the architecture the ONNX was exported from
    (its card's ``architecture``, e.g. ``yolo11n.yaml``).

    ``new_classes``: the ONNX was trained for other classes (a pretrained detector shipped
    by another package): every layer is taken except the classification layer, which keeps
    its fresh initialisation for ``class_names``. Backbone, neck and box regression carry
    over; that is where pretraining pays."""
    prepare_offline_ultralytics()
    import torch
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    weights = onnx_weights(onnx_path)
    model = DetectionModel(arch_yaml, nc=len(class_names), verbose=False)
    model.names = dict(enumerate(class_names))
    used: set[str] = set()
    with torch.no_grad():
        for mod_name, mod in model.named_modules():
            if not isinstance(mod, Conv):
                continue
            w_key, b_key = f"{mod_name}.conv.weight", f"{mod_name}.conv.bias"
            if w_key not in weights or b_key not in weights:
                raise RecoverError(f"{onnx_path}: no weights for layer {mod_name} (is it a {arch_yaml} export?)")
            w = torch.from_numpy(weights[w_key].copy())
            if tuple(w.shape) != tuple(mod.conv.weight.shape):
                raise RecoverError(f"{onnx_path}: {w_key} has shape {tuple(w.shape)}, "
                                   f"{arch_yaml} expects {tuple(mod.conv.weight.shape)}")
            mod.conv.weight.copy_(w)
            bn = mod.bn
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
            bn.weight.fill_(float(np.sqrt(1.0 + bn.eps)))
            bn.bias.copy_(torch.from_numpy(weights[b_key].copy()))
            used.update((w_key, b_key))
        # Plain convolutions (the detection head's last layers, the fixed DFL) keep their names.
        state = model.state_dict()
        for key, value in weights.items():
            if key in used or key not in state:
                continue
            if new_classes and is_class_layer(key):
                used.add(key)  # deliberately left at its fresh initialisation
                continue
            if tuple(state[key].shape) != tuple(value.shape):
                raise RecoverError(f"{onnx_path}: {key} has shape {value.shape}, expected {tuple(state[key].shape)}")
            state[key].copy_(torch.from_numpy(value.copy()))
            used.add(key)
    missing = [k for k in model.state_dict() if k.endswith("weight") and ".bn." not in k
               and k not in used and "dfl" not in k]
    if missing:
        raise RecoverError(f"{onnx_path}: {len(missing)} layers have no weights in the ONNX file, e.g. {missing[:3]}")
    out_pt = Path(out_pt)
    out_pt.parent.mkdir(parents=True, exist_ok=True)
    model.args = {"imgsz": imgsz, "task": "detect"}
    torch.save({"model": model.float(), "train_args": {}, "epoch": -1, "date": None, "version": None}, out_pt)
    return out_pt


def checkpoint_for_zoo_model(name_or_path: str, out_pt: Path) -> Path:
    """The checkpoint of a zoo model (by name or path), for fine-tuning."""
    from heyan.models.registry import resolve_model

    onnx_path, card = resolve_model(name_or_path)
    arch = card.architecture if card.architecture.endswith(".yaml") else f"{card.architecture}.yaml"
    return checkpoint_from_onnx(onnx_path, out_pt, list(card.classes), arch, card.imgsz)
