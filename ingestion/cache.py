"""A bounded in-memory cache of results, keyed by the SHA-256 of the uploaded bytes.

The same photo is often sent twice (a retry, a second question about it); reading it again costs a second of
CPU. Least recently used entries are dropped past `max_entries` or `max_bytes` (estimated from the size of the
lines' text and boxes). Medical data stays in this process's memory only; nothing is written to disk.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ingestion.document import ParsedDocument


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
