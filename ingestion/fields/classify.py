"""Document type from the words on the page: leaflet, prescription, package, label or other.

Keyword evidence, not a model: each type has cue phrases that rarely appear in the others (【适应症】 and
"INDICATIONS AND USAGE" in leaflets, 处方笺 / 临床诊断 / Rp in prescriptions, 国药准字 and 规格 on boxes,
Rx# / REFILLS / QTY on pharmacy labels). The highest score wins; nothing scoring means "other".
"""

from __future__ import annotations

import re

_CUES: dict[str, tuple[tuple[str, float], ...]] = {
    "leaflet": (
        (r"[【\[［]\s*(适应症|用法用量|不良反应|禁忌|注意事项|药物相互作用|成份|成分|贮藏|规格|性状)", 1.0),
        (r"说明书", 1.5),
        (
            r"INDICATIONS AND USAGE|DOSAGE AND ADMINISTRATION|ADVERSE REACTIONS|DRUG INTERACTIONS|CONTRAINDICATIONS",
            1.2,
        ),
        (r"WARNINGS AND PRECAUTIONS", 1.0),
    ),
    "prescription": (
        (r"处方笺|处方", 3.0),
        (r"临床诊断|诊断[:：]", 2.0),
        (r"^\s*R\s*p\b|\bRp\b", 1.5),
        (r"姓名[:：]|性别[:：]|年龄[:：]|科别[:：]", 1.0),
        (r"医师[:：]|医生[:：]", 1.0),
    ),
    "package": (
        (r"国药准字", 2.0),
        (r"规格[:：]", 1.5),
        (r"\d+\s*[片粒袋支]\s*/\s*[盒瓶]|\d+\s*粒胶囊|\d+\s*片[/／]?[盒板]", 2.0),
        (r"处方药|OTC", 0.5),
    ),
    "label": (
        (r"\bRx\s*#|\bRX\s*#", 3.0),
        (r"\bREFILLS?\b|\bQTY\b", 2.0),
        (r"PHARMACY", 1.5),
        (r"\bTAKE\b.*\bBY MOUTH\b", 1.5),
        (r"PRESCRIBER|\bDR\.", 0.5),
    ),
}


def classify_scores(text: str) -> dict[str, float]:
    """Per-type evidence; each cue counts at most 4 times so long leaflets do not drown everything."""
    scores: dict[str, float] = {}
    for doc_type, cues in _CUES.items():
        total = 0.0
        for pattern, weight in cues:
            hits = len(re.findall(pattern, text, flags=re.MULTILINE))
            total += weight * min(hits, 4)
        scores[doc_type] = total
    # A box's back panel repeats leaflet words without the 【】 sections; many sections mean a leaflet.
    if scores["leaflet"] >= 5:
        scores["package"] *= 0.5
    return scores


def classify(text: str) -> str:
    scores = classify_scores(text)
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 2.0 else "other"
