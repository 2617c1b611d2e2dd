"""Composers put an assessment into words. The template composer is the default and the reference: deterministic
bilingual templates, the asked pair's verdict in the first sentence, every statement followed by its citation [n].

A composer decides nothing: the verdict, the asked pairs and what counts as evidence come from
`app.assessment`. Text inside a user's document is only ever quoted as evidence, never obeyed. A Chinese answer is
Chinese throughout: English source text appears only inside a citation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from app.answer import Answer, Citation, Evidence, Verdict, quoted
from app.assessment import AssessedDrug, Assessment, DocumentStatement, PairAssessment
from knowledge.lexicon import Lexicon
from knowledge.models import Interaction, Severity
from knowledge.normalize import has_cjk

MAX_ASKED_FINDINGS = 4  # bullets under the headline; a class question ("降压药") has one per sub-class
MAX_OTHER_FINDINGS = 3
WHY_CHARS = 90  # the headline's "why" is one line

Cite = Callable[..., str]  # registers a citation (or finds the same one) and returns its "[n]" marker


class Composer(Protocol):
    name: str

    def compose(self, assessment: Assessment, evidence: Sequence[Evidence]) -> Answer: ...


# The verdict in the headline, after "A和B：" / "A and B: ".
_VERDICT: dict[Verdict, tuple[str, str]] = {
    Verdict.AVOID: ("不建议同时使用", "avoid taking them together"),
    Verdict.CAUTION: ("可能有相互作用，合用需要注意", "use with caution, an interaction is known"),
    Verdict.NO_KNOWN_INTERACTION: (
        "在我们的资料来源中没有找到两者之间的相互作用，但这不等于一定安全",
        "no interaction between them is known in our sources, which does not prove the combination is safe",
    ),
    Verdict.INSUFFICIENT_DATA: ("信息不足，无法判断", "not enough information to judge"),
}
# The verdict where only a database's bare minor or ungraded line exists.
_VERDICT_NO_SIGNIFICANT = (
    "在我们的资料来源中没有找到两者之间有临床意义的相互作用，但这不等于一定安全",
    "no clinically significant interaction between them is known in our sources, which does not prove the "
    "combination is safe",
)
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
    "why_unknown": (
        "我们不认识“{names}”，请核对药名或把药盒拿给药师看",
        'we do not recognise "{names}"; check the name or show the box to a pharmacist',
    ),
    "no_document": (
        "您问的是“这个药”，但这次提问没有附上照片或文件。请重新上传说明书、药盒或处方的照片，或者直接输入药名",
        'you asked about "this", but no photo or document came with the question. Attach a photo of the leaflet, '
        "box or prescription, or type the medicine's name",
    ),
    "why_no_data": ("我们的资料来源没有{names}的相互作用数据", "our sources hold no interaction data for {names}"),
    "why_combined": (
        "两者常制成一片复方药一起服用（如 {product}），其说明书即批准两者同服；"
        "我们的资料来源记录的提示（{source}）见下；请咨询药师，并注意不要与含相同成分的药重复服用",
        "they are sold together in one tablet ({product}), a combination its own label approves; what our sources "
        "note about them ({source}) is below; ask a pharmacist, and do not take them on top of a product holding "
        "the same ingredients",
    ),
    "why_minor_only": (
        "我们的资料来源仅列有{severity}的相互作用记录（{source}），本身不足以需要特别注意；请咨询药师",
        "our sources list only {severity} interaction record ({source}), no reason for caution by itself; "
        "ask a pharmacist",
    ),
    "why_record": (
        "我们的资料来源记录了两者之间的{severity}相互作用",
        "our sources record a {severity} interaction between them",
    ),
    "why_class": (
        "{a}与{group}（如{members}）合用有{severity}相互作用记录",
        "{a} has a {severity} interaction with {group} (such as {members})",
    ),
    "why_document_avoid": ("您的说明书写明两者不宜合用", "your own document advises against taking them together"),
    "why_document_caution": ("您的说明书提到两者合用会相互影响", "your own document says they affect each other"),
    "duplicate_ingredient": (
        "两者含有相同成分（{what}），同时服用相当于加倍剂量",
        "both contain {what}; taking both doubles the dose",
    ),
    "duplicate_class": (
        "两者属于同一类药物（{what}），一般不应同时使用",
        "both are {what} and are usually not taken together",
    ),
    "todo_avoid": ("请先咨询医生或药师，不要自行合用", "ask a doctor or pharmacist before taking them together"),
    "todo_caution": (
        "合用前请咨询药师，按医嘱监测",
        "check with a pharmacist first and follow their advice on monitoring",
    ),
    "todo_unknown": ("请咨询药师", "ask a pharmacist"),
    "nothing": (
        "我们需要至少两种能识别的药物才能检查相互作用。请告诉我们具体的药名，或上传药盒/说明书照片。",
        "We need at least two drugs we recognise to check an interaction. Tell us the drug names, or upload a "
        "photo of the box or leaflet.",
    ),
    "document_says": ("您的{doc}【{field}】写道：“{quote}”", 'Your {doc}\'s {field} section says: "{quote}"'),
    "others": ("另外，您的药物之间还有：{items}。", "Also among your medicines: {items}."),
    "corrected": ("（“{raw}”按“{fixed}”理解）", '("{raw}" was read as "{fixed}")'),
    "topic_found": ("关于{drug}的{topic}，{where}写道：", "On {drug}'s {topic}, {where} says:"),
    "topic_missing": (
        "我们的资料来源中没有{drug}的{topic}信息，无法回答。请查看药品说明书，或咨询药师。",
        "Our sources hold no {topic} information for {drug}, so we cannot answer this. Check the package leaflet "
        "or ask a pharmacist.",
    ),
    "topic_no_drug": (
        "请告诉我们是哪种药（药名），或上传药盒/说明书照片，我们再查它的{topic}。",
        "Tell us which medicine (its name), or upload a photo of the box or leaflet, and we will look up its {topic}.",
    ),
    "where_document": ("您的说明书", "your document"),
    "where_label": ("药品说明书（{source}）", "its label ({source})"),
    "mechanism": ("机制：", "Why: "),
    "management": ("建议：", "What to do: "),
}
_TOPIC_NAMES = {
    "dosage": ("用法用量", "dose"),
    "how_to_take": ("服用方法", "how to take it"),
    "side_effects": ("不良反应", "side effects"),
    "contraindication": ("禁忌", "contraindications"),
    "pregnancy": ("孕期和哺乳期用药", "use in pregnancy and breastfeeding"),
    "overdose": ("过量与解救", "overdose and antidote"),
    "storage": ("贮藏方法", "storage"),
    "precautions": ("注意事项", "precautions"),
    "other": ("适应症", "uses"),
}
# Sources as people know them (the raw id stays in the citation's record).
_SOURCE_NAMES = {
    "rxlens_curated": ("美国药品说明书", "US drug label"),
    "drug_interaction_mcp": ("美国药品说明书规则库", "FDA label rules"),
    "ansm": ("法国药监局相互作用目录", "French ANSM thesaurus"),
    "ddinter": ("DDInter数据库", "DDInter"),
    "ndfrt": ("美国退伍军人事务部NDF-RT", "VA NDF-RT"),
    "onc_high_priority": ("美国ONC高优先级清单", "ONC high-priority list"),
    "onc_non_interruptive": ("美国ONC低优先级清单", "ONC low-priority list"),
    "dailymed": ("美国药品说明书（DailyMed）", "US drug label (DailyMed)"),
    "openfda_excerpts": ("美国药品说明书（openFDA）", "US drug label (openFDA)"),
    "openfda_fixtures": ("美国药品说明书（openFDA）", "US drug label (openFDA)"),
    "cmekg": ("中文药品说明书（CMeKG）", "Chinese drug leaflet (CMeKG)"),
}
_MINOR_EN = {"minor": "a minor", "unknown": "an ungraded"}
# How each kind of source is named beside a finding (its evidence level), in the user's words.
_EVIDENCE = {
    "label": ("药品说明书", "drug label"),
    "regulator_thesaurus": ("法国药监局相互作用目录", "French ANSM thesaurus"),
    "consensus": ("专家共识清单", "consensus list"),
    "literature": ("文献", "literature"),
    "database": ("数据库", "database"),
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


# French source text (ANSM's thesaurus) is quoted in its citation, never in an English or Chinese answer's body.
_FRENCH = re.compile(r"[éèêàçùâîôû]|\b(?:les|des|avec|chez|une|du|et|la|le)\b", re.I)


def _english(text: str) -> bool:
    return bool(text) and not has_cjk(text) and len(_FRENCH.findall(text)) < 2


def _first_sentence(text: str, limit: int = WHY_CHARS) -> str:
    for stop in ("。", "；", ". ", "; "):
        if stop in text:
            text = text.split(stop)[0]
    text = text.strip().rstrip("。.")
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


class TemplateComposer:
    """The deterministic, bilingual composer."""

    name = "template"

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def _entity(self, entity: str, zh: bool) -> str:
        if entity in self.lexicon.kb.class_names:
            return self.lexicon.class_name(entity, "zh" if zh else "en")
        return self.lexicon.display_name(entity, "zh" if zh else "en")

    def compose(self, assessment: Assessment, evidence: Sequence[Evidence]) -> Answer:
        query = assessment.query
        zh = query.language == "zh"
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
        if query.missing_document:
            verdict = _VERDICT[Verdict.INSUFFICIENT_DATA][0 if zh else 1]
            lines.append(f"{verdict}{'——' if zh else ': '}{_t('no_document', zh)}")
        elif query.is_combination:
            lines += self._combination(assessment, evidence, zh, cite)
        else:
            lines += self._topic(assessment, evidence, zh, cite)
        for d in assessment.drugs:
            m = d.mention
            if m.corrected_from and m.matched:
                lines.append(_t("corrected", zh).format(raw=m.corrected_from, fixed=m.matched))
        lines.append(_t("pharmacist", zh))
        findings = assessment.findings
        return Answer(
            answer="\n".join(lines),
            verdict=assessment.verdict,
            language=query.language,
            intent=query.intent,
            mentions=[d.mention for d in assessment.drugs],
            findings=findings,
            duplicates=[d for p in assessment.asked for d in p.duplicates] + assessment.other_duplicates,
            unrecognized=[d.text for d in assessment.unrecognized],
            citations=citations,
            urgent=query.urgent,
            composer=self.name,
            asked=assessment.asked,
            topic=assessment.topic,
            asked_findings=len(findings) - len([f for f in assessment.other_findings if f in findings]),
        )

    # ---- a combination question ------------------------------------------------------------------------

    def _combination(self, assessment: Assessment, evidence: Sequence[Evidence], zh: bool, cite: Cite) -> list[str]:
        asked = assessment.asked
        lines: list[str] = []
        if not asked:
            lines = [f"{_VERDICT[Verdict.INSUFFICIENT_DATA][0 if zh else 1]}{'。' if zh else '.'}"]
            if assessment.unrecognized:
                names = ("、" if zh else ", ").join(d.text for d in assessment.unrecognized)
                lines[0] = (
                    lines[0].rstrip("。.")
                    + ("——" if zh else ": ")
                    + _t("why_unknown", zh).format(names=names)
                    + ("。" if zh else ".")
                )
            lines.append(_t("nothing", zh))
            return lines
        shown = 0
        for pair in asked:
            lines.append(self._headline(pair, zh, cite))
            room = (
                MAX_ASKED_FINDINGS - shown
                if len(asked) == 1
                else (1 if pair.findings and len(pair.findings) > 1 else 0)
            )
            listed = pair.verdict is not Verdict.NO_KNOWN_INTERACTION  # bare minor lines are in the headline
            if listed and (len(pair.findings) > 1 or (pair.findings and len(asked) == 1)):
                for inter in pair.findings[: max(room, 0)]:
                    lines.append(self._bullet(inter, zh, cite, detail=shown == 0 and len(asked) == 1))
                    shown += 1
                if len(pair.findings) > max(room, 0) and len(asked) == 1:
                    more = len(pair.findings) - max(room, 0)
                    lines.append(f"  （另有{more}组，见引用）" if zh else f"  ({more} more groups in the citations)")
                    for inter in pair.findings[max(room, 0) :]:
                        self._cite_interaction(inter, cite)
        statements = [s for p in asked for s in p.statements]
        if statements:  # the user's own sentence, quoted once
            lines.append(self._document_says(statements[0], assessment, zh, cite))
        else:
            support = _supporting(asked[0], evidence)
            # A Chinese answer quotes no English: an English label passage would only be a title and a number.
            if support is not None and (has_cjk(support.text) or not zh):
                lines.append(self._quote(support, zh, cite))
        lines += self._others(assessment, zh, cite)
        return lines

    def _others(self, assessment: Assessment, zh: bool, cite: Cite) -> list[str]:
        """The findings among the user's own medicines that were not asked about: one short line."""
        items = []
        for f in assessment.other_findings[:MAX_OTHER_FINDINGS]:
            severity = f"（{f.severity.label_zh}）" if zh else f" ({f.severity.value})"
            items.append(
                f"{self._entity(f.a, zh)} + {self._entity(f.b, zh)}{severity}{self._cite_interaction(f, cite)}"
            )
        return [_t("others", zh).format(items=("；" if zh else "; ").join(items))] if items else []

    @staticmethod
    def _source_name(name: str, zh: bool) -> str:
        return _SOURCE_NAMES.get(name, (name, name))[0 if zh else 1]

    def _user_words(self, drug: AssessedDrug, zh: bool) -> str:
        """A drug as the user wrote it (the question's or the document's word), in the answer's language when
        the user's word is in the other one."""
        m = drug.mention
        if not m.recognized or has_cjk(m.text) == zh:
            return m.text
        if m.is_class:
            return self.lexicon.class_name(m.class_ids[0], "zh" if zh else "en")
        return (
            "、".join(self._entity(i, zh) for i in m.ingredients)
            if zh
            else " + ".join(self._entity(i, zh) for i in m.ingredients)
        )

    def _headline(self, pair: PairAssessment, zh: bool, cite: Cite) -> str:
        """One sentence: the two drugs in the user's words, the verdict, one line of why, what to do."""
        a, b = self._user_words(pair.a, zh), self._user_words(pair.b, zh)
        both = f"{a}和{b}" if zh else f"{a[:1].upper() + a[1:]} and {b}"
        verdict = _VERDICT[pair.verdict][0 if zh else 1]
        sep = "——" if zh else ": "
        marker = ""
        if pair.coverage == "unrecognized":
            why = _t("why_unknown", zh).format(names=("、" if zh else ", ").join(d.text for d in pair.missing))
        elif pair.coverage == "no_interaction_data":
            names = ("、" if zh else ", ").join(self._user_words(d, zh) for d in pair.missing)
            why = _t("why_no_data", zh).format(names=names) + ("，" if zh else "; ") + _t("todo_unknown", zh)
        elif pair.verdict is Verdict.NO_KNOWN_INTERACTION and pair.findings:  # minor or passive lines only
            inter = pair.findings[0]
            listing = ("、" if zh else ", ").join(dict.fromkeys(self._source_name(s.name, zh) for s in inter.sources))
            severity = inter.severity.label_zh if zh else _MINOR_EN.get(inter.severity.value, inter.severity.value)
            if inter.combined_in:
                product = inter.combined_in if has_cjk(inter.combined_in) else inter.combined_in.title()
                why = _t("why_combined", zh).format(product=product, source=listing)
            else:
                why = _t("why_minor_only", zh).format(source=listing, severity=severity)
            marker = " " + self._cite_interaction(inter, cite)
            verdict = _VERDICT_NO_SIGNIFICANT[0 if zh else 1]
        elif pair.verdict is Verdict.NO_KNOWN_INTERACTION:
            sources = ", ".join(sorted(self.lexicon.kb.sources))
            marker = " " + cite(
                kind="knowledge_base",
                source="RxLens knowledge base",
                text=f"Checked {a} and {b} against: {sources}. No record of an interaction was found.",
                record="sources checked",
            )
            why = _t("todo_unknown", zh)
        else:
            why = self._why(pair, zh)
            todo = _t("todo_avoid" if pair.verdict is Verdict.AVOID else "todo_caution", zh)
            why = f"{why}{'，' if zh else '; '}{todo}"
            if pair.findings:
                marker = " " + self._cite_interaction(pair.findings[0], cite)
            elif pair.statements:
                marker = " " + self._cite_statement(pair.statements[0], cite)
        end = "。" if zh else "."
        return f"{both}：{verdict}{sep}{why}{end}{marker}" if zh else f"{both}: {verdict}{sep}{why}{end}{marker}"

    def _why(self, pair: PairAssessment, zh: bool) -> str:
        dupes = [d for d in pair.duplicates if d.kind == "ingredient"] or pair.duplicates
        # A shared ingredient is the reason unless a finding of moderate or worse is (a minor line never is).
        if dupes and (not pair.findings or pair.findings[0].severity.rank < Severity.MODERATE.rank):
            d = dupes[0]
            key = "duplicate_ingredient" if d.kind == "ingredient" else "duplicate_class"
            return _t(key, zh).format(what=self._entity(d.what, zh))
        worst = pair.severity
        if pair.statements and (worst is None or (pair.verdict is Verdict.AVOID and worst.rank < Severity.MAJOR.rank)):
            return _t(f"why_document_{pair.statements[0].level.value}", zh)
        inter = pair.findings[0]
        severity = inter.severity.label_zh if zh else inter.severity.value
        summary_zh = self.lexicon.kb.interaction_zh(inter.interaction_id)[0] if zh else ""
        if inter.members and inter.b in self.lexicon.kb.class_names:
            members = ("、" if zh else ", ").join(self._entity(m, zh) for m in inter.members[:2])
            return _t("why_class", zh).format(
                a=self._entity(inter.a, zh), group=self._entity(inter.b, zh), members=members, severity=severity
            )
        if zh and summary_zh:
            return _first_sentence(summary_zh)
        if (
            not zh
            and _english(inter.summary)
            and not inter.summary.startswith(("DDInter lists", "On the ONC", "France's ANSM"))
        ):
            return _first_sentence(inter.summary)
        return _t("why_record", zh).format(severity=severity)

    def _bullet(self, inter: Interaction, zh: bool, cite: Cite, detail: bool) -> str:
        a, b = self._entity(inter.a, zh), self._entity(inter.b, zh)
        n = self._cite_interaction(inter, cite)
        kinds = [inter.evidence, *(k for k in inter.agreeing if k != inter.evidence)]
        basis = ("、" if zh else ", ").join(_EVIDENCE[k][0 if zh else 1] for k in kinds if k in _EVIDENCE)
        if zh:
            text = f"• {a} + {b}：{inter.severity.label_zh}（依据：{basis}）"
            summary_zh, management_zh = self.lexicon.kb.interaction_zh(inter.interaction_id)
            if inter.members:
                text += "（如" + "、".join(self._entity(m, zh) for m in inter.members[:3]) + "）"
            elif summary_zh and detail:
                text += "。" + _first_sentence(summary_zh, 120)
            if detail and management_zh:
                text += "。" + _t("management", zh) + _first_sentence(management_zh, 120)
            return f"{text}。{n}"
        text = f"• {a} + {b}: {inter.severity.value} (evidence: {basis})"
        if inter.members:
            text += " (such as " + ", ".join(self._entity(m, zh) for m in inter.members[:3]) + ")"
        if detail:
            if _english(inter.mechanism) and not inter.members:
                text += ". " + _t("mechanism", zh) + _first_sentence(inter.mechanism, 160)
            if _english(inter.management):
                text += ". " + _t("management", zh) + _first_sentence(inter.management, 160)
        return f"{text}. {n}"

    def _document_says(self, statement: DocumentStatement, assessment: Assessment, zh: bool, cite: Cite) -> str:
        ev = statement.evidence
        field = ev.field or ""
        label = _FIELD_ZH.get(field, field) if zh else field.replace("_", " ")
        doc = "说明书" if zh else "document"
        return (
            _t("document_says", zh).format(doc=doc, field=label, quote=quoted(ev.text))
            + " "
            + self._cite_statement(statement, cite)
        )

    @staticmethod
    def _cite_statement(statement: DocumentStatement, cite: Cite) -> str:
        ev = statement.evidence
        return cite(
            kind="document",
            source="uploaded document",
            text=ev.text,
            document_id=ev.document_id,
            field=ev.field,
            bbox=ev.bbox,
        )

    @staticmethod
    def _cite_interaction(inter: Interaction, cite: Cite) -> str:
        sources = "; ".join(f"{s.name} {s.record} ({s.severity})" for s in inter.sources[:4])
        text = " ".join(t for t in (inter.summary, inter.mechanism, inter.management) if t)
        return cite(
            kind="interaction",
            source=", ".join(dict.fromkeys(s.name for s in inter.sources)),
            text=text,
            license="; ".join(dict.fromkeys(s.license for s in inter.sources)),
            record=sources,
        )

    # ---- a question about one drug -------------------------------------------------------------------

    def _topic(self, assessment: Assessment, evidence: Sequence[Evidence], zh: bool, cite: Cite) -> list[str]:
        topic = assessment.topic
        intent = topic.intent if topic else assessment.query.intent
        topic_name = _TOPIC_NAMES.get(intent, _TOPIC_NAMES["other"])[0 if zh else 1]
        lines: list[str] = []
        if topic is None or topic.drug is None:
            if intent == "other" and evidence:
                lines += [self._quote(ev, zh, cite) for ev in list(evidence)[:2]]
            else:
                lines.append(_t("topic_no_drug", zh).format(topic=topic_name))
        else:
            drug = self._user_words(topic.drug, zh)
            if topic.found:
                first = topic.passages[0]
                if first.document_id:
                    where = _t("where_document", zh)
                else:
                    where = _t("where_label", zh).format(source=self._source_name(first.source, zh))
                lines.append(_t("topic_found", zh).format(drug=drug, topic=topic_name, where=where))
                lines += [self._quote(ev, zh, cite) for ev in topic.passages]
            else:
                lines.append(_t("topic_missing", zh).format(drug=drug, topic=topic_name))
        lines += self._others(assessment, zh, cite)
        return lines

    def _quote(self, ev: Evidence, zh: bool, cite: Cite) -> str:
        quote = quoted(ev.text)
        if ev.document_id:
            n = cite(
                kind="document",
                source="uploaded document",
                text=ev.text,
                document_id=ev.document_id,
                field=ev.field,
                bbox=ev.bbox,
            )
            field = ev.field or ""
            label = _FIELD_ZH.get(field, field) if zh else field.replace("_", " ")
            return (
                f"• 您的说明书【{label}】：“{quote}”" if zh else f'• Your document\'s {label} section: "{quote}"'
            ) + f" {n}"
        n = cite(kind="passage", source=ev.source, text=ev.text, license=ev.license, record=ev.record, field=ev.field)
        title = ev.title or ev.source
        if zh and not has_cjk(ev.text):  # a Chinese answer quotes no English: the text stays in the citation
            return f"• {title}（英文原文，见引用）{n}"
        return (f"• {title}：“{quote}”" if zh else f'• {title}: "{quote}"') + f" {n}"


def _supporting(pair: PairAssessment, evidence: Sequence[Evidence]) -> Evidence | None:
    """A retrieved passage about both drugs of the asked pair's first finding: one of the user's saved documents
    first, then a knowledge-base label passage (retrieval's best first)."""
    if not pair.findings:
        return None
    inter = pair.findings[0]
    sides = ({f"drug:{inter.a}", f"class:{inter.a}"}, {f"drug:{inter.b}", f"class:{inter.b}"})
    about = [ev for ev in evidence if all(side & set(ev.refs) for side in sides)]
    return next((ev for ev in about if ev.document_id), about[0] if about else None)
