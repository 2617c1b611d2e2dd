"""Liveness, readiness and Prometheus metrics. /healthz answers as soon as the process serves; /readyz only once
the models are loaded and warmed up (a load balancer sends no traffic before that)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import ComponentsDep
from app.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request) -> Response:
    state = request.app.state
    if state.ready.is_set():
        return JSONResponse(Health(status="ok").model_dump())
    health = Health(status="failed", detail=state.warm_up_error) if state.warm_up_error else Health(status="starting")
    return JSONResponse(health.model_dump(), status_code=503)


@router.get("/metrics", response_class=Response)
def metrics(components: ComponentsDep) -> Response:
    return Response(generate_latest(components.metrics.registry), media_type=CONTENT_TYPE_LATEST)
