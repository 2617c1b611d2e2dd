"""A bounded OCR work queue. OCR is seconds of CPU per photo, so it runs on a small thread pool (never on the
event loop), and when the pool and its waiting room are full a new upload is turned away at once with
"busy, retry after N s" instead of joining an ever longer line that would time out every request behind it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from app.errors import Busy
from app.metrics import Metrics

T = TypeVar("T")


class OcrGate:
    def __init__(self, workers: int, queue_size: int, timeout_s: float, metrics: Metrics) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rxlens-ocr")
        self.capacity = workers + queue_size
        self.timeout_s = timeout_s
        self.metrics = metrics
        self.pending = 0  # touched only on the event loop's thread, so no lock
        self._recent_s = 2.0  # a running estimate of one reading, for Retry-After

    def retry_after(self) -> int:
        workers = max(1, self._executor._max_workers)
        return max(1, round(self._recent_s * self.pending / workers))

    async def run(self, work: Callable[[], T]) -> T:
        if self.pending >= self.capacity:
            self.metrics.ocr_rejected.inc()
            raise Busy(
                "The service is reading other photos right now; try again in a few seconds.",
                retry_after=self.retry_after(),
            )
        loop = asyncio.get_running_loop()
        self.pending += 1
        self.metrics.ocr_queue_depth.set(self.pending)

        def timed() -> T:
            started = time.perf_counter()
            try:
                return work()
            finally:
                elapsed = time.perf_counter() - started
                self.metrics.ocr_seconds.observe(elapsed)
                self._recent_s = 0.8 * self._recent_s + 0.2 * elapsed

        future = loop.run_in_executor(self._executor, timed)
        # The slot is released when the work really ends, not when a caller stops waiting: a thread cannot be
        # cancelled, and counting it as free would let the pool's hidden queue grow without bound.
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError as e:
            raise Busy(
                f"Reading the photo took longer than {self.timeout_s:g} s; try again later or send a smaller photo.",
                retry_after=self.retry_after(),
            ) from e

    def _release(self, _future: asyncio.Future[T]) -> None:
        self.pending -= 1
        self.metrics.ocr_queue_depth.set(self.pending)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
