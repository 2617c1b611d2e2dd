"""The app factory: `create_app(settings)` wires components, routes, limits, metrics and errors into one FastAPI
app. Models load and warm up in the lifespan handler, in a background thread, so /healthz answers at once and
/readyz turns ready when the warm-up is done. /docs (Swagger UI) and /redoc load their scripts from the app itself
(fastapi-offline's bundled copies under /static-offline-docs), never from a CDN: the service runs offline.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import errors
from app.api.limits import BodySizeLimit
from app.api.routes import chat, confirmation, conversations, documents, drugs, health, interactions, models, ocr
from app.api.routes.jobs import router as jobs_router
from app.components import Components
from app.config import Settings
from app.metrics import Metrics

log = logging.getLogger("rxlens.api")

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def create_app(settings: Settings, components: Components | None = None) -> FastAPI:
    components = components or Components(settings)
    # httpx logs every request's URL at INFO, and a remote image's URL can say whose prescription it is.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_warm_up(app, components))
        try:
            yield
        finally:
            task.cancel()
            components.close()

    app = FastAPIOffline(
        title="RxLens",
        version="0.1.0",
        summary="Medication leaflets, prescriptions and drug interactions, with citations.",
        lifespan=lifespan,
    )
    app.state.components = components
    app.state.key_hashes = settings.api_key_hashes
    app.state.ready = threading.Event()
    app.state.warm_up_error = None
    errors.install(app)
    for module in (chat, models, documents, confirmation, conversations, ocr, interactions, drugs, health):
        app.include_router(module.router)
    app.include_router(jobs_router)
    if WEB_DIR.is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    # Outermost last: the size limit runs before anything reads the body, and the timing covers everything.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=components.metrics)
    return app


async def _warm_up(app: FastAPI, components: Components) -> None:
    started = time.perf_counter()
    try:
        await asyncio.to_thread(components.warm_up)
    except Exception as e:
        app.state.warm_up_error = f"{type(e).__name__}: {getattr(e, 'message', None) or e}"
        log.error("warm-up failed: %s", type(e).__name__)
        return
    app.state.ready.set()
    log.info("ready: warm-up took %.0f ms", (time.perf_counter() - started) * 1000)


class RequestMetrics:
    """Latency per route template and an access log line with route, status, size and time only: the path
    (with its ids) and the query string (with what a user typed) are not logged."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def counting(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or ("/static" if status < 400 else "unmatched")
            # Any token is a valid HTTP method: one label set per invented method would grow without bound.
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            self.metrics.request_seconds.labels(method, route, str(status)).observe(elapsed)
            log.info("%s %s %d %dB %.1fms", method, route, status, sent, elapsed * 1000)
