"""Lexical retrieval: a jieba + English word tokenizer that keeps drug names whole, and a BM25 index over chunks.

jieba alone cuts 氨氯地平 into 氨/氯/地平, and then BM25 matches every 氯 in the corpus. The tokenizer therefore
loads the THUOCL medical vocabulary and every Chinese drug name of the knowledge base as user words, on its own
jieba instance (the global one belongs to nobody in particular).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import jieba
import numpy as np
from rank_bm25 import BM25Okapi

from knowledge.retrieval.chunks import Chunk
from knowledge.sources.catalog import DATA_DIR

if TYPE_CHECKING:
    from knowledge.store import KnowledgeBase

THUOCL_MEDICAL = DATA_DIR / "thuocl" / "THUOCL_medical.txt"
# A drug name must beat any split of itself: this frequency makes it more probable than 氨 + 氯 + 地平.
DRUG_NAME_FREQ = 50_000
# THUOCL's counts come from another corpus; a floor keeps its rarer terms (桂枝汤 46) whole as well.
THUOCL_MIN_FREQ = 2_000

_TOKEN = re.compile(r"[\u3400-\u9fff]+|[a-z0-9]+")
# Words of questions that match half the corpus and say nothing about which passage answers.
_STOPWORDS_EN = (
    "a an and are as at be but by can could do does for from had has have how i if in into is it its may me my "
    "of on or should so than that the their them then there these they this to was we were what when which who "
    "will with would you your"
)
_STOPWORDS_ZH = (
    "的 了 吗 呢 吧 啊 和 与 及 或 是 在 有 能 会 可以 可 一起 吃 用 我 我们 你 他 她 这 那 什么 怎么 怎样 多少 请问 "
    "一下 同时 服用 一样 么 就 都 也 还 要"
)
STOPWORDS = frozenset(_STOPWORDS_EN.split()) | frozenset(_STOPWORDS_ZH.split())

jieba.setLogLevel(logging.WARNING)  # its start-up chatter is not ours to print


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


class Bm25Tokenizer:
    """Lower-cased English words and jieba words (medical and drug names kept whole), stopwords dropped."""

    def __init__(self, user_words: Iterable[tuple[str, int]] = (), thuocl: Path | None = THUOCL_MEDICAL) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self._lock = threading.Lock()
        if thuocl is not None:
            with open(thuocl, encoding="utf-8") as f:
                for line in f:
                    word, _, count = line.strip().partition("\t")
                    if word:
                        self._jieba.add_word(word, max(int(count or 0), THUOCL_MIN_FREQ))
        self._names: set[str] = set()
        for word, freq in user_words:
            self._jieba.add_word(word, freq)
            self._names.add(word)

    @classmethod
    def for_knowledge_base(cls, kb: KnowledgeBase) -> Bm25Tokenizer:
        """A tokenizer whose user dictionary holds every Chinese name in the knowledge base."""
        words = {_fold(entry.display) for entries in kb.names.values() for entry in entries if entry.lang == "zh"}
        return cls((w, DRUG_NAME_FREQ) for w in sorted(words) if 2 <= len(w) <= 20 and _TOKEN.fullmatch(w))

    def tokenize(self, text: str) -> list[str]:
        out: list[str] = []
        for run in _TOKEN.findall(_fold(text)):
            if "\u3400" <= run[0] <= "\u9fff":
                with self._lock:  # jieba's lazy state is not thread-safe
                    words = list(self._jieba.cut(run, HMM=False))
                for w in words:
                    if w not in STOPWORDS:
                        out.append(w)
                        out.extend(self._inner_names(w))
            elif run not in STOPWORDS:
                out.append(run)
        return out

    def _inner_names(self, word: str) -> list[str]:
        """Drug names inside a longer word: 苯磺酸氨氯地平片 also yields 氨氯地平, so a question naming the
        ingredient matches a leaflet naming the product."""
        if len(word) < 3 or not self._names:
            return []
        found: list[str] = []
        for size in range(len(word) - 1, 1, -1):
            for start in range(len(word) - size + 1):
                sub = word[start : start + size]
                if sub in self._names and not any(sub in f for f in found):
                    found.append(sub)
        return found


class Bm25Index:
    """BM25 (Okapi) over a fixed list of chunks.

    `score_others` scores texts outside the corpus (an owner's few uploaded fields) with this corpus' IDF and
    mean length: BM25 fitted on a corpus of one or two documents gives every shared term a negative IDF, and
    scores computed with the knowledge base's statistics are comparable with the knowledge base's own.

    rank-bm25 fits the model (IDF, mean length); scoring uses postings built here (per term: the chunks holding
    it and how often), so a query costs its terms' postings instead of rank-bm25's Python loop over every chunk
    for every term (~65% of a text question's CPU time before). The scores are rank-bm25's, to the last bit.
    """

    def __init__(self, chunks: Sequence[Chunk], tokenizer: Bm25Tokenizer) -> None:
        self.chunks = list(chunks)
        self.tokenizer = tokenizer
        corpus = [tokenizer.tokenize(c.index_text) for c in self.chunks]
        # rank-bm25 divides by the corpus size and the mean length: an empty corpus has no model.
        self._bm25 = BM25Okapi(corpus) if corpus and any(corpus) else None
        # A term the corpus never saw is as rare as its rarest term.
        self._unseen_idf = max(self._bm25.idf.values()) if self._bm25 is not None and self._bm25.idf else 1.0
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._length_norm = np.zeros(0)
        if self._bm25 is not None:
            bm = self._bm25
            postings: dict[str, tuple[list[int], list[int]]] = {}
            for position, freqs in enumerate(bm.doc_freqs):
                for term, count in freqs.items():
                    ids, counts = postings.setdefault(term, ([], []))
                    ids.append(position)
                    counts.append(count)
            self._postings = {
                t: (np.asarray(ids, dtype=np.intp), np.asarray(counts, dtype=np.float64))
                for t, (ids, counts) in postings.items()
            }
            # The same expression rank-bm25 evaluates, per chunk, so the scores match it exactly.
            self._length_norm = bm.k1 * (1 - bm.b + bm.b * np.array(bm.doc_len) / bm.avgdl)

    def score_others(self, tokens: list[str], documents: Sequence[Sequence[str]]) -> np.ndarray:
        """BM25 scores of tokenised `documents` (not in this corpus) for the query `tokens`."""
        bm = self._bm25
        k1, b, avgdl = (bm.k1, bm.b, bm.avgdl) if bm is not None else (1.5, 0.75, 1.0)
        idf = bm.idf if bm is not None else {}
        out = np.zeros(len(documents))
        for j, doc in enumerate(documents):
            counts: dict[str, int] = {}
            for t in doc:
                counts[t] = counts.get(t, 0) + 1
            norm = k1 * (1 - b + b * len(doc) / avgdl)
            for q in tokens:
                f = counts.get(q, 0)
                if f:
                    out[j] += idf.get(q, self._unseen_idf) * f * (k1 + 1) / (f + norm)
        return out

    def scores(self, tokens: list[str]) -> np.ndarray:
        """The BM25 score of every chunk for the query `tokens` (a repeated token counts again, as in rank-bm25)."""
        bm = self._bm25
        out = np.zeros(len(self.chunks))
        if bm is None:
            return out
        for q in tokens:
            posting = self._postings.get(q)
            idf = bm.idf.get(q) or 0
            if posting is None or not idf:
                continue
            ids, freq = posting
            out[ids] += idf * (freq * (bm.k1 + 1) / (freq + self._length_norm[ids]))
        return out

    def search(self, tokens: list[str], n: int) -> list[tuple[int, float]]:
        """Positions and scores of the `n` best chunks with a positive score, best first."""
        if self._bm25 is None or not tokens or n <= 0:
            return []
        scores = self.scores(tokens)
        top = np.argsort(-scores, kind="stable")[:n]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
