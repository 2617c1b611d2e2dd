"""A FAISS inner-product index over chunks, with string ids, atomic save and a manifest that names its embedder.

Small indexes are exact (flat); past `hnsw_threshold` vectors the index is HNSW. With a GPU build of faiss the
flat index runs on the GPU. The vectors are kept next to the FAISS index, so deletes (which HNSW does not
support) rebuild it, and the GPU index can be copied back for saving.

On disk an index is a directory holding versions: `v-<token>/{index.faiss, vectors.npy, chunks.jsonl,
manifest.json}` plus `CURRENT`, a one-line file naming the live version. A save writes a complete new version
and then switches `CURRENT` with os.replace, so a crash at any point leaves the previous index readable.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from knowledge.errors import RxLensError
from knowledge.retrieval.chunks import Chunk

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_HNSW_THRESHOLD = 50_000
HNSW_M = 32
CURRENT = "CURRENT"


class IndexMismatch(RxLensError):
    """An index on disk was built with another embedder (or dimension) than the one configured."""

    code = "index_mismatch"


class IndexMissing(RxLensError):
    """No index (or an unreadable one) where one was expected."""

    code = "index_missing"


@dataclass(frozen=True)
class IndexManifest:
    embedder: str
    dim: int
    count: int
    kind: str  # "flat" | "hnsw"
    key: str = ""  # what the content was built from, e.g. the KB input hash plus the embedder
    format_version: int = FORMAT_VERSION


def gpu_available() -> bool:
    """True when this faiss build has GPU support and sees a GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


_gpu_resources: Any = None
_gpu_lock = threading.Lock()


def gpu_resources() -> Any:
    """The process's one `StandardGpuResources`: each reserves GPU scratch memory, and an index made by
    `index_cpu_to_gpu` keeps only a raw pointer to it, so it must outlive every GPU index."""
    global _gpu_resources
    with _gpu_lock:
        if _gpu_resources is None:
            _gpu_resources = faiss.StandardGpuResources()
        return _gpu_resources


