"""Caches of OCR results, keyed by the SHA-256 of the uploaded bytes, and in memory by the photo itself.

The same photo is often sent twice (a retry, a second question about it, a leaflet forwarded to many family
groups); reading it again costs seconds of CPU. `ResultCache` is a bounded in-memory LRU: least recently used
entries are dropped past `max_entries` or `max_bytes` (estimated from the size of the lines' text and boxes, and
the fingerprint kept with them), and nothing is written to disk.

A forwarded photo is seldom the same bytes: messaging apps resize and recompress it. `ResultCache.recall` looks a
photo up by its bytes first, then by its fingerprint (`ingestion.fingerprint`: a perceptual hash to find the
candidates, then the thumbnails compared block by block, so that another leaflet printed on the same template is
never taken for the photo); a copy found that way is answered with the earlier reading, every box scaled to the
copy's size and `near_duplicate` set. Nothing of the image or its text is logged.

`SharedResultCache`, behind the same interface, keeps readings in Redis so that a photo read by one worker is not
read again by another, on any node: each entry expires, and is encrypted with a key derived from the photo's hash
and stored under a hash of that hash, so whoever can read Redis but does not hold the photo learns neither which
photo an entry is nor its text. It matches exact bytes only, deliberately: a lookup by likeness needs the
perceptual hashes themselves in Redis to search (a keyed hash of a perceptual hash cannot be searched by
distance), and 64 bits of a page's low frequencies both identify a known photo and are easily guessed from any
similar one, so a key derived from them would protect the text far less than one derived from the exact bytes;
and since Redis is shared by every owner, a fast answer to a look-alike photo would tell one user that another
had sent it. Each process's in-memory cache still finds forwarded copies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING

from ingestion.document import ParsedDocument
from ingestion.fingerprint import HASH_DISTANCE, ImagePrint, fingerprint, same_photo

if TYPE_CHECKING:
    import redis
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)


def _size(doc: ParsedDocument) -> int:
    # Rough: text bytes plus ~100 bytes per line for its box, confidence and object overhead.
    text = sum(len(line.text.encode()) + 100 for line in doc.lines)
    return text + sum(len(f.value.encode()) + 100 for f in doc.fields.values()) + 1000


PENDING = 64  # fingerprints of photos being read, kept for `put` (a failed read leaves one behind)


class ResultCache:
    """LRU by entry count and estimated bytes; thread-safe. `near_duplicates=False` matches exact bytes only."""

    def __init__(self, max_entries: int = 256, max_bytes: int = 64 * 1024 * 1024, near_duplicates: bool = True) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.near_duplicates = near_duplicates
        self._items: OrderedDict[str, tuple[ParsedDocument, int]] = OrderedDict()
        self._prints: dict[str, ImagePrint] = {}  # fingerprints of the entries read from a single image
        self._pending: OrderedDict[str, ImagePrint] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.near_hits = 0
        self.misses = 0

    def recall(self, key: str, data: bytes, max_pixels: int = 40_000_000) -> ParsedDocument | None:
        """The reading of these bytes (`key` is their SHA-256), or of the same photo resized or recompressed.

        A near-duplicate's reading comes scaled to this photo's size, with `sha256=key` and `near_duplicate` set.
        On a miss the photo's fingerprint is kept for the `put` of its reading. `max_pixels`: larger images are
        not decoded here (intake refuses them).
        """
        hit = self.get(key)
        if hit is not None or not self.near_duplicates or self.max_entries <= 0:
            return hit
        found = fingerprint(data, max_pixels)
        if found is None:
            return None
        with self._lock:
            for candidate in self._near(found):
                if same_photo(self._prints[candidate], found):
                    self._items.move_to_end(candidate)
                    doc = self._items[candidate][0]
                    self.misses -= 1  # the exact lookup above counted one
                    self.hits += 1
                    self.near_hits += 1
                    break
            else:
                self._pending[key] = found
                while len(self._pending) > PENDING:
                    self._pending.popitem(last=False)
                return None
        near = doc.scaled_to(found.width, found.height)
        return replace(near, sha256=key, near_duplicate=True)

    def _near(self, found: ImagePrint) -> list[str]:
        """Keys whose fingerprint's hash is within `HASH_DISTANCE` bits, nearest first (the lock is held)."""
        near = [
            (distance, key)
            for key, p in self._prints.items()
            if (distance := (p.phash ^ found.phash).bit_count()) <= HASH_DISTANCE
        ]
        return [key for _, key in sorted(near)]

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
        with self._lock:
            found = self._pending.pop(key, None)
        # Only a single image's reading is found by likeness: its boxes are in that image's frame.
        found = found if found is not None and doc.pages == 1 else None
        size = _size(doc) + (found.nbytes if found is not None else 0)
        if self.max_entries <= 0 or size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
                self._prints.pop(key, None)
            self._items[key] = (doc, size)
            if found is not None:
                self._prints[key] = found
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                dropped_key, (_, dropped) = self._items.popitem(last=False)
                self._prints.pop(dropped_key, None)
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
        super().__init__(max_entries=0, near_duplicates=False)  # exact bytes only: see the module's docstring
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
