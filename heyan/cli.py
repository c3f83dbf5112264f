"""``heyan``: one Typer app; each command group lives in ``heyan/commands/<name>.py`` and
registers itself here, so areas of the program do not edit each other's files."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="heyan",
    help="Heyan (河眼): river inspection from drone photos and fixed cameras.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Module name -> each module exposes ``register(app)``. Imports inside commands stay lazy
# so ``heyan --help`` is fast and never needs torch.
COMMAND_MODULES = [
    "heyan.commands.detect",
    "heyan.commands.modelcmds",
    "heyan.commands.synth",
    "heyan.commands.metadata",
    "heyan.commands.georef",
    "heyan.commands.simulate",
    "heyan.commands.ingest",
    "heyan.commands.serve",
    "heyan.commands.edge",
    "heyan.commands.dataset",
    "heyan.commands.adapt",
    "heyan.commands.upload",
]

for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a command module not written yet
        if exc.name != _name:
            raise
        continue
    _mod.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