class VectorIndex:
    """Chunks and their unit vectors, searchable by inner product. Thread-safe."""

    def __init__(
        self,
        embedder: str,
        dim: int,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        use_gpu: bool = True,
    ) -> None:
        self.embedder = embedder
        self.dim = dim
        self.hnsw_threshold = hnsw_threshold
        self.use_gpu = use_gpu and gpu_available()
        self.key = ""
        self._chunks: list[Chunk] = []
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._position: dict[str, int] = {}
        self._faiss: Any = None  # built lazily from _vectors; None means stale
        self._built_kind = ""
        self._lock = threading.RLock()

    # ---- contents ------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._chunks)

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._position

    @property
    def chunks(self) -> list[Chunk]:
        """The chunks, in index order (int id = position)."""
        return list(self._chunks)

    @property
    def kind(self) -> str:
        return "hnsw" if len(self._chunks) > self.hnsw_threshold and not self.use_gpu else "flat"

    def get(self, chunk_id: str) -> Chunk | None:
        pos = self._position.get(chunk_id)
        return None if pos is None else self._chunks[pos]

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add chunks with their vectors; a chunk whose id is already present replaces the old one."""
        if not chunks:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        ids = [c.id for c in chunks]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate chunk ids in one add")
        with self._lock:
            self._drop(set(ids) & self._position.keys())
            start = len(self._chunks)
            self._chunks.extend(chunks)
            self._vectors = np.concatenate([self._vectors, vectors])
            for i, chunk_id in enumerate(ids):
                self._position[chunk_id] = start + i
            if self._faiss is not None and self.kind == self._built_kind:
                self._faiss.add(vectors)  # appending keeps int id == position
            else:
                self._faiss = None

    def remove(self, chunk_ids: Iterable[str]) -> int:
        """Remove chunks by id; returns how many were present."""
        with self._lock:
            return self._drop(set(chunk_ids) & self._position.keys())

    def remove_document(self, document_id: str) -> int:
        """Remove every chunk of one uploaded document; returns how many there were."""
        with self._lock:
            return self._drop({c.id for c in self._chunks if c.document_id == document_id})

    def _drop(self, ids: set[str]) -> int:
        if not ids:
            return 0
        keep = [i for i, c in enumerate(self._chunks) if c.id not in ids]
        self._chunks = [self._chunks[i] for i in keep]
        self._vectors = np.ascontiguousarray(self._vectors[keep])
        self._position = {c.id: i for i, c in enumerate(self._chunks)}
        # Positions shifted; rebuilding a flat index is a memcpy, and HNSW cannot delete anyway.
        self._faiss = None
        return len(ids)

    # ---- search --------------------------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        """The `k` chunks with the largest inner product with one query vector, best first."""
        with self._lock:
            if not self._chunks or k <= 0:
                return []
            index = self._index()
            q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
            scores, ids = index.search(q, min(k, len(self._chunks)))
            return [(self._chunks[i], float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]

    def _index(self) -> Any:
        if self._faiss is None:
            self._faiss = self._build(self._vectors)
            self._built_kind = self.kind
        return self._faiss

    def _build(self, vectors: np.ndarray) -> Any:
        if self.use_gpu:
            # GPU brute force beats HNSW at these sizes and supports every operation we need.
            index: Any = faiss.index_cpu_to_gpu(gpu_resources(), 0, faiss.IndexFlatIP(self.dim))
        elif self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 128
        else:
            index = faiss.IndexFlatIP(self.dim)
        if len(vectors):
            index.add(vectors)
        return index

    # ---- persistence ---------------------------------------------------------------------------------------

    def manifest(self) -> IndexManifest:
        return IndexManifest(self.embedder, self.dim, len(self._chunks), self.kind, self.key)

    def save(self, directory: Path) -> Path:
        """Write a new version under `directory` and switch to it atomically. Returns the version directory."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            version = f"v-{secrets.token_hex(6)}"
            tmp = directory / f".{version}.partial"
            tmp.mkdir()
            index = self._index()
            cpu_index = faiss.index_gpu_to_cpu(index) if self.use_gpu else index
            faiss.write_index(cpu_index, str(tmp / "index.faiss"))
            np.save(tmp / "vectors.npy", self._vectors)
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
                for chunk in self._chunks:
                    f.write(json.dumps(chunk.to_json(), ensure_ascii=False) + "\n")
            # The manifest is written last: a version without one is never made current.
            _write_json(tmp / "manifest.json", asdict(self.manifest()))
            _fsync_dir(tmp)
            os.replace(tmp, directory / version)
            pointer = directory / f".{CURRENT}.{version}.tmp"
            pointer.write_text(version + "\n", encoding="utf-8")
            _fsync_file(pointer)
            os.replace(pointer, directory / CURRENT)
            _fsync_dir(directory)
        _prune(directory, keep=version)
        return directory / version

    @staticmethod
    def read_manifest(directory: Path) -> IndexManifest | None:
        """The manifest of the live version under `directory`, or None when there is none (or it is unreadable)."""
        version = _current(Path(directory))
        if version is None:
            return None
        try:
            data = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
            return IndexManifest(**data)
        except (OSError, ValueError, TypeError):
            return None

    @classmethod
    def load(
        cls,
        directory: Path,
        embedder: str,
        dim: int,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        use_gpu: bool = True,
    ) -> VectorIndex:
        """Load the live version under `directory`; refuse it when it was built by another embedder."""
        directory = Path(directory)
        manifest = cls.read_manifest(directory)
        version = _current(directory)
        if manifest is None or version is None:
            raise IndexMissing(f"No vector index at {directory}. Build it with `rxlens kb build`.")
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMissing(f"The vector index at {directory} is from another version; rebuild it.")
        if manifest.embedder != embedder or manifest.dim != dim:
            raise IndexMismatch(
                f"The vector index at {directory} was built with {manifest.embedder} ({manifest.dim}-d), but the "
                f"configured embedder is {embedder} ({dim}-d). Rebuild it (`rxlens kb build`) or set RXLENS_EMBEDDER "
                f"to the embedder it was built with."
            )
        out = cls(embedder, dim, hnsw_threshold, use_gpu)
        out.key = manifest.key
        with open(version / "chunks.jsonl", encoding="utf-8") as f:
            out._chunks = [Chunk.from_json(json.loads(line)) for line in f if line.strip()]
        out._vectors = np.ascontiguousarray(np.load(version / "vectors.npy"), dtype=np.float32)
        if len(out._chunks) != manifest.count or out._vectors.shape != (manifest.count, dim):
            raise IndexMissing(f"The vector index at {directory} is inconsistent; rebuild it.")
        out._position = {c.id: i for i, c in enumerate(out._chunks)}
        saved = faiss.read_index(str(version / "index.faiss"))
        if saved.ntotal == len(out._chunks) and out.kind == manifest.kind and not out.use_gpu:
            out._faiss, out._built_kind = saved, manifest.kind  # an HNSW graph is expensive to rebuild
        return out


def _current(directory: Path) -> Path | None:
    try:
        name = (directory / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    version = directory / name
    return version if name.startswith("v-") and version.is_dir() else None


def _prune(directory: Path, keep: str) -> None:
    """Remove old versions and leftovers of interrupted saves. Readers that opened an old version keep their
    already-loaded copy; only the files go."""
    for entry in directory.iterdir():
        if entry.name == keep or entry.name == CURRENT:
            continue
        if entry.name.startswith(("v-", ".v-", f".{CURRENT}.")):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # Directory fsync makes the rename durable; some filesystems refuse it, which only weakens durability.
    try:
        _fsync_file(path)
    except OSError:
        log.debug("directory fsync not supported for %s", path)
