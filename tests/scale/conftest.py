"""The cross-node tests run only when asked (`make cluster-test`, RXLENS_CLUSTER_TESTS=1): they start Redis,
PostgreSQL, two API processes and two workers, minutes of the shared CPUs that `make test` cannot spare."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("RXLENS_CLUSTER_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="a cluster of processes: run with `make cluster-test`")
    for item in items:
        if "tests/scale/" in str(item.fspath):
            item.add_marker(skip)
