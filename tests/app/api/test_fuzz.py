"""Schema-driven fuzzing: schemathesis generates requests from the app's own OpenAPI document (valid and invalid
bodies, odd strings, boundary numbers) for every operation; the app may refuse any of them, but never with a
5xx, and every refusal is the one error shape. Bounded (a few dozen examples per operation) to stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.app.api.conftest import AppFactory


@pytest.fixture
def api_schema(make_app: AppFactory) -> Iterator[schemathesis.BaseSchema]:
    app = make_app(rate_limit_per_minute=0, answer_timeout_s=20.0)
    with TestClient(app):  # runs the lifespan: the app is warm before the first generated request
        assert app.state.ready.wait(180), "warm-up did not finish"
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(api_schema: schemathesis.BaseSchema) -> None:
    # Hypothesis drives schemathesis' strategies directly (its pytest plugin does not follow pytest 9 yet).
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def call(case: schemathesis.Case) -> None:
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path}: {response.status_code} {response.text[:200]}")
                return
            if response.status_code >= 400 and response.text.startswith("{"):
                error = response.json()["error"]
                assert error["code"] and error["message"]

        call()
    assert not failures, "\n".join(failures[:10])
