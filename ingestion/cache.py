"""Caches of OCR results, keyed by the SHA-256 of the uploaded bytes.

The same photo is often sent twice (a retry, a second question about it, a leaflet forwarded to many family
groups); reading it again costs seconds of CPU. `ResultCache` is a bounded in-memory LRU: least recently used
entries are dropped past `max_entries` or `max_bytes` (estimated from the size of the lines' text and boxes), and
nothing is written to disk. `SharedResultCache`, behind the same interface, keeps readings in Redis so that a photo
read by one worker is not read again by another, on any node: each entry expires, and is encrypted with a key
derived from the photo's hash and stored under a hash of that hash, so whoever can read Redis but does not hold
the photo learns neither which photo an entry is nor its text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from ingestion.document import ParsedDocument

if TYPE_CHECKING:
    import redis
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)


def _size(doc: ParsedDocument) -> int:
    # Rough: text bytes plus ~100 bytes per line for its box, confidence and object overhead.
    text = sum(len(line.text.encode()) + 100 for line in doc.lines)
    return text + sum(len(f.value.encode()) + 100 for f in doc.fields.values()) + 1000


class ResultCache:
    """LRU by entry count and estimated bytes; thread-safe."""

    def __init__(self, max_entries: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[ParsedDocument, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> ParsedDocument | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: str, doc: ParsedDocument) -> None:
        size = _size(doc)
        if self.max_entries <= 0 or size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (doc, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes_used(self) -> int:
        return self._bytes


class SharedResultCache(ResultCache):
    """OCR results in Redis, shared by every process that points at the same server; entries live `ttl_s`.

    A Redis that cannot be reached is a miss (the photo is read again), never a failed upload.
    """

    PREFIX = "rxlens:ocr:"

    def __init__(self, client: redis.Redis, ttl_s: int = 86_400) -> None:
        super().__init__(max_entries=0)
        self.redis = client
        self.ttl_s = ttl_s

    def _key(self, digest: str) -> str:
        return self.PREFIX + hashlib.sha256(f"entry:{digest}".encode()).hexdigest()

    @staticmethod
    def _cipher(digest: str) -> AESGCM:

        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(hashlib.sha256(f"key:{digest}".encode()).digest())

    def get(self, key: str) -> ParsedDocument | None:
        try:
            blob = self.redis.get(self._key(key))
        except Exception as e:  # redis.RedisError, OSError: the cache is an optimisation
            log.warning("shared OCR cache unavailable (%s): reading the photo", type(e).__name__)
            blob = None
        doc = None
        if isinstance(blob, bytes) and len(blob) > 12:
            try:
                plain = self._cipher(key).decrypt(blob[:12], blob[12:], None)
                doc = ParsedDocument.from_json(json.loads(plain))
            except Exception as e:  # a corrupt or foreign entry is a miss
                log.warning("shared OCR cache entry unreadable (%s)", type(e).__name__)
        with self._lock:
            if doc is None:
                self.misses += 1
            else:
                self.hits += 1
        self._count("hits" if doc is not None else "misses")
        return doc

    def put(self, key: str, doc: ParsedDocument) -> None:
        nonce = os.urandom(12)
        blob = nonce + self._cipher(key).encrypt(nonce, json.dumps(doc.to_json()).encode(), None)
        try:
            self.redis.set(self._key(key), blob, ex=self.ttl_s)
        except Exception as e:
            log.warning("shared OCR cache unavailable (%s): reading not shared", type(e).__name__)

    def delete(self, key: str) -> None:
        """Forget a photo's reading (its document was deleted)."""
        self.redis.delete(self._key(key))

    def stats(self) -> dict[str, int]:
        """Hits and misses of every process sharing this Redis (counts only, no user data)."""
        raw = self.redis.hgetall(self.PREFIX + "stats")
        return {k.decode(): int(v) for k, v in raw.items()}  # type: ignore[union-attr]

    def _count(self, what: str) -> None:
        try:
            self.redis.hincrby(self.PREFIX + "stats", what, 1)
        except Exception:
            return

    def __len__(self) -> int:
        return 0  # entries live in Redis, not here

    @property
    def bytes_used(self) -> int:
        return 0
