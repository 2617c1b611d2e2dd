"""The interaction engine: resolve every mention, then check every pair against the knowledge base.

Verdicts come from here and only here. A pair is reported when any source asserts it, directly (ingredient and
ingredient) or through a class rule (ingredient or class against a class). A class word the user wrote
("降压药") is expanded to its members and the findings are grouped by member class. Mentions that did not
resolve are listed, and `CheckResult.all_recognized` is False: callers must not say "no interaction" then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import combinations

from knowledge.build import TEXT_PRIORITY
from knowledge.lexicon import Lexicon
from knowledge.models import CheckResult, DrugMention, Duplicate, Interaction, SourceRef
from knowledge.severity import AUTHORITY, SourceGrade, reconcile
from knowledge.store import KnowledgeBase

# Two different members of one of these classes taken together is duplicate therapy worth flagging.
DUPLICATE_CLASSES = (
    "nsaid",
    "anticoagulant",
    "ssri",
    "snri",
    "statin",
    "ace_inhibitor",
    "arb",
    "beta_blocker",
    "ccb",
    "benzodiazepine",
    "opioid",
    "proton_pump_inhibitor",
    "sulfonylurea",
    "maoi",
    "macrolide",
    "fluoroquinolone",
    "loop_diuretic",  # furosemide + ethacrynic acid: "should not be used concomitantly" (ototoxicity)
)


def _ordered(sources: Iterable[SourceRef]) -> tuple[SourceRef, ...]:
    """Explained sources first (curated rules, then the MIT rules, ...), DDInter's bare grades last."""
    rank = {name: i for i, name in enumerate(TEXT_PRIORITY)}
    return tuple(sorted(sources, key=lambda s: (rank.get(s.name, len(rank)), s.name, s.record)))


