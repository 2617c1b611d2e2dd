"""Request limits that sit in front of every route: the body size (checked before a byte is parsed) and a
per-owner rate limit (a token bucket: short bursts are fine, a sustained flood gets 429 + Retry-After).
"""

from __future__ import annotations

import json
import math
import threading
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_body
from app.errors import RateLimited


class BodySizeLimit:
    """Pure ASGI, so a huge upload is refused from its Content-Length, or cut off as it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"The request body is larger than the {self.max_bytes:,}-byte limit; send a smaller photo."
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _reject(send, message)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    # An HTTPException passes through FastAPI's body parsing untouched, so it ends as a 413.
                    raise HTTPException(413, message)
            return msg

        await self.app(scope, limited, send)


async def _reject(send: Send, message: str) -> None:
    body = json.dumps(error_body(413, "request_too_large", message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """A token bucket per owner: `per_minute` tokens, refilled continuously. Thread-safe."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, owner: str) -> None:
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(owner, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[owner] = (tokens, now)
                raise RateLimited(
                    f"Too many requests (limit {self.per_minute} per minute); slow down and retry.",
                    retry_after=math.ceil((1.0 - tokens) / rate),
                )
            self._buckets[owner] = (tokens - 1.0, now)
