"""Hybrid retrieval: dense (FAISS) + BM25, fused by reciprocal rank fusion, boosted by the drugs asked about.

One search covers the knowledge-base index and, when an owner is given, only that owner's document index. Dense
hits from both share one ranking (same embedding space); so do BM25 hits, because the owner's fields are scored
with the knowledge base's IDF. Chunks about more of the drugs in `boost_refs` rank above chunks about fewer: "Can I take
A with B?" is answered by a passage about the pair, not by A's adverse-reaction list. A drug covers a chunk
directly ("drug:warfarin") or through its classes ("class:nsaid" covers ibuprofen), so class-level rules count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from knowledge.models import DrugMention
from knowledge.retrieval.bm25 import Bm25Index, Bm25Tokenizer
from knowledge.retrieval.chunks import Chunk
from knowledge.retrieval.documents import DocumentIndexes
from knowledge.retrieval.embedders import Embedder
from knowledge.retrieval.vector_index import VectorIndex

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60
DEFAULT_CANDIDATES = 50


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved chunk. Ranks are 1-based within the dense and the BM25 list; None when that list did not
    retrieve it."""

    chunk: Chunk
    score: float
    dense_rank: int | None
    bm25_rank: int | None


class HybridRetriever:
    """Searches the KB index and one owner's documents. Build once per process; thread-safe."""

    def __init__(
        self,
        kb_index: VectorIndex,
        embedder: Embedder,
        tokenizer: Bm25Tokenizer,
        documents: DocumentIndexes | None = None,
        classes_of: Mapping[str, Iterable[str]] | None = None,
        class_parents: Mapping[str, Iterable[str]] | None = None,
        rrf_k: int = RRF_K,
        candidates: int = DEFAULT_CANDIDATES,
    ) -> None:
        """
        Args:
            kb_index: the knowledge-base vector index (see `kb_index.open_kb_index`).
            embedder: the embedder the indexes were built with.
            tokenizer: the BM25 tokenizer (`Bm25Tokenizer.for_knowledge_base`).
            documents: per-owner document indexes; None when uploads are not searched.
            classes_of: drug id -> its class ids (`KnowledgeBase.classes_of`), so class-level passages count as
                being about the drug.
            class_parents: class id -> parent class ids, for classes nested in broader ones.
            rrf_k: the reciprocal-rank-fusion constant.
            candidates: how many hits each ranked list contributes before fusion.
        """
        if kb_index.embedder != embedder.name:
            raise ValueError("the KB index was built with another embedder")
        self.kb_index = kb_index
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.documents = documents
        self.rrf_k = rrf_k
        self.candidates = candidates
        self._classes_of = {d: set(cs) for d, cs in (classes_of or {}).items()}
        self._class_parents = {c: set(ps) for c, ps in (class_parents or {}).items()}
        self._kb_chunks = kb_index.chunks
        self._kb_bm25 = Bm25Index(self._kb_chunks, tokenizer)
        self._by_ref: dict[str, list[int]] = defaultdict(list)
        for i, chunk in enumerate(self._kb_chunks):
            for ref in chunk.refs:
                self._by_ref[ref].append(i)
        # owner -> (their index, its version, its chunks, their tokens), for as many owners as keep their
        # index in memory.
        self._doc_tokens: OrderedDict[str, tuple[VectorIndex, int, list[Chunk], list[list[str]]]] = OrderedDict()
        self._max_owner_tokens = documents.max_loaded if documents is not None else 0
        self._lock = threading.Lock()
        if documents is not None:
            documents.on_change(self._forget_owner)

    def _forget_owner(self, owner: str) -> None:
        """An owner's documents changed or left memory: drop their cached chunk text now (a deleted leaflet
        leaves no copy)."""
        with self._lock:
            self._doc_tokens.pop(owner, None)

    def search(
        self,
        query: str,
        k: int = 8,
        boost_refs: Iterable[str] = (),
        owner: str | None = None,
        document_ids: set[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[ScoredChunk]:
        """The `k` best chunks for `query`, best first.

        Args:
            query: the question (or a document field), any language.
            k: how many chunks to return.
            boost_refs: entities the question is about ("drug:amlodipine", "class:nsaid"), as resolved by the
                lexicon. Chunks about more of them rank higher; their English names also join the BM25 query, so
                a Chinese question finds English label text.
            owner: whose uploaded documents to search as well; None searches the knowledge base only.
            document_ids: only these of the owner's documents (the knowledge base is always searched).
            mode: "hybrid", or one list alone ("dense", "bm25") for evaluation.
        """
        started = time.perf_counter()
        boost = {r for r in boost_refs if r}
        n = max(self.candidates, k)
        owner_index = self.documents.index_for(owner) if (self.documents is not None and owner) else None

        def allowed(chunk: Chunk) -> bool:
            # Defence in depth: the owner's index holds only their chunks, but never return anyone else's.
            return chunk.owner == owner and (document_ids is None or chunk.document_id in document_ids)

        dense: list[Chunk] = []
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed_queries([query])[0]
            hits = self.kb_index.search(qvec, n)
            if owner_index is not None:
                doc_n = len(owner_index) if document_ids is not None else n
                hits += [(c, s) for c, s in owner_index.search(qvec, doc_n) if allowed(c)]
            dense = [c for c, _ in sorted(hits, key=lambda h: -h[1])[:n]]

        lexical: list[list[Chunk]] = []
        if mode in ("hybrid", "bm25"):
            tokens = self.tokenizer.tokenize(query)
            if mode == "hybrid":
                tokens += self.tokenizer.tokenize(" ".join(_ref_words(r) for r in sorted(boost)))
            scored = [(self._kb_chunks[i], score) for i, score in self._kb_bm25.search(tokens, n)]
            if owner_index is not None and owner is not None:
                doc_chunks, doc_tokens = self._owner_tokens(owner, owner_index)
                doc_scores = self._kb_bm25.score_others(tokens, doc_tokens)
                scored += [(c, float(x)) for c, x in zip(doc_chunks, doc_scores, strict=True) if x > 0 and allowed(c)]
            lexical.append([c for c, _ in sorted(scored, key=lambda h: -h[1])[:n]])

        fused: dict[str, float] = defaultdict(float)
        chunks: dict[str, Chunk] = {}
        dense_rank: dict[str, int] = {}
        bm25_rank: dict[str, int] = {}
        for rank, chunk in enumerate(dense, 1):
            fused[chunk.id] += 1.0 / (self.rrf_k + rank)
            chunks[chunk.id] = chunk
            dense_rank[chunk.id] = rank
        for ranked in lexical:
            for rank, chunk in enumerate(ranked, 1):
                fused[chunk.id] += 1.0 / (self.rrf_k + rank)
                chunks[chunk.id] = chunk
                bm25_rank[chunk.id] = rank

        if boost:
            covers = {ref: self._covering(ref) for ref in boost}
            if mode == "hybrid" and len(boost) >= 2:
                # Passages about two of the asked drugs are the likeliest answers; make sure they compete even
                # when neither list ranked them (a Chinese question against an English-only rule).
                for i in self._pair_candidates(covers):
                    chunk = self._kb_chunks[i]
                    chunks.setdefault(chunk.id, chunk)
                    fused[chunk.id] += 0.0
            # One more covered drug outweighs any difference the ranked lists can make.
            step = (1 + len(lexical) + 1) / (self.rrf_k + 1)
            for chunk_id, chunk in chunks.items():
                refs = set(chunk.refs)
                fused[chunk_id] += step * sum(1 for cover in covers.values() if cover & refs)

        order = sorted(fused, key=lambda cid: (-fused[cid], dense_rank.get(cid, 1 << 30), cid))[:k]
        log.debug(
            "retrieval mode=%s k=%d owner=%s boost=%d took %.1f ms",
            mode,
            k,
            owner is not None,
            len(boost),
            (time.perf_counter() - started) * 1000,
        )
        return [ScoredChunk(chunks[cid], fused[cid], dense_rank.get(cid), bm25_rank.get(cid)) for cid in order]

    def _covering(self, ref: str) -> set[str]:
        """The refs that make a chunk "about" `ref`: itself and, for a drug, its classes and their ancestors."""
        out = {ref}
        if ref.startswith("drug:"):
            todo = list(self._classes_of.get(ref[5:], ()))
            while todo:
                c = todo.pop()
                if f"class:{c}" not in out:
                    out.add(f"class:{c}")
                    todo.extend(self._class_parents.get(c, ()))
        return out

    def _pair_candidates(self, covers: dict[str, set[str]]) -> list[int]:
        hits: dict[int, set[str]] = defaultdict(set)
        for asked, cover in covers.items():
            for ref in cover:
                for i in self._by_ref.get(ref, ()):
                    hits[i].add(asked)
        return sorted(i for i, asked in hits.items() if len(asked) >= 2)

    def _owner_tokens(self, owner: str, index: VectorIndex) -> tuple[list[Chunk], list[list[str]]]:
        """The owner's chunks and their BM25 tokens, re-tokenised only when their documents change. Kept for
        the same object at the same version only: a search that began before a change or a reload cannot
        leave the old chunks behind under the new version."""
        assert self.documents is not None
        version = self.documents.version(owner)
        with self._lock:
            cached = self._doc_tokens.get(owner)
            if cached is None or cached[0] is not index or cached[1] != version:
                chunks = index.chunks
                cached = (index, version, chunks, [self.tokenizer.tokenize(c.index_text) for c in chunks])
                self._doc_tokens[owner] = cached
            self._doc_tokens.move_to_end(owner)
            while len(self._doc_tokens) > self._max_owner_tokens:
                self._doc_tokens.popitem(last=False)
            return cached[2], cached[3]


def mention_refs(mentions: Iterable[DrugMention]) -> set[str]:
    """The `boost_refs` for a question or document: its resolved ingredients, and the classes it names by a class
    word ("降压药"). A drug's own classes are not added: the retriever already counts class-level passages as
    being about the drug, and adding them would make one drug look like several."""
    refs: set[str] = set()
    for m in mentions:
        if not m.recognized:
            continue
        refs.update(f"drug:{i}" for i in m.ingredients)
        if m.is_class:
            refs.update(f"class:{c}" for c in m.class_ids)
    return refs


def _ref_words(ref: str) -> str:
    """The words of a ref: "drug:lithium cation" -> "lithium cation", "class:nsaid" -> "nsaid"."""
    return ref.partition(":")[2].replace("_", " ")


def class_parents(class_children: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """Invert `KnowledgeBase.class_children` into child -> parents."""
    out: dict[str, set[str]] = defaultdict(set)
    for parent, children in class_children.items():
        for child in children:
            out[child].add(parent)
    return dict(out)
