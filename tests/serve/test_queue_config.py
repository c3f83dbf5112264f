"""Task-queue settings without Redis: `--workers external` in every spelling, the broker
check, the execution provider refused by name, and the photo key's independence from where
a worker runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from heyan.models.settings import DetectorSettings
from heyan.pipeline.ingest import IngestOptions
from heyan.serve.config import ServeConfig
from heyan.serve.processing import FlightProcessor
from heyan.serve.queue.celery_app import QUEUES, QueueConfigError, make_celery
from heyan.settings import load_settings
from heyan.vision.detector import ProviderUnavailable, execution_providers


def test_workers_external_from_file_names_and_environment() -> None:
    s = load_settings({"HEYAN_SERVE_WORKERS": "external", "HEYAN_SERVE_BROKER_URL": "redis://10.0.0.5:6379/0",
                       "HEYAN_ORT_PROVIDER": "CPUExecutionProvider", "HEYAN_SERVE_QUEUE_STALL_S": "60"})
    assert s.serve.processing == "external" and s.serve.workers == 0
    assert s.serve.broker_url == "redis://10.0.0.5:6379/0" and s.serve.results_url == s.serve.broker_url
    assert s.serve.queue_stall_s == 60 and s.serve.detector.provider == "CPUExecutionProvider"
    assert ServeConfig().processing == "threads" and ServeConfig().workers == 1  # the single box is the default
    assert ServeConfig(workers=3).processing == "threads"


def test_broker_checked_before_a_flight_is_queued() -> None:
    with pytest.raises(QueueConfigError, match="serve_broker_url"):
        make_celery(ServeConfig(workers="external"))  # type: ignore[arg-type]
    with pytest.raises(QueueConfigError, match="Redis URL"):
        make_celery(ServeConfig(workers="external", broker_url="amqp://x"))  # type: ignore[arg-type]
    app = make_celery(ServeConfig(workers="external", broker_url="redis://127.0.0.1:1/0",  # type: ignore[arg-type]
                                  queue_visibility_timeout_s=600))
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost and app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] == 600
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"
    assert [q.name for q in app.conf.task_queues] == list(QUEUES)


def test_missing_execution_provider_is_a_clear_error() -> None:
    assert execution_providers("CPUExecutionProvider") == ["CPUExecutionProvider"]
    with pytest.raises(ProviderUnavailable, match="'CUDAExecutionProvider' is not available.*onnxruntime-gpu"):
        execution_providers("CUDAExecutionProvider")
    with pytest.raises(ProviderUnavailable, match="NoSuchProvider"):
        DetectorSettings(provider="NoSuchProvider").load()


def test_photo_key_ignores_where_the_worker_runs() -> None:
    opts = IngestOptions(flight_id="fl-1")
    cpu = FlightProcessor(DetectorSettings(threads=4), options=lambda f: opts)
    gpu = FlightProcessor(DetectorSettings(threads=1, provider="CUDAExecutionProvider"), options=lambda f: opts)
    assert cpu.model_id().startswith(f"{cpu.model}:")  # by content, not by path
    k = cpu.photo_key("flight", "a" * 64, "river network v1", opts)
    assert k == gpu.photo_key("flight", "a" * 64, "river network v1", opts)
    assert k != cpu.photo_key("flight", "a" * 64, "river network v2", opts)
    assert k != cpu.photo_key("flight", "b" * 64, "river network v1", opts)
    other = FlightProcessor(DetectorSettings(tile_overlap=0.3), options=lambda f: opts)
    assert k != other.photo_key("flight", "a" * 64, "river network v1", opts)


def _heyan(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("HEYAN_")} | env
    return subprocess.run([sys.executable, "-m", "heyan.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=full)


def test_worker_and_server_say_what_is_missing_before_starting(tmp_path: Path) -> None:
    r = _heyan(["worker", "--broker", "redis://127.0.0.1:9/0", "--data", str(tmp_path)], tmp_path,
               HEYAN_ORT_PROVIDER="CUDAExecutionProvider")
    assert r.returncode == 2 and "error: ort_provider: onnxruntime execution provider 'CUDAExecutionProvider'" in r.stderr
    r = _heyan(["worker", "--broker", "redis://127.0.0.1:9/0", "--data", str(tmp_path / "nowhere")], tmp_path)
    assert r.returncode == 2 and "no photo store here; mount the server's shared data folder" in r.stderr, r.stderr
    r = _heyan(["worker", "--data", str(tmp_path)], tmp_path)
    assert r.returncode == 2 and "no task queue broker" in r.stderr
    r = _heyan(["serve", "--workers", "external", "--data", str(tmp_path)], tmp_path)
    assert r.returncode == 2 and "no task queue broker: set serve_broker_url" in r.stderr, r.stderr
