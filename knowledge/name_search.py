"""Name search for a type-ahead box: every drug or class whose name, in Chinese or English, starts with what was
typed, with the lexicon's best resolution first (which also catches OCR-style misspellings).

Keys are kept sorted once, so a prefix is a binary search, not a scan of every name.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from knowledge.lexicon import Lexicon
from knowledge.normalize import norm


@dataclass(frozen=True)
class NameHit:
    """One search result: a drug ingredient (lower-case INN) or a class, with its names in both languages."""

    id: str
    kind: str  # "ingredient" | "class"
    name_en: str
    name_zh: str | None
    matched: str  # the name that matched, as the source wrote it
    corrected_from: str | None = None


class NameSearch:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._keys = sorted(lexicon.names)

    def search(self, query: str, limit: int = 10) -> list[NameHit]:
        hits: dict[tuple[str, str], NameHit] = {}
        best = self.lexicon.resolve(query)
        if best.recognized:
            for target in best.class_ids if best.is_class else best.ingredients:
                kind = "class" if best.is_class else "ingredient"
                hits[(kind, target)] = self._hit(target, kind, best.matched or best.text, best.corrected_from)
        key = norm(query)
        if key:
            i = bisect_left(self._keys, key)
            while i < len(self._keys) and self._keys[i].startswith(key) and len(hits) < limit:
                for entry in self.lexicon.names[self._keys[i]]:
                    if len(entry.targets) != 1:  # a combination product's excipients are not what was typed
                        continue
                    kind = "class" if entry.kind == "class" else "ingredient"
                    for target in entry.targets:
                        hits.setdefault((kind, target), self._hit(target, kind, entry.display, None))
                i += 1
        return list(hits.values())[:limit]

    def _hit(self, target: str, kind: str, matched: str, corrected_from: str | None) -> NameHit:
        if kind == "class":
            en, zh = self.lexicon.kb.class_names.get(target, (target, target))
            return NameHit(target, kind, en, zh, matched, corrected_from)
        info = self.lexicon.kb.drugs.get(target)
        return NameHit(target, kind, target, info.name_zh if info else None, matched, corrected_from)
