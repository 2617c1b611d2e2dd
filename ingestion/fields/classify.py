"""Document type from the words on the page: leaflet, prescription, package, label or other.

Keyword evidence, not a model: each type has cue phrases that rarely appear in the others (【适应症】 and
"INDICATIONS AND USAGE" in leaflets, 处方笺 / 临床诊断 / Rp in prescriptions, 国药准字, 规格, 产品批号 and 详见说明书
on boxes, Rx# / REFILLS / QTY on pharmacy labels). The highest score wins; nothing scoring means "other".
"""

from __future__ import annotations

import re

# What only a drug's own packaging prints (药品说明书和标签管理规定, 2006: a box lists 产品批号, 生产日期 and
# 有效期至, and sends the reader to the leaflet with "详见说明书" for what it cannot hold; a prescription drug's box
# must say "凭医师处方销售、购买和使用"). None of it is on a prescription slip or in a leaflet's sections.
_BOX_ONLY = r"详见说明书|产品批号|生产批号|批\s*号\s*[:：]|生产日期|有效期至|凭医师处方"

_CUES: dict[str, tuple[tuple[str, float], ...]] = {
    "leaflet": (
        (r"[【\[［]\s*(适应症|用法用量|不良反应|禁忌|注意事项|药物相互作用|成份|成分|贮藏|规格|性状)", 1.0),
        # "XX片说明书" heads a leaflet; a box's "详见说明书" / "请仔细阅读说明书" only points at one.
        (r"(?<!详见)(?<!阅读)说明书", 1.5),
        (
            r"INDICATIONS AND USAGE|DOSAGE AND ADMINISTRATION|ADVERSE REACTIONS|DRUG INTERACTIONS|CONTRAINDICATIONS",
            1.2,
        ),
        (r"WARNINGS AND PRECAUTIONS", 1.0),
    ),
    "prescription": (
        # The slip's own title: 处方笺, or 处方 alone on its line (普通处方, 急诊处方 ...), or its number. Not the
        # 处方药 / 非处方药 / 凭医师处方 every drug box prints: that made boxes prescriptions.
        (r"处方笺|^\s*(?:普通|急诊|儿科|门诊|麻醉药品|精神药品|精[一二])?\s*处\s*方\s*$|处方(?:编号|号)\s*[:：]", 3.0),
        (r"临床诊断|诊断[:：]", 2.0),
        (r"^\s*R\s*p\b|\bRp\b", 1.5),
        (r"姓名[:：]|性别[:：]|年龄[:：]|科别[:：]", 1.0),
        (r"医师[:：]|医生[:：]", 1.0),
        (r"药品名称\s*规格\s*(?:数量|用法)", 1.5),  # the medication table's header row
        (r"(?:医院|卫生院|诊所|卫生服务中心)\s*$|金额\s*[:：]", 1.0),
        # An English prescription pad: "Rx" alone on its line (a pharmacy label prints "Rx# 1234"), "Sig:" lines.
        (r"^\s*R\s*[xX]\s*$", 2.0),
        (r"^\s*[a-z]?Sig\b", 1.0),
    ),
    "package": (
        (r"国药准字", 2.0),
        (r"规格[:：]", 1.5),
        (r"\d+\s*[片粒袋支]\s*/\s*[盒瓶]|\d+\s*粒胶囊|\d+\s*片[/／]?[盒板]", 2.0),
        (r"\d+(?:\.\d+)?\s*(?:mg|g|μg|ml)\s*[×xX*]\s*\d+\s*[片粒袋支]", 2.0),  # 0.3g×24粒
        (_BOX_ONLY, 2.0),
        (r"处方药|OTC", 2.0),  # 处方药 / 非处方药 / OTC: the category mark on a box front
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
    # A box's back panel repeats leaflet words; many 【sections】 mean a leaflet unless the box-only words are there.
    if scores["leaflet"] >= 5 and not re.search(_BOX_ONLY, text):
        scores["package"] *= 0.5
    return scores


def classify(text: str) -> str:
    scores = classify_scores(text)
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 2.0 else "other"
