"""Name resolution: a drug or class as people write it -> ingredients (lower-case English INNs) or a class.

Exact matches go through `normalize.core_forms`, so salts, strengths and dosage forms do not matter. Near misses
are corrected and marked `corrected_from`: Chinese by one-character substitution or identical toneless pinyin
(安禄地平 -> 氨氯地平, 二甲双肌 -> 二甲双胍), English by a small edit distance (Amlodipne -> amlodipine). A
correction is only made when it is unambiguous and the read word is not itself a piece of chemistry (呋喃苯胺 is
not corrected to 呋喃硫胺, nor "coumarin" to coumadin); anything else stays unknown, never guessed. In running text
a counter-ion belongs to the drug beside it ("losartan potassium", 枸橼酸西地那非), and excipient, packaging and
disease words (`data/curated/not_drugs.csv`) are never drugs.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from pypinyin import lazy_pinyin
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from knowledge.models import DrugMention
from knowledge.normalize import COUNTER_IONS_EN, SALT_PREFIXES_ZH, SALT_SUFFIXES_ZH, core_forms, has_cjk, norm
from knowledge.store import KnowledgeBase, NameEntry

# Which entry to prefer when one key names several things.
_KIND_RANK = {"class": 0, "generic": 1, "brand": 2, "product": 3, "synonym": 4}
_MAX_ZH_LEN = 16
# The share of a row-heading English name's letters that may be misread (`Lexicon.resolve_row_name`).
ROW_NAME_SLIPS = 0.3
# Characters that begin no drug name but often stand right before one ("和", "吃", "与"): a near-miss window is
# never started on them.
_ZH_FUNCTION_CHARS = frozenset("和与跟及同吃服用在还能把给对是的了或并再也都")
# Prefixes that make another drug out of a name (去甲肾上腺素 is not 肾上腺素, 右苯丙胺 not 苯丙胺, 琥珀胆碱 not 胆碱):
# a name found right after one of them, inside a longer unknown word, is not a mention of that name.
_ZH_DERIVATIVE_PREFIXES = ("去甲", "去氧", "去乙酰", "甲基", "乙基", "双氢", "二氢", "琥珀", "右", "左", "羟", "赖")
# "吃耐信" / "服用代文": a verb of taking right before a word makes a two-character brand a mention.
_ZH_TAKE_CHARS = frozenset("吃服用")
# A substitution that reads one of these characters is not a misread drug name but a name plus a container or a
# form ("聚乙烯瓶", a polyethylene bottle, is not 聚乙烯醇).
_ZH_PACKAGING_CHARS = frozenset("瓶盒袋罐管装箱片粒丸膏液剂针贴栓板包膜")
# Chemical morphemes: exchanging one for another names another compound (呋喃苯胺 is not 呋喃硫胺, 乙 is not 甲), so a
# substitution between two of them is never corrected ...
_ZH_STEM_CHARS = frozenset(
    "苯硫磷醇酮醛酯醚酚酰胺烷烯炔基羟羧甲乙丙丁戊己庚辛壬癸吡啶嗪唑噻嘧哌喹吲哚呋喃吗啉咪嘌呤肼脲胍"
    "氯氧氟氢氮氨溴碘钠钾钙镁锌铁铝锂铋银汞硒硼硅砷"
)
# ... except between the gas-radical characters OCR confuses with one another (氨氧地平 is 氨氯地平 misread).
_ZH_OCR_ALIKE = frozenset("氯氧氟氢氮氨")
_SALT_FIRST_ZH = frozenset(p[0] for p in SALT_PREFIXES_ZH)
# Disease words are never corrected into drugs ("hypertension" is one letter from "Hypertensin").
_EN_DISEASE_SUFFIXES = ("tension", "itis", "emia", "aemia", "osis", "pathy", "algia", "plasia", "trophy", "uria")
# After these headings comes a list of excipients, not of active drugs; the list runs to the end of its sentence.
_EXCIPIENT_HEADING = re.compile(
    r"(?:辅\s*料|非活性成[分份]|excipients?|inactive\s+ingredients?|other\s+ingredients?)"
    r"\s*(?:[:：】\]]|为|是|包括|含有|are\b|includes?\b)[\s:：】\]]*"
)
_LIST_END = re.compile(r"[。【\[;；]|\.(?=\s|$)|(?<![、，,])\n")
# Words that are not drugs though they sit near one: excipients, packaging, diseases (curated, with reasons).
_NOT_DRUGS_CSV = Path(__file__).parent / "data" / "curated" / "not_drugs.csv"
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


def _load_not_drugs() -> list[str]:
    with _NOT_DRUGS_CSV.open(encoding="utf-8", newline="") as f:
        return [row["name"] for row in csv.DictReader(f)]


class Lexicon:
    """Resolves mentions against a loaded knowledge base. Build once; it is read-only and thread-safe."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.names = kb.names
        # Near misses are corrected towards names people write, not towards the 8,000 FDA brand names: "active" is
        # one letter from Factive.
        self._en_keys = sorted(
            k
            for k, entries in kb.names.items()
            if len(k) >= 5 and not has_cjk(k) and any(e.lang == "en" and e.source != "fda_unii" for e in entries)
        )
        self._zh_sub: dict[str, set[str]] = defaultdict(set)
        self._zh_pinyin: dict[str, set[str]] = defaultdict(set)
        # Known names cut short (呋喃苯胺 of 呋喃苯胺酸): never corrected into another drug.
        self._zh_prefixes: set[str] = set()
        en_names: dict[str, list[str]] = defaultdict(list)
        for k, entries in kb.names.items():
            if _CJK_RUN.fullmatch(k):
                self._zh_prefixes.update(k[:n] for n in range(3, min(len(k), 9)))
                if 3 <= len(k) <= 8 and any(e.kind != "class" for e in entries):
                    for j in range(len(k)):
                        self._zh_sub[k[:j] + "?" + k[j + 1 :]].add(k)
                    self._zh_pinyin[_pinyin(k)].add(k)
            elif not has_cjk(k):
                for e in entries:
                    en_names["|".join(e.targets)].append(norm(e.display))
        # Every drug's English names on one line each: a word found inside the names of several drugs is a piece
        # of chemistry ("coumarin" in acenocoumarol, dicoumarol ...), not a misspelling of another name.
        self._en_lines = "\n".join(t + "\t" + " ".join(v) for t, v in en_names.items())
        not_drugs = _load_not_drugs()
        self._not_drugs = frozenset(norm(w) for w in not_drugs)
        self._not_drug_first_zh = frozenset(k[0] for k in self._not_drugs if has_cjk(k))
        self._not_drug_max_zh = max((len(k) for k in self._not_drugs if has_cjk(k)), default=0)
        self._not_drug_first_en = frozenset(w.lower().split()[0] for w in not_drugs if not has_cjk(w))

    # ---- whole-string resolution -------------------------------------------------------------------

    def resolve(self, text: str) -> DrugMention:
        """Resolve one mention (a whole string). Falls back to finding a single mention inside it."""
        raw = text.strip()
        if not raw:
            return DrugMention(text=text, recognized=False)
        forms = core_forms(raw)
        if any(k in self._not_drugs for k in forms[:2]):
            return DrugMention(text=raw, recognized=False, start=0, end=len(raw))
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

    def resolve_row_name(self, text: str) -> DrugMention:
        """The name that heads a prescription or box medication row ("可定", "Clopdogel" read for Clopidogrel).

        The row's strength says a drug is named there, so more is allowed than in free text: a two-character
        brand, and an English name read with more slips (up to 30% of its letters: handwriting read by OCR), when
        one drug is clearly nearest (every other drug at least two edits further). A correction is marked
        `corrected_from`, so the row is shown to the user to confirm.
        """
        whole = self.resolve(text)
        if whole.recognized or has_cjk(text):
            return whole
        key = re.sub(r"[^a-z]", "", text.lower())
        if len(key) < 6 or key in _EN_NOT_DRUGS or key in self._not_drugs:
            return whole
        allowed = max(2, int(len(key) * ROW_NAME_SLIPS))
        hits = process.extract(key, self._en_keys, scorer=Levenshtein.distance, score_cutoff=allowed + 1, limit=20)
        best_d = min((h[1] for h in hits), default=allowed + 1)
        if best_d > allowed:
            return whole
        entry = self._unique_entry({h[0] for h in hits if h[1] == best_d})
        if entry is None:
            return whole
        for name, d, _ in hits:
            other = self._best(name, allow_class=False)
            if d <= best_d + 1 and other is not None and other.targets != entry.targets:
                return whole  # another drug nearly as near: not clear which one was written
        nearest = min(h[0] for h in hits if h[1] == best_d)
        if self._en_stem_spread(key, entry.targets) >= 2:
            return whole  # a piece of chemistry ("coumarin"), not a misread name
        return self._mention(text.strip(), entry, 1.0 - best_d / len(key), nearest, 0, len(text.strip()), True)

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
            # never empty: a correction notice says what the text was taken for
            matched=entry.display or key or " + ".join(entry.targets),
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
        """A near-miss Chinese name: identical toneless pinyin (a typing slip), else one character misread.

        Refused when the read word is a known name cut short (呋喃苯胺 of 呋喃苯胺酸) or a known non-drug, when a
        misread character would turn one chemical morpheme into another or is a container word (聚乙烯瓶), and
        when the candidates name more than one drug.
        """
        if not (3 <= len(key) <= 8) or not _CJK_RUN.fullmatch(key):
            return None
        if key in self._zh_prefixes or key in self._not_drugs:
            return None
        candidates = self._zh_pinyin.get(_pinyin(key), set())
        confidence = 0.85
        if not candidates and len(key) >= 4:  # one wrong character in three is too much to correct safely
            confidence = 0.8
            for j in range(len(key)):
                for candidate in self._zh_sub.get(key[:j] + "?" + key[j + 1 :], ()):
                    if not _plausible_misread(key[j], candidate[j]):
                        return None  # another compound one character away: the read word may well be that
                    candidates = candidates | {candidate}
        entry = self._unique_entry(candidates)
        if entry is None:
            return None
        return entry, min(candidates), confidence

    def _fuzzy_en(self, key: str) -> tuple[NameEntry, str, float] | None:
        """A near-miss English name by edit distance, when one drug is clearly nearest.

        Refused for everyday, excipient, disease and counter-ion words; for a word found inside the names of other
        drugs unless it is part of the candidate ("coumarin", in acenocoumarol and dicoumarol, is not a misspelt
        "coumadin"); and for a two-edit correction with a different drug at most one edit further.
        """
        if len(key) < 6 or key in _EN_NOT_DRUGS or key in self._not_drugs or key.endswith(_EN_DISEASE_SUFFIXES):
            return None
        max_d = 1 if len(key) < 10 else 2
        # two edits need a margin: no other drug one edit further
        hits = process.extract(key, self._en_keys, scorer=Levenshtein.distance, score_cutoff=2 * max_d - 1, limit=10)
        best_d = min((h[1] for h in hits), default=max_d + 1)
        if best_d > max_d:
            return None
        best_keys = {h[0] for h in hits if h[1] == best_d}
        entry = self._unique_entry(best_keys)
        if entry is None:
            return None
        if best_d >= 2:
            for name, _, _ in hits:
                other = self._best(name, allow_class=False)
                if other is not None and other.targets != entry.targets:
                    return None
        if not any(key in k for k in best_keys) and self._en_stem_spread(key, entry.targets) >= 2:
            return None
        return entry, min(best_keys), 1.0 - best_d / len(key)

    def _en_stem_spread(self, word: str, targets: tuple[str, ...]) -> int:
        """In how many other drugs' English names `word` occurs."""
        own = "|".join(targets) + "\t"
        count, i = 0, self._en_lines.find(word)
        while i >= 0:
            line_start = self._en_lines.rfind("\n", 0, i) + 1
            if not self._en_lines.startswith(own, line_start):
                count += 1
            line_end = self._en_lines.find("\n", i)
            if line_end < 0:
                break
            i = self._en_lines.find(word, line_end)
        return count

    # ---- free text ---------------------------------------------------------------------------------

    def find_mentions(self, text: str) -> list[DrugMention]:
        """Every drug or class named in free text, with character offsets into `text`.

        Counter-ions stay with the name they follow or precede ("losartan potassium", 枸橼酸西地那非); excipients,
        packaging and disease words are not mentions, nor is anything in a list after an excipient heading.
        """
        folded = _fold_keep_offsets(text)
        found: list[DrugMention] = []
        for run in _CJK_RUN.finditer(folded):
            found += self._scan_zh(text, run.group(), run.start())
        found += self._scan_en(text, folded)
        regions = _excipient_lists(folded)
        if regions:
            found = [m for m in found if not any(s <= m.start < e for s, e in regions)]
        found.sort(key=lambda m: m.start)
        return found

    def _zh_name_at(self, run: str, i: int, min_length: int = 2) -> tuple[int, NameEntry] | None:
        """The longest name starting at `i`."""
        for length in range(min(_MAX_ZH_LEN, len(run) - i), min_length - 1, -1):
            entry = self._best(run[i : i + length])
            if entry is not None:
                return length, entry
        return None

    def _zh_not_drug_at(self, run: str, i: int) -> int:
        if run[i] not in self._not_drug_first_zh:
            return 0
        for length in range(min(self._not_drug_max_zh, len(run) - i), 1, -1):
            if run[i : i + length] in self._not_drugs:
                return length
        return 0

    def _zh_salted_at(self, run: str, i: int) -> tuple[int, NameEntry, int] | None:
        """A salt word and the drug name right after it (枸橼酸 + 西地那非), as one: length, entry, salt length."""
        if run[i] not in _SALT_FIRST_ZH:
            return None
        for salt in SALT_PREFIXES_ZH:
            if run.startswith(salt, i):
                hit = self._zh_name_at(run, i + len(salt))
                if hit is not None and hit[1].kind != "class" and not _weak_zh(*hit):
                    return len(salt) + hit[0], hit[1], len(salt)
        return None

    def _zh_salt_suffix_at(self, run: str, i: int) -> int:
        """The length of a counter-ion right after a name (氯沙坦 + 钾), unless a longer name starts there (钙尔奇)."""
        for salt in SALT_SUFFIXES_ZH:
            if run.startswith(salt, i):
                return 0 if self._zh_name_at(run, i, min_length=3) else len(salt)
        return 0

    def _scan_zh(self, text: str, run: str, offset: int) -> list[DrugMention]:
        """Exact names first, over the whole run; near misses only in the stretches no exact name covers.

        Otherwise a correction that starts one character early ("吃地高辛" -> 甲地高辛, "和芬太尼" -> 舒芬太尼)
        would swallow the exact name right after it.
        """
        hits: list[tuple[int, int, NameEntry, bool, float]] = []  # start, length, entry, corrected, confidence
        weak: list[tuple[int, int, NameEntry]] = []  # two-character brands: everyday words unless context says so
        blocked: list[tuple[int, int]] = []  # excipient, packaging and disease words
        i = 0
        while i < len(run):
            hit = self._zh_name_at(run, i)
            skip = self._zh_not_drug_at(run, i)
            if skip and skip >= (hit[0] if hit else 0):
                blocked.append((i, skip))
                i += skip
                continue
            salted = self._zh_salted_at(run, i)
            if salted is not None and (hit is None or hit[0] <= salted[2]):  # unless a name runs past the salt word
                hit = salted[:2]
            if hit is None:
                i += 1
                continue
            length, entry = hit
            if _weak_zh(length, entry):
                weak.append((i, length, entry))
                i += 1
                continue
            if entry.kind != "class":
                length += self._zh_salt_suffix_at(run, i + length)
            hits.append((i, length, entry, False, 1.0))
            i += length
        hits += [(s, n, entry, False, 1.0) for s, n, entry in _linked_weak(run, weak, hits, blocked)]
        derived = [(start - n, length + n) for start, length, *_ in hits if (n := _derivative_prefix(run, start, hits))]
        hits = [h for h in hits if not _derivative_prefix(run, h[0], hits)]
        covered = [False] * len(run)
        for start, length in [(h[0], h[1]) for h in hits] + derived + blocked:  # derived words stay unknown
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

    def _en_not_drug_at(self, folded: str, words: list[re.Match[str]], i: int) -> int:
        """How many words from `i` make an excipient, packaging or disease phrase ("magnesium stearate"), or 0."""
        if words[i].group() not in self._not_drug_first_en:
            return 0
        for n in range(min(4, len(words) - i), 0, -1):
            if norm(folded[words[i].start() : words[i + n - 1].end()]) in self._not_drugs:
                return n
        return 0

    def _en_name_at(
        self, folded: str, words: list[re.Match[str]], i: int, min_words: int = 1
    ) -> tuple[int, NameEntry] | None:
        """The longest drug name starting at word `i`: how many words, and its entry."""
        for n in range(min(5, len(words) - i), min_words - 1, -1):
            key = norm(folded[words[i].start() : words[i + n - 1].end()])
            entry = self._best(key)
            if entry is not None and not self._weak_english(entry, key):
                return n, entry
        return None

    def _scan_en(self, text: str, folded: str) -> list[DrugMention]:
        words = list(_EN_WORD.finditer(folded))
        out, i = [], 0
        while i < len(words):
            skip = self._en_not_drug_at(folded, words, i)
            name = self._en_name_at(folded, words, i, min_words=skip + 1)
            hit = None
            if name is not None:
                n, entry = name
                hit = (entry, n, False, 1.0, words[i].start(), words[i + n - 1].end())
            elif skip:
                i += skip
                continue
            else:
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
            if entry.kind != "class":  # "losartan potassium", "clopidogrel hydrogen sulfate": one drug
                j = i + n
                while (
                    j < len(words)
                    and words[j].group() in COUNTER_IONS_EN
                    and not folded[words[j - 1].end() : words[j].start()].strip()
                    and not self._en_name_at(folded, words, j, min_words=2)
                    and not self._en_not_drug_at(folded, words, j)
                ):
                    e = words[j].end()
                    j += 1
                n = j - i
            out.append(self._mention(text[s:e], entry, confidence, norm(folded[s:e]), s, e, corrected))
            i += n
        return out

    @staticmethod
    def _weak_english(entry: NameEntry, key: str) -> bool:
        """Short DrugBank synonyms ("tea", "ng"), everyday words and counter-ions ("citrate" for citric acid) are not
        drug mentions in running text."""
        if entry.source == "rxlens_curated":
            return False
        if entry.kind == "synonym" and key in COUNTER_IONS_EN:
            return True
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


