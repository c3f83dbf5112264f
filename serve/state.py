"""What one running server holds: configuration, database, file store, clock, login limiter,
and the flight processor the worker uses. Built by ``serve.app.create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from heyan.serve.clock import Clock
from heyan.serve.config import ServeConfig
from heyan.serve.db import Database
from heyan.serve.mbtiles import MBTiles
from heyan.serve.ratelimit import LoginLimiter
from heyan.serve.storage import BlobStore

if TYPE_CHECKING:
    from heyan.serve.processing import FlightProcessor


class Workers(Protocol):
    """The flight workers (``serve.worker.WorkerPool``), as the app and the routers see them;
    a protocol, since the workers themselves hold an ``AppState``."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def wake(self) -> None: ...


@dataclass
class AppState:
    config: ServeConfig
    db: Database
    store: BlobStore
    clock: Clock
    limiter: LoginLimiter
    processor: FlightProcessor
    workers: Workers | None = None
    mbtiles: MBTiles | None = None  # the office's basemap file (serve_basemap_mbtiles)
    cache: dict[str, Any] = field(default_factory=dict)
