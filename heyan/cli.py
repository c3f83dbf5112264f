"""``heyan``: one Typer app; each command group lives in ``heyan/commands/<name>.py`` and
registers itself here, so areas of the program do not edit each other's files."""

from __future__ import annotations

import importlib
import sys

import typer

from heyan.vision.common import InputError

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
    "heyan.commands.report",
    "heyan.commands.rivers",
    "heyan.commands.serve",
    "heyan.commands.worker",
    "heyan.commands.edge",
    "heyan.commands.dataset",
    "heyan.commands.adapt",
    "heyan.commands.upload",
    "heyan.commands.demo",
]

# A command module that fails to import is an error, not a missing command: say so loudly.
for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main(argv: list[str] | None = None) -> None:
    """The ``heyan`` console script: the app, with bad input that no command answered
    itself turned into its message and exit code instead of a traceback."""
    try:
        app(args=argv)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