def _weak_zh(length: int, entry: NameEntry) -> bool:
    """Two-character brands and products (1,300 of them: 东北, 修正, 平坦 ...) are everyday words in running text."""
    return length < 3 and entry.kind in ("brand", "product")


def _linked_weak(
    run: str,
    weak: list[tuple[int, int, NameEntry]],
    hits: list[tuple[int, int, NameEntry, bool, float]],
    blocked: list[tuple[int, int]],
) -> list[tuple[int, int, NameEntry]]:
    """The two-character brands that context makes mentions: a word of their own (function characters or the run's
    ends on both sides) that is taken ("吃耐信") or listed with another drug ("波立维和耐信", "耐信能和波立维"), or
    with another such brand in a question about taking them ("代文和耐信能一起吃吗")."""
    taken = [(s, s + n) for s, n, *_ in hits] + [(s, s + n) for s, n in blocked]
    alone = [
        (s, n, entry)
        for s, n, entry in weak
        if not any(ts < s + n and s < te for ts, te in taken)
        and (s == 0 or run[s - 1] in _ZH_FUNCTION_CHARS)
        and (s + n == len(run) or run[s + n] in _ZH_FUNCTION_CHARS)
    ]
    linked_to = [(s, s + n) for s, n, *_ in hits]
    if any(ch in _ZH_TAKE_CHARS for ch in run):
        linked_to += [(s, s + n) for s, n, _ in alone]
    accepted: list[tuple[int, int, NameEntry]] = []
    for s, n, entry in alone:
        e = s + n
        joined = any(_only_function_chars(run, he, s) or _only_function_chars(run, e, hs) for hs, he in linked_to)
        overlaps = any(a < e and s < a + m for a, m, _ in accepted)
        if (joined or (s > 0 and run[s - 1] in _ZH_TAKE_CHARS)) and not overlaps:
            accepted.append((s, n, entry))
    return accepted


def _only_function_chars(run: str, start: int, end: int) -> bool:
    return 0 < end - start <= 3 and all(ch in _ZH_FUNCTION_CHARS for ch in run[start:end])


def _plausible_misread(read: str, candidate: str) -> bool:
    """Whether reading `candidate` as `read` is a plausible slip rather than another name."""
    if read in _ZH_PACKAGING_CHARS:
        return False
    both_stems = read in _ZH_STEM_CHARS and candidate in _ZH_STEM_CHARS
    return not both_stems or (read in _ZH_OCR_ALIKE and candidate in _ZH_OCR_ALIKE)


def _excipient_lists(folded: str) -> list[tuple[int, int]]:
    """Spans of `folded` listing excipients: from a heading ("辅料：", "Inactive ingredients:") to the end of its
    sentence or line."""
    spans = []
    for heading in _EXCIPIENT_HEADING.finditer(folded):
        end = _LIST_END.search(folded, heading.end())
        spans.append((heading.end(), end.start() if end else len(folded)))
    return spans
