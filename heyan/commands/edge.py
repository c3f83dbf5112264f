"""``heyan edge``: the on-site runner for camera boxes at outfalls and bridges."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("edge")(edge_cmd)


def edge_cmd(
    config: Path | None = typer.Option(None, "--config", "-c", help="The box's YAML config (see --print-default-config)."),
    once: bool = typer.Option(False, "--once", help="Process file sources to their end, try to deliver, print a JSON summary, exit."),
    print_default_config: bool = typer.Option(False, "--print-default-config", help="Print a full commented config and exit."),
    check: bool = typer.Option(False, "--check", help="Validate the config and exit."),
    deliver_timeout: float | None = typer.Option(None, "--deliver-timeout", help="Seconds to keep trying to deliver at exit "
                                                                                                "(default: storage.flush_timeout_s)."),
    log_level: str | None = typer.Option(None, "--log-level", help="DEBUG, INFO, WARNING or ERROR (default: the config's)."),
) -> None:
    """Watch cameras, detect, track, and push events to the server through an on-disk outbox.

    Runs until SIGTERM/SIGINT (graceful: finishes the current frame, ends open events,
    flushes the outbox for storage.flush_timeout_s, exits 0)."""
    from heyan.edge.config import ConfigError, default_config_yaml, load_config

    if print_default_config:
        typer.echo(default_config_yaml(), nl=False)
        return
    if config is None:
        typer.echo("error: --config FILE is required (start from `heyan edge --print-default-config`)", err=True)
        raise typer.Exit(2)
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if check:
        typer.echo(f"{config}: ok ({len(cfg.cameras)} camera(s))")
        return
    logging.basicConfig(level=(log_level or cfg.log_level).upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from heyan.edge.runner import EdgeRunner

    try:
        runner = EdgeRunner(cfg, once=once, deliver_timeout_s=deliver_timeout)
    except (ConfigError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    hits = {"n": 0}

    def _on_signal(signum: int, _frame: object) -> None:
        hits["n"] += 1
        if hits["n"] > 1:  # a second Ctrl-C: the operator really wants out
            raise KeyboardInterrupt
        logging.getLogger("heyan.edge").info("signal %d: stopping (finishing the current frame, flushing the outbox)", signum)
        runner.request_stop()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        summary = runner.run()
    finally:
        runner.close()
    if once:
        s = summary.to_json()
        typer.echo(json.dumps({k: s[k] for k in ("frames", "detector_runs", "events", "delivered", "queued", "fps")}
                              | {"seconds": s["seconds"], "cameras": s["cameras"]}, ensure_ascii=False))
