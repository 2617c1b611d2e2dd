"""Readable `rxlens check` output for people: severity first, in the language of the input."""

from __future__ import annotations

from knowledge.lexicon import Lexicon
from knowledge.models import CheckResult, Interaction

_SEVERITY_MARK = {"contraindicated": "!!!", "major": "!!", "moderate": "!", "minor": "-", "unknown": "?"}


def _name(lexicon: Lexicon, entity: str, zh: bool) -> str:
    if entity in lexicon.kb.class_names:
        en, cn = lexicon.kb.class_names[entity]
        return f"{cn}（{en}）" if zh else en
    if zh:
        name_zh = lexicon.display_name(entity, "zh")
        return f"{name_zh}（{entity}）" if name_zh != entity else entity
    return entity


def _interaction_lines(lexicon: Lexicon, i: Interaction, zh: bool) -> list[str]:
    sev = i.severity
    head = f"[{_SEVERITY_MARK[sev.value]}] {sev.label_zh if zh else sev.value.upper()}: "
    head += f"{_name(lexicon, i.a, zh)} + {_name(lexicon, i.b, zh)}"
    if i.via_class and i.via_class in lexicon.kb.class_names:
        head += f"  ({'属于' if zh else 'via'} {_name(lexicon, i.via_class, zh)})"
    lines = [head]
    summary_zh, management_zh = lexicon.kb.interaction_zh(i.interaction_id) if zh else ("", "")
    lines.append(f"    {'说明' if zh else 'What'}: {summary_zh or i.summary}")
    if i.mechanism:
        lines.append(f"    {'机制' if zh else 'Why'}: {i.mechanism}")
    management = management_zh or i.management
    if management:
        lines.append(f"    {'建议' if zh else 'What to do'}: {management}")
    cites = "; ".join(f"{s.name} {s.record} [{s.license}]" for s in i.sources[:5])
    more = f" (+{len(i.sources) - 5})" if len(i.sources) > 5 else ""
    lines.append(f"    {'来源' if zh else 'Sources'}: {cites}{more}")
    return lines


def render(result: CheckResult, lexicon: Lexicon, zh: bool) -> str:
    lines: list[str] = []
    for m in result.mentions:
        if m.recognized:
            what = ", ".join(m.ingredients) if m.ingredients else ", ".join(_name(lexicon, c, zh) for c in m.class_ids)
            note = ""
            if m.corrected_from:
                fixed, to = ("已从", "纠正为") if zh else ("corrected from", "to")
                note = f"  ({fixed} “{m.corrected_from}” {to} {m.matched})"
            lines.append(f"{m.text} -> {what}{note}")
    if result.interactions:
        lines.append("")
        for i in result.interactions:
            lines += _interaction_lines(lexicon, i, zh)
    for d in result.duplicates:
        what = _name(lexicon, d.what, zh)
        lines.append(
            f"[!] {'重复用药' if zh else 'DUPLICATE THERAPY'}: {' + '.join(d.inputs)} "
            f"{'都含有' if zh else 'both contain'} {what}"
        )
    if result.unrecognized:
        names = "、".join(result.unrecognized) if zh else ", ".join(result.unrecognized)
        lines.append(
            f"[?] {'无法识别' if zh else 'NOT RECOGNISED'}: {names}. "
            + (
                "我们无法识别这些药名，因此不能判断它们是否有相互作用。请核对拼写，或把药盒拿给药师确认。"
                if zh
                else "We do not recognise these names, so we cannot say whether they interact. Check the spelling, "
                "or show the package to a pharmacist."
            )
        )
    elif not result.interactions and result.mentions:
        lines.append(
            "在我们的资料来源中没有找到这些药物之间的相互作用。这不等于一定安全：请向药师或医生确认。"
            if zh
            else "No interaction between these drugs is known in our sources. That does not prove the combination is "
            "safe: ask a pharmacist or doctor."
        )
    return "\n".join(lines)
