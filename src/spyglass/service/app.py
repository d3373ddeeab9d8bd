"""The FastAPI application: ``/api/v1`` behind bearer tokens, ``/healthz`` open.

``create_app`` takes the runtime (settings + database) and the jobs (the queue) explicitly, so
one process can hold apps on different backends (the tests run both).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from spyglass import __version__
from spyglass.errors import DataError, ImageError, SpyglassError, UsageError
from spyglass.jobs.runtime import Runtime
from spyglass.jobs.tasks import Jobs, describe
from spyglass.service import routes_export, routes_feeds
from spyglass.service.routes import router
from spyglass.service.routes_registries import router as registries_router
from spyglass.service.schemas import Health

log = logging.getLogger(__name__)


def _status_for(exc: SpyglassError) -> int:
    if isinstance(exc, UsageError | ImageError):
        return 422
    if isinstance(exc, DataError):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    return status.HTTP_500_INTERNAL_SERVER_ERROR


async def _spyglass_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SpyglassError)
    code = _status_for(exc)
    if code >= 500:
        log.warning("request failed: %s", exc)
    return JSONResponse({"detail": str(exc)}, status_code=code)


def create_app(runtime: Runtime, jobs: Jobs | None = None) -> FastAPI:
    """The API over ``runtime``'s database, sending scans to ``jobs`` (built if not given)."""
    app = FastAPI(
        title="Spyglass", version=__version__,
        description="Container image vulnerability scanning service.",
        openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.jobs = jobs or Jobs(runtime)
    app.add_exception_handler(SpyglassError, _spyglass_error)
    app.include_router(router)
    app.include_router(registries_router)
    app.include_router(routes_export.router)
    app.include_router(routes_feeds.router)

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> JSONResponse:
        """Open to all: is the database reachable."""
        queue = describe(runtime.settings)["queue"]
        try:
            with runtime.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not healthy"
            log.warning("health check failed: %s", exc)
            body = Health(status="unavailable", database="unreachable", queue=queue)
            return JSONResponse(body.model_dump(), status.HTTP_503_SERVICE_UNAVAILABLE)
        return JSONResponse(Health(status="ok", database="ok", queue=queue).model_dump())

    return app
