"""The FastAPI application: ``create_app(config)``. At start it migrates the database
(alembic upgrade head), creates the first admin, and starts the worker threads; at stop it
returns unfinished jobs to the queue. The JSON API is under /api, OpenAPI at /openapi.json,
the web viewer's static files at /."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

import heyan.serve.errors as errors
from heyan.serve.bodylimit import BodyLimit
from heyan.serve.bootstrap import ensure_admin
from heyan.serve.clock import Clock
from heyan.serve.config import HEYAN_VERSION, ServeConfig
from heyan.serve.db import Database
from heyan.serve.deps import no_nul, trusted_networks
from heyan.serve.headers import SecurityHeaders
from heyan.serve.mbtiles import MBTiles
from heyan.serve.migrate import current_revision, upgrade
from heyan.serve.notify.runner import Notifier
from heyan.serve.processing import FlightProcessor
from heyan.serve.ratelimit import LoginLimiter
from heyan.serve.routers import (
    archive,
    auth,
    basemap,
    blobs,
    devices,
    edge,
    edge_models,
    exports,
    flights,
    labels,
    models_admin,
    notifications,
    patrols,
    public,
    reports,
    rivers,
    stats,
    tasks,
    tickets,
    users,
)
from heyan.serve.routers.edge import EDGE_JSON_LIMIT
from heyan.serve.schemas.common import Health
from heyan.serve.schemas.stats import MBTilesBasemap, ViewerConfig
from heyan.serve.state import AppState
from heyan.serve.storage import BlobStore
from heyan.serve.training.registry import apply_in_force
from heyan.serve.training.runner import TrainingRunner
from heyan.serve.worker import WorkerPool

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("heyan.serve")


DEFAULT_BODY_LIMIT = 4 * 1024 * 1024  # JSON of people's requests: logins, transitions, users (10,000 segments)


def body_limits(config: ServeConfig) -> Callable[[str, str], int | None]:
    """The largest body each endpoint accepts (None: the route limits its own stream)."""

    def limit(method: str, path: str) -> int | None:
        if path == "/api/flights" or path.startswith("/api/edge/media/"):
            return None  # streamed to disk with max_upload_bytes / max_photo_bytes (serve.uploads, routers.edge)
        if path.startswith("/api/edge/"):
            return EDGE_JSON_LIMIT
        if path == "/api/rivers":
            return config.max_json_bytes
        if path.startswith("/api/public/"):
            return config.public_report_max_bytes + 64 * 1024
        if path.startswith("/api/reports"):
            return config.max_photo_bytes + 64 * 1024  # one photo and a few form fields
        if path.startswith("/api/tickets/") and path.endswith("/rectify"):
            return config.max_photo_bytes + 64 * 1024
        return DEFAULT_BODY_LIMIT

    return limit


def create_app(config: ServeConfig, clock: Clock | None = None, processor: FlightProcessor | None = None,
               announce: bool = True) -> FastAPI:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    trusted_networks(config.trusted_proxies)  # a bad serve_trusted_proxies entry fails the start, not a login
    st = AppState(config=config, db=Database(config.database_url, config.db_busy_timeout_s),
                  store=BlobStore(config.data_dir / "store"), clock=clock or Clock(),
                  limiter=LoginLimiter(config.login_max_failures, config.login_window_s,
                                       config.login_max_address_failures),
                  processor=processor or FlightProcessor(config.detector, config.rules_path),
                  mbtiles=MBTiles(config.basemap_mbtiles) if config.basemap_mbtiles else None)  # a bad file fails the start

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(st.db.engine)
        st.store.clean_tmp()
        with st.db.session() as db:
            generated = ensure_admin(db, config.admin_password, st.clock.now())
        if generated and announce:
            print(f"heyan serve: created user 'admin' with one-time password: {generated}\n"
                  "  change it after logging in (POST /api/auth/password), or set HEYAN_ADMIN_PASSWORD on first start.",
                  file=sys.stderr, flush=True)
        st.cache["generated_admin_password"] = generated
        with st.db.session() as db:
            apply_in_force(st, db)  # a site model switched on before a restart stays on
        training = TrainingRunner(st) if config.training_workers > 0 else None
        if training is not None:
            training.start()
            st.cache["training"] = training
        if config.processing == "external":
            # Flights go to `heyan worker` processes over the task queue; imported only here
            # so the single box never needs Celery or Redis.
            from heyan.serve.queue.dispatch import Dispatcher

            st.workers = Dispatcher(st)
            st.workers.start()
        elif config.workers > 0:
            st.workers = WorkerPool(st, config.workers)
            st.workers.start()
        notifier = Notifier(st)
        notifier.start()
        try:
            yield
        finally:
            notifier.stop()
            if st.workers is not None:
                st.workers.stop()
            if training is not None:
                training.stop()
            st.db.dispose()

    app = FastAPI(title="Heyan (河眼) tickets server", version=HEYAN_VERSION, lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # their pages load from a CDN; the office is offline
                  description="JSON API of `heyan serve`; see docs/serve.md.", dependencies=[Depends(no_nul)])
    app.state.heyan = st
    errors.install(app)
    app.add_middleware(BodyLimit, limit_for=body_limits(config))
    app.add_middleware(SecurityHeaders, config=config)  # outermost of ours: every answer gets them

    @app.get("/api/health", response_model=Health, tags=["health"], summary="Liveness and schema revision (no login)")
    def health(request: Request) -> Health:
        return Health(ok=True, version=HEYAN_VERSION, schema_revision=current_revision(st.db.engine))

    @app.get("/api/config", response_model=ViewerConfig, tags=["health"], summary="Viewer settings (no login)")
    def viewer_config() -> ViewerConfig:
        tiles = st.mbtiles
        mb = MBTilesBasemap(url=basemap.TILE_URL, format=tiles.info.format, minzoom=tiles.info.minzoom,
                            maxzoom=tiles.info.maxzoom, bounds=tiles.info.bounds, name=tiles.info.name) if tiles else None
        return ViewerConfig(version=HEYAN_VERSION, tile_url=config.tile_url, tile_datum=config.tile_datum, mbtiles=mb)

    for r in (auth, users, devices, edge, rivers, flights, tickets, stats, exports, blobs, tasks, patrols, reports, public,
              notifications, archive, basemap, labels, models_admin, edge_models):
        app.include_router(r.router)
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="viewer")
    return app
