"""The service's Prometheus metrics, in a registry of their own (one per app, so tests can build many apps).

Labels are route templates and status codes only: never a path with an id in it, never anything a user typed.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "rxlens_request_seconds",
            "HTTP request latency by route template.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.ocr_seconds = Histogram(
            "rxlens_ocr_seconds",
            "Time to read one upload (OCR and field extraction), queue wait excluded.",
            registry=self.registry,
            buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
        )
        self.ocr_queue_depth = Gauge(
            "rxlens_ocr_queue_depth", "Uploads being read or waiting for an OCR worker.", registry=self.registry
        )
        self.ocr_rejected = Counter(
            "rxlens_ocr_rejected_total", "Uploads turned away because the OCR queue was full.", registry=self.registry
        )
        self.cache_hits = Counter(
            "rxlens_document_cache_hits_total",
            "Uploads answered from an already stored reading of the same bytes (no OCR).",
            registry=self.registry,
        )
        self.cache_misses = Counter(
            "rxlens_document_cache_misses_total", "Uploads that needed OCR.", registry=self.registry
        )
