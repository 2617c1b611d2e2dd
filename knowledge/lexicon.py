"""Name resolution: a drug or class as people write it -> ingredients (lower-case English INNs) or a class.

Exact matches go through `normalize.core_forms`, so salts, strengths and dosage forms do not matter. Near misses
are corrected and marked `corrected_from`: Chinese by one-character substitution or identical toneless pinyin
(安禄地平 -> 氨氯地平, 二甲双肌 -> 二甲双胍), English by a small edit distance (Amlodipne -> amlodipine). A
correction is only made when it is unambiguous; anything else stays unknown, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import replace

from pypinyin import lazy_pinyin
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from knowledge.models import DrugMention
from knowledge.normalize import core_forms, has_cjk, norm
from knowledge.store import KnowledgeBase, NameEntry

# Which entry to prefer when one key names several things.
_KIND_RANK = {"class": 0, "generic": 1, "brand": 2, "product": 3, "synonym": 4}
_MAX_ZH_LEN = 16
# Characters that begin no drug name but often stand right before one ("和", "吃", "与"): a near-miss window is
# never started on them.
_ZH_FUNCTION_CHARS = frozenset("和与跟及同吃服用在还能把给对是的了或并再也都")
# Prefixes that make another drug out of a name (去甲肾上腺素 is not 肾上腺素, 右苯丙胺 not 苯丙胺, 琥珀胆碱 not 胆碱):
# a name found right after one of them, inside a longer unknown word, is not a mention of that name.
_ZH_DERIVATIVE_PREFIXES = ("去甲", "去氧", "去乙酰", "甲基", "乙基", "双氢", "二氢", "琥珀", "右", "左", "羟", "赖")
_EN_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# English words of leaflets and questions that sit within one edit of some drug synonym.
_EN_NOT_DRUGS = frozenset(
    [
        "water",
        "sugar",
        "salt",
        "oxygen",
        "tablet",
        "tablets",
        "capsule",
        "capsules",
        "take",
        "taken",
        "taking",
        "with",
        "this",
        "that",
        "there",
        "their",
        "other",
        "caution",
        "dosage",
        "doses",
        "daily",
        "father",
        "mother",
        "blood",
        "pressure",
        "pills",
        "safe",
        "together",
    ]
)


def _fold_keep_offsets(text: str) -> str:
    """NFKC + lower-case, one output character per input character, so spans map straight back."""
    out = []
    for ch in text:
        f = unicodedata.normalize("NFKC", ch).lower()
        out.append(f[0] if len(f) >= 1 else " ")
    return "".join(out)


def _pinyin(text: str) -> str:
    """Toneless pinyin with ü written u: OCR and typing confuse 氯 (lǜ) and 禄 (lù)."""
    return "".join(lazy_pinyin(text)).replace("v", "u")


class Lexicon:
    """Resolves mentions against a loaded knowledge base. Build once; it is read-only and thread-safe."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.names = kb.names
        self._en_keys = sorted(
            k
            for k, entries in kb.names.items()
            if len(k) >= 5 and not has_cjk(k) and any(e.lang == "en" for e in entries)
        )
        self._zh_sub: dict[str, set[str]] = defaultdict(set)
        self._zh_pinyin: dict[str, set[str]] = defaultdict(set)
        for k, entries in kb.names.items():
            if 3 <= len(k) <= 8 and _CJK_RUN.fullmatch(k) and any(e.kind != "class" for e in entries):
                for j in range(len(k)):
                    self._zh_sub[k[:j] + "?" + k[j + 1 :]].add(k)
                self._zh_pinyin[_pinyin(k)].add(k)

    # ---- whole-string resolution -------------------------------------------------------------------

    def resolve(self, text: str) -> DrugMention:
        """Resolve one mention (a whole string). Falls back to finding a single mention inside it."""
        raw = text.strip()
        if not raw:
            return DrugMention(text=text, recognized=False)
        forms = core_forms(raw)
        for i, key in enumerate(forms):
            entry = self._best(key, allow_class=i <= 1)
            if entry is not None:
                return self._mention(raw, entry, 1.0 if i == 0 else 0.95, key, 0, len(raw))
        fuzzy = self._fuzzy(forms)
        if fuzzy is not None:
            entry, key, confidence = fuzzy
            return self._mention(raw, entry, confidence, key, 0, len(raw), corrected=True)
        found = self.find_mentions(raw)
        if len(found) == 1:
            m = found[0]
            return replace(m, text=raw, start=0, end=len(raw), confidence=round(m.confidence * 0.9, 3))
        return DrugMention(text=raw, recognized=False, start=0, end=len(raw))

    def resolve_many(self, text: str) -> list[DrugMention]:
        """One input that may name several drugs ("布洛芬 降压药", "aspirin and warfarin")."""
        whole = self.resolve(text)
        if whole.recognized:
            return [whole]
        found = self.find_mentions(text)
        return found or [whole]

    def _best(self, key: str, allow_class: bool = True) -> NameEntry | None:
        entries = [e for e in self.names.get(key, ()) if allow_class or e.kind != "class"]
        if not entries and allow_class and len(key) > 5 and key.endswith("s") and key.isascii():
            # a class word in the plural: "MAO inhibitors", "beta blockers"
            entries = [e for e in self.names.get(key[:-1], ()) if e.kind == "class"]
        if not entries:
            return None
        return min(entries, key=lambda e: (_KIND_RANK.get(e.kind, 9), len(e.targets), e.targets))

    def _mention(
        self,
        text: str,
        entry: NameEntry,
        confidence: float,
        key: str,
        start: int,
        end: int,
        corrected: bool = False,
    ) -> DrugMention:
        is_class = entry.kind == "class"
        return DrugMention(
            text=text,
            recognized=True,
            ingredients=() if is_class else entry.targets,
            class_ids=entry.targets
            if is_class
            else tuple(sorted({c for t in entry.targets for c in self.kb.classes_of.get(t, ())})),
            kind=entry.kind if entry.kind in ("class", "brand", "product") else "ingredient",
            confidence=round(confidence, 3),
            corrected_from=text if corrected else None,
            matched=entry.display,
            start=start,
            end=end,
        )

    # ---- near misses -------------------------------------------------------------------------------

    def _fuzzy(self, forms: list[str]) -> tuple[NameEntry, str, float] | None:
        for key in forms:
            hit = self._fuzzy_zh(key) if has_cjk(key) else self._fuzzy_en(key)
            if hit is not None:
                return hit
        return None

    def _unique_entry(self, keys: set[str]) -> NameEntry | None:
        """The one drug that all candidate keys agree on, or None when they disagree (ambiguous)."""
        entries = [e for k in keys if (e := self._best(k, allow_class=False)) is not None]
        if not entries or len({e.targets for e in entries}) != 1:
            return None
        return entries[0]

    def _fuzzy_zh(self, key: str) -> tuple[NameEntry, str, float] | None:
        if not (3 <= len(key) <= 8) or not _CJK_RUN.fullmatch(key):
            return None
        by_pinyin = self._zh_pinyin.get(_pinyin(key), set())
        by_sub = set()
        if len(key) >= 4:  # one wrong character in three is too much to correct safely
            for j in range(len(key)):
                by_sub |= self._zh_sub.get(key[:j] + "?" + key[j + 1 :], set())
        candidates = by_pinyin or by_sub
        entry = self._unique_entry(candidates)
        if entry is None:
            return None
        confidence = 0.85 if by_pinyin else 0.8
        return entry, min(candidates), confidence

    def _fuzzy_en(self, key: str) -> tuple[NameEntry, str, float] | None:
        if len(key) < 6 or key in _EN_NOT_DRUGS:
            return None
        max_d = 1 if len(key) < 10 else 2
        hits = process.extract(key, self._en_keys, scorer=Levenshtein.distance, score_cutoff=max_d, limit=5)
        if not hits:
            return None
        best_d = min(h[1] for h in hits)
        entry = self._unique_entry({h[0] for h in hits if h[1] == best_d})
        if entry is None:
            return None
        return entry, hits[0][0], 1.0 - best_d / len(key)

    # ---- free text ---------------------------------------------------------------------------------

    def find_mentions(self, text: str) -> list[DrugMention]:
        """Every drug or class named in free text, with character offsets into `text`."""
        folded = _fold_keep_offsets(text)
        found: list[DrugMention] = []
        for run in _CJK_RUN.finditer(folded):
            found += self._scan_zh(text, run.group(), run.start())
        found += self._scan_en(text, folded)
        found.sort(key=lambda m: m.start)
        return found

    def _scan_zh(self, text: str, run: str, offset: int) -> list[DrugMention]:
        """Exact names first, over the whole run; near misses only in the stretches no exact name covers.

        Otherwise a correction that starts one character early ("吃地高辛" -> 甲地高辛, "和芬太尼" -> 舒芬太尼)
        would swallow the exact name right after it.
        """
        hits: list[tuple[int, int, NameEntry, bool, float]] = []  # start, length, entry, corrected, confidence
        i = 0
        while i < len(run):
            for length in range(min(_MAX_ZH_LEN, len(run) - i), 1, -1):
                entry = self._best(run[i : i + length])
                if entry is not None and not (length < 3 and entry.kind in ("brand", "product")):
                    hits.append((i, length, entry, False, 1.0))
                    i += length
                    break
            else:
                i += 1
        derived = [(start - n, length + n) for start, length, *_ in hits if (n := _derivative_prefix(run, start, hits))]
        hits = [h for h in hits if not _derivative_prefix(run, h[0], hits)]
        covered = [False] * len(run)
        for start, length in [(h[0], h[1]) for h in hits] + derived:  # a derived word stays unknown: no near miss
            covered[start : start + length] = [True] * length
        i = 0
        while i < len(run):
            if covered[i] or run[i] in _ZH_FUNCTION_CHARS:
                i += 1
                continue
            gap_end = i
            while gap_end < len(run) and not covered[gap_end]:
                gap_end += 1
            found = None
            for length in range(min(8, gap_end - i), 3, -1):
                fuzzy = self._fuzzy_zh(run[i : i + length])
                if fuzzy is not None:
                    found = (i, length, fuzzy[0], True, fuzzy[2])
                    break
            if found is None:
                i += 1
                continue
            hits.append(found)
            i += found[1]
        out = []
        for start, length, entry, corrected, confidence in sorted(hits, key=lambda h: h[0]):
            s, e = offset + start, offset + start + length
            out.append(self._mention(text[s:e], entry, confidence, run[start : start + length], s, e, corrected))
        return out

    def _scan_en(self, text: str, folded: str) -> list[DrugMention]:
        words = list(_EN_WORD.finditer(folded))
        out, i = [], 0
        while i < len(words):
            hit = None
            for n in range(min(5, len(words) - i), 0, -1):
                s, e = words[i].start(), words[i + n - 1].end()
                key = norm(folded[s:e])
                entry = self._best(key)
                if entry is not None and not self._weak_english(entry, key):
                    hit = (entry, n, False, 1.0, s, e)
                    break
            if hit is None:
                w = words[i]
                key = norm(w.group())
                if len(key) >= 6 and key not in _EN_NOT_DRUGS and key not in self.names:
                    fuzzy = self._fuzzy_en(key)
                    if fuzzy is not None:
                        hit = (fuzzy[0], 1, True, fuzzy[2], w.start(), w.end())
            if hit is None:
                i += 1
                continue
            entry, n, corrected, confidence, s, e = hit
            out.append(self._mention(text[s:e], entry, confidence, "", s, e, corrected))
            i += n
        return out

    @staticmethod
    def _weak_english(entry: NameEntry, key: str) -> bool:
        """Short DrugBank synonyms ("tea", "ng") and everyday words are not drug mentions in running text."""
        if entry.source == "rxlens_curated":
            return False
        return key in _EN_NOT_DRUGS or (entry.kind == "synonym" and len(key) < 5)

    # ---- facts for other stages --------------------------------------------------------------------

    def typical_daily_dose(self, ingredient: str) -> tuple[float, str] | None:
        """The WHO defined daily dose (amount, unit), for flagging implausible strengths on a document."""
        info = self.kb.drugs.get(ingredient)
        if info is None or info.ddd is None or not info.ddd_unit:
            return None
        return info.ddd, info.ddd_unit

    def display_name(self, ingredient: str, lang: str = "en") -> str:
        info = self.kb.drugs.get(ingredient)
        if lang == "zh" and info is not None and info.name_zh:
            return info.name_zh
        return ingredient

    def class_name(self, class_id: str, lang: str = "en") -> str:
        en, zh = self.kb.class_names.get(class_id, (class_id, class_id))
        return zh if lang == "zh" else en


def _derivative_prefix(run: str, start: int, hits: list[tuple[int, int, NameEntry, bool, float]]) -> int:
    """The length of a derivative prefix right before the name found at `start` that no other found name covers,
    or 0."""
    covered_until = max((s + n for s, n, *_ in hits if s < start), default=0)
    for prefix in _ZH_DERIVATIVE_PREFIXES:
        if run.endswith(prefix, 0, start) and start - len(prefix) >= covered_until:
            return len(prefix)
    return 0