class InteractionEngine:
    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon | None = None) -> None:
        self.kb = kb
        self.lexicon = lexicon or Lexicon(kb)

    def mentions(self, inputs: Iterable[str]) -> list[DrugMention]:
        """Resolve user inputs; one input may name several drugs ("布洛芬 降压药")."""
        out: list[DrugMention] = []
        for text in inputs:
            out += self.lexicon.resolve_many(text)
        return out

    def check(self, inputs: Sequence[str | DrugMention]) -> CheckResult:
        mentions = [m if isinstance(m, DrugMention) else None for m in inputs]
        resolved: list[DrugMention] = []
        for given, raw in zip(mentions, inputs, strict=True):
            resolved += [given] if given is not None else self.mentions([str(raw)])
        result = CheckResult(mentions=resolved)
        found: dict[tuple[str, str], Interaction] = {}
        for m1, m2 in combinations([m for m in resolved if m.recognized], 2):
            for inter in self._between(m1, m2):
                key = (inter.a, inter.b) if inter.a <= inter.b else (inter.b, inter.a)
                if key not in found or inter.severity.rank > found[key].severity.rank:
                    found[key] = inter
        # Worst first; among equals, the findings a source explains (mechanism, advice) before bare grades.
        result.interactions = sorted(found.values(), key=lambda i: (-i.severity.rank, not i.mechanism, i.a, i.b))
        result.duplicates = self._duplicates([m for m in resolved if m.recognized])
        for m in resolved:
            for c in m.class_ids:
                result.class_names[c] = self.kb.class_names.get(c, (c, c))
        for i in result.interactions:
            for side in (i.a, i.b, i.via_class or ""):
                if side in self.kb.class_names:
                    result.class_names[side] = self.kb.class_names[side]
        return result

    # ---- pairs -------------------------------------------------------------------------------------

    def _between(self, m1: DrugMention, m2: DrugMention) -> list[Interaction]:
        if m1.is_class and m2.is_class:
            return self._class_vs_class(m1.class_ids[0], m2.class_ids[0])
        if m1.is_class or m2.is_class:
            drug_m, class_m = (m2, m1) if m1.is_class else (m1, m2)
            return [f for a in drug_m.ingredients for f in self._drug_vs_class(a, class_m.class_ids[0])]
        return [
            inter for a in m1.ingredients for b in m2.ingredients if a != b and (inter := self.pair(a, b)) is not None
        ]

    def pair(self, a: str, b: str) -> Interaction | None:
        """Everything the knowledge base says about ingredients a and b, merged: the records found directly and
        through class rules are weighed together by `knowledge.severity.reconcile` (the same rules as the
        build), every source is listed, and `via_class` names the class rule when no direct record exists."""
        hits: list[tuple[Interaction, str | None]] = []
        a_side = [(f"drug:{a}", None)] + [(f"class:{c}", c) for c in sorted(self.kb.classes_of.get(a, ()))]
        b_side = [(f"drug:{b}", None)] + [(f"class:{c}", c) for c in sorted(self.kb.classes_of.get(b, ()))]
        for x, cx in a_side:
            for y, cy in b_side:
                hit = self.kb.pair(x, y)
                if hit is not None:
                    hits.append((self.kb.interaction(hit[0]), cx or cy))
        if not hits:
            return None
        product = self.kb.combined_in(a, b)
        if len(hits) == 1 and not product:
            inter, via = hits[0]
            return replace(inter, a=a, b=b, sources=_ordered(inter.sources), via_class=via)
        grades: dict[tuple[str, str], SourceGrade] = {}
        sources: dict[tuple[str, str], SourceRef] = {}
        for inter, _ in hits:
            for g in inter.grades:
                grades.setdefault((g.source, g.record), g)
            for s in inter.sources:
                sources.setdefault((s.name, s.record), s)
        merged = reconcile(grades.values(), combined_in=product)
        # The text comes from the record that carries the grade, the strongest and explained one first.
        base, via = max(
            hits,
            key=lambda h: (
                h[0].severity is merged.severity,
                AUTHORITY.get(h[0].evidence, 0),
                h[0].explained,
                h[1] is None,
                h[0].severity.rank,
            ),
        )
        direct = any(v is None for _, v in hits)
        return replace(
            base,
            a=a,
            b=b,
            severity=merged.severity,
            evidence=merged.evidence,
            agreeing=merged.agreeing,
            explained=merged.explained,
            grades=tuple(grades.values()),
            sources=_ordered(sources.values()),
            via_class=None if direct else via,
            combined_in=merged.combined_in,
        )

    def _drug_vs_class(self, a: str, class_id: str) -> list[Interaction]:
        """An ingredient against a class word: one finding per member class that has interacting members."""
        findings = []
        children = self.kb.class_children.get(class_id, [])
        for group in self.kb.leaf_classes(class_id):
            if group == class_id:  # members of the class word not already under one of its sub-classes
                members = self.kb.direct_members.get(group, set()) - {
                    m for child in children for m in self.kb.members(child)
                }
            else:
                members = self.kb.members(group)
            hits = [i for m in sorted(members) if m != a and (i := self.pair(a, m)) is not None]
            if hits:
                findings.append(self._group(a, group, class_id, hits, members))
        return findings

    def _class_vs_class(self, c1: str, c2: str) -> list[Interaction]:
        findings = []
        for g1 in self.kb.leaf_classes(c1):
            for g2 in self.kb.leaf_classes(c2):
                hit = self.kb.pair(f"class:{g1}", f"class:{g2}")
                if hit is not None:
                    inter = self.kb.interaction(hit[0])
                    findings.append(replace(inter, a=g1, b=g2, via_class=f"{c1}+{c2}"))
        return findings

    def _group(self, a: str, group: str, asked: str, hits: list[Interaction], members: set[str]) -> Interaction:
        worst = max(hits, key=lambda i: (i.severity.rank, bool(i.mechanism)))
        names = ", ".join(f"{h.b} ({h.severity.value})" for h in sorted(hits, key=lambda h: -h.severity.rank)[:6])
        sources: dict[tuple[str, str], SourceRef] = {}
        for h in hits:
            for s in h.sources:
                sources.setdefault((s.name, s.record), s)
        summary = (
            f"{a} interacts with {len(hits)} of {len(members)} {self.kb.class_names.get(group, (group,))[0]} "
            f"drugs in our sources: {names}. {worst.summary}"
        ).strip()
        return replace(
            worst,
            a=a,
            b=group,
            summary=summary,
            via_class=asked,
            sources=_ordered(sources.values()),
            members=tuple(h.b for h in sorted(hits, key=lambda h: (-h.severity.rank, h.b))),
        )

    # ---- duplicates --------------------------------------------------------------------------------

    def _duplicates(self, mentions: list[DrugMention]) -> list[Duplicate]:
        out: list[Duplicate] = []
        by_ingredient: dict[str, list[str]] = {}
        for m in mentions:
            for ing in m.ingredients:
                by_ingredient.setdefault(ing, []).append(m.text)
        for ing, texts in sorted(by_ingredient.items()):
            if len(texts) > 1:
                out.append(Duplicate("ingredient", ing, tuple(texts)))
        for cls in DUPLICATE_CLASSES:
            holders = [
                (m.text, ing) for m in mentions for ing in m.ingredients if cls in self.kb.classes_of.get(ing, ())
            ]
            if len({ing for _, ing in holders}) > 1:
                out.append(Duplicate("class", cls, tuple(t for t, _ in holders)))
        return out
