"""Composers turn the engine's decision into words. The template composer is the default and the reference:
deterministic bilingual templates, verdict first, every statement followed by its citation [n].

The verdict is decided here from the engine's findings by fixed rules (`decide_verdict`); a composer never
changes it. Text inside a user's document is only ever quoted as evidence, never obeyed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from app.answer import Answer, Citation, Evidence, Verdict, quoted
from app.understanding import Query
from knowledge.lexicon import Lexicon
from knowledge.models import CheckResult, Interaction, Severity
from knowledge.normalize import has_cjk

MAX_FINDINGS = 8


def decide_verdict(query: Query, result: CheckResult) -> Verdict:
    """Fixed rules, safest first. Unknown drugs never turn into "no known interaction"."""
    worst = max((i.severity.rank for i in result.interactions), default=-1)
    same_ingredient = any(d.kind == "ingredient" for d in result.duplicates)
    if worst >= Severity.MAJOR.rank or same_ingredient:
        return Verdict.AVOID
    if query.intent != "combination" and not result.interactions:
        return Verdict.INFO
    recognized = [m for m in result.mentions if m.recognized]
    if result.unrecognized or (query.intent == "combination" and len(recognized) < 2):
        return Verdict.INSUFFICIENT_DATA
    if result.interactions or result.duplicates:
        return Verdict.CAUTION
    return Verdict.NO_KNOWN_INTERACTION


Cite = Callable[..., str]  # registers a citation (or finds the same one) and returns its "[n]" marker


class Composer(Protocol):
    name: str

    def compose(self, query: Query, result: CheckResult, evidence: Sequence[Evidence]) -> Answer: ...


_VERDICT: dict[Verdict, tuple[str, str]] = {
    Verdict.AVOID: (
        "结论：不建议同时使用，除非医生明确要求并在监测下使用。",
        "Verdict: avoid this combination unless a doctor has told you to take them together and is monitoring.",
    ),
    Verdict.CAUTION: (
        "结论：可能有相互作用，需要注意，请先咨询药师或医生。",
        "Verdict: use with caution — an interaction is known; check with a pharmacist or doctor first.",
    ),
    Verdict.NO_KNOWN_INTERACTION: (
        "结论：在我们的资料来源中没有找到这些药物之间的相互作用。这不等于一定安全。",
        "Verdict: no interaction between these drugs is known in our sources. That does not "
        "prove the combination is safe.",
    ),
    Verdict.INSUFFICIENT_DATA: ("结论：信息不足，无法判断。", "Verdict: not enough information to judge."),
    Verdict.INFO: ("以下是资料中的相关信息。", "Here is what our sources say."),
}
_T: dict[str, tuple[str, str]] = {
    "pharmacist": (
        "请在用药前向药师或医生确认；不要自行更改医生开具的剂量。",
        "Please confirm with a pharmacist or doctor before taking them; do not change a prescribed dose on your own.",
    ),
    "urgent": (
        "如果已经服用过量、误服，或出现呼吸困难、胸痛、昏迷、抽搐、严重出血等情况，请立即拨打120或前往急诊。",
        "If someone has taken too much, swallowed something by mistake, or has trouble breathing, chest pain, "
        "fainting, seizures or heavy bleeding, call emergency services (911/120) or go to an emergency "
        "department now.",
    ),
    "unknown": (
        "我们无法识别：{names}。因此不能判断它们是否有相互作用，请核对药名或把药盒拿给药师看。",
        "We do not recognise: {names}. We cannot say whether they interact; check the name, or show the "
        "package to a pharmacist.",
    ),
    "nothing": (
        "我们需要至少两种能识别的药物才能检查相互作用。请告诉我们具体的药名，或上传药盒/说明书照片。",
        "We need at least two drugs we recognise to check an interaction. Tell us the drug names, or upload a "
        "photo of the box or leaflet.",
    ),
    "duplicate_ingredient": (
        "{inputs} 含有相同成分（{what}），同时服用相当于加倍剂量。",
        "{inputs} contain the same ingredient ({what}); taking both doubles the dose.",
    ),
    "duplicate_class": (
        "{inputs} 属于同一类药物（{what}），一般不应同时使用。",
        "{inputs} are in the same drug class ({what}) and are usually not taken together.",
    ),
    "why": ("机制：", "Why: "),
    "todo": ("建议：", "What to do: "),
    "leaflet": ("您上传的说明书【{field}】写道：“{quote}”", 'Your document\'s {field} section says: "{quote}"'),
    "label": ("{title}：“{quote}”", '{title}: "{quote}"'),
    "corrected": ("（“{raw}”按“{fixed}”理解）", ' ("{raw}" read as "{fixed}")'),
}


_SOURCE_ZH = {
    "rxlens_curated": "RxLens整理的美国药品说明书规则",
    "drug_interaction_mcp": "drug-interaction-mcp规则库",
    "ddinter": "DDInter数据库",
    "ndfrt": "美国退伍军人事务部NDF-RT",
    "onc_high_priority": "美国ONC高优先级相互作用清单",
    "onc_non_interruptive": "美国ONC低优先级相互作用清单",
}


# Field names are English snake_case; a Chinese answer names the leaflet's own 【section】.
_FIELD_ZH = {
    "drug_name": "药品名称",
    "generic_name": "通用名称",
    "english_name": "英文名称",
    "ingredients": "成份",
    "description": "性状",
    "indications": "适应症",
    "strength": "规格",
    "dosage": "用法用量",
    "adverse_reactions": "不良反应",
    "contraindications": "禁忌",
    "precautions": "注意事项",
    "interactions": "药物相互作用",
    "drug_interactions": "药物相互作用",
    "storage": "贮藏",
    "approval_number": "批准文号",
    "manufacturer": "生产企业",
    "warnings": "警告",
}


def _t(key: str, zh: bool) -> str:
    return _T[key][0] if zh else _T[key][1]


class TemplateComposer:
    """The deterministic, bilingual composer."""

    name = "template"

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def _entity(self, entity: str, zh: bool) -> str:
        if entity in self.lexicon.kb.class_names:
            return self.lexicon.class_name(entity, "zh" if zh else "en")
        return self.lexicon.display_name(entity, "zh" if zh else "en")

    def compose(self, query: Query, result: CheckResult, evidence: Sequence[Evidence]) -> Answer:
        zh = query.language == "zh"
        verdict = decide_verdict(query, result)
        citations: list[Citation] = []
        lines: list[str] = []

        def cite(**kwargs: object) -> str:
            key = (kwargs.get("kind"), kwargs.get("record"), kwargs.get("text"))
            for c in citations:
                if (c.kind, c.record, c.text) == key:
                    return f"[{c.id}]"
            citations.append(Citation(id=len(citations) + 1, **kwargs))  # type: ignore[arg-type]
            return f"[{citations[-1].id}]"

        if query.urgent:
            lines.append(_t("urgent", zh))
        findings = result.interactions[:MAX_FINDINGS]
        head = _VERDICT[verdict][0 if zh else 1]
        if findings and verdict in (Verdict.AVOID, Verdict.CAUTION):
            head += " " + self._cite_interaction(findings[0], cite)
        elif verdict is Verdict.NO_KNOWN_INTERACTION:
            head += " " + cite(
                kind="knowledge_base",
                source="RxLens knowledge base",
                text=self._sources_checked(result),
                record="sources checked",
            )
        lines.append(head)
        for m in result.mentions:
            if m.corrected_from:
                fixed = m.matched
                lines.append(_t("corrected", zh).format(raw=m.corrected_from, fixed=fixed).strip())
        for inter in findings:
            lines += self._finding_lines(inter, zh, cite, evidence)
        for d in result.duplicates:
            key = "duplicate_ingredient" if d.kind == "ingredient" else "duplicate_class"
            sep = "、" if zh else " and "
            lines.append(_t(key, zh).format(inputs=sep.join(d.inputs), what=self._entity(d.what, zh)))
        if result.unrecognized:
            lines.append(_t("unknown", zh).format(names=("、" if zh else ", ").join(result.unrecognized)))
        elif verdict is Verdict.INSUFFICIENT_DATA:
            lines.append(_t("nothing", zh))
        if verdict is Verdict.INFO:
            for ev in list(evidence)[:3]:
                lines.append(self._quote(ev, zh, cite))
        lines.append(_t("pharmacist", zh))
        return Answer(
            answer="\n".join(lines),
            verdict=verdict,
            language=query.language,
            intent=query.intent,
            mentions=result.mentions,
            findings=list(result.interactions),
            duplicates=list(result.duplicates),
            unrecognized=result.unrecognized,
            citations=citations,
            urgent=query.urgent,
            composer=self.name,
        )

    # ---- pieces ------------------------------------------------------------------------------------

    def _cite_interaction(self, inter: Interaction, cite: Cite) -> str:
        sources = "; ".join(f"{s.name} {s.record} ({s.severity})" for s in inter.sources[:4])
        text = " ".join(t for t in (inter.summary, inter.mechanism, inter.management) if t)
        return cite(
            kind="interaction",
            source=", ".join(dict.fromkeys(s.name for s in inter.sources)),
            text=text,
            license="; ".join(dict.fromkeys(s.license for s in inter.sources)),
            record=sources,
        )

    def _finding_lines(self, inter: Interaction, zh: bool, cite: Cite, evidence: Sequence[Evidence]) -> list[str]:
        a, b = self._entity(inter.a, zh), self._entity(inter.b, zh)
        sev = inter.severity.label_zh if zh else inter.severity.value
        via = ""
        if inter.via_class and inter.via_class in self.lexicon.kb.class_names and inter.via_class != inter.b:
            via = (
                f"（属于{self._entity(inter.via_class, zh)}）"
                if zh
                else f" (a kind of {self._entity(inter.via_class, zh)})"
            )
        n = self._cite_interaction(inter, cite)
        summary_zh, management_zh = self.lexicon.kb.interaction_zh(inter.interaction_id) if zh else ("", "")
        summary = summary_zh or inter.summary
        if zh and not summary_zh:  # the source's text is English only: say the finding in Chinese, then quote it
            names = "、".join(dict.fromkeys(_SOURCE_ZH.get(src.name, src.name) for src in inter.sources))
            summary = f"{a}与{b}合用可能发生{sev}相互作用（资料来源：{names}）。英文原文：{inter.summary}"
        sep = "：" if zh else ": "
        lines = [f"• {a} + {b}{via}{sep}{sev}{'。' if zh else '. '}{summary} {n}"]
        # Our sources explain most pairs in English only: a Chinese answer says so rather than pass it off.
        original = "（英文原文）" if zh else ""
        if inter.mechanism:
            mark = original if not has_cjk(inter.mechanism) else ""
            lines.append(f"  {_t('why', zh)}{mark}{inter.mechanism} {n}")
        management = management_zh or inter.management
        if management:
            mark = original if not has_cjk(management) else ""
            lines.append(f"  {_t('todo', zh)}{mark}{management} {n}")
        support = _supporting(inter, evidence)
        if support is not None:
            lines.append("  " + self._quote(support, zh, cite))
        return lines

    def _quote(self, ev: Evidence, zh: bool, cite: Cite) -> str:
        quote = quoted(ev.text)
        if ev.document_id:
            key, field = "leaflet", ev.field or ""
            n = cite(
                kind="document",
                source="uploaded document",
                text=ev.text,
                document_id=ev.document_id,
                field=ev.field,
                bbox=ev.bbox,
            )
        else:
            key, field = "label", ""
            n = cite(kind="passage", source=ev.source, text=ev.text, license=ev.license, record=ev.record)
        label = _FIELD_ZH.get(field, field) if zh else field.replace("_", " ")
        return _t(key, zh).format(field=label, quote=quote, title=ev.title or ev.source) + f" {n}"

    def _sources_checked(self, result: CheckResult) -> str:
        names = sorted(self.lexicon.kb.sources)
        drugs = ", ".join(i for m in result.mentions for i in (m.ingredients or m.class_ids))
        return f"Checked {drugs} against: {', '.join(names)}. No record of an interaction was found."


def _supporting(inter: Interaction, evidence: Sequence[Evidence]) -> Evidence | None:
    """The best retrieved passage about both sides of a finding; the user's own document first."""
    sides = {f"drug:{inter.a}", f"drug:{inter.b}", f"class:{inter.b}", f"class:{inter.a}"}
    for want_document in (True, False):
        for ev in evidence:
            if bool(ev.document_id) != want_document:
                continue
            hits = sides & set(ev.refs)
            if len(hits) >= 2 or (want_document and hits):
                return ev
    return None
