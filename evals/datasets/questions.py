"""The question set: Chinese and English questions with the verdict a correct answer gives.

Built from the interaction gold set with templates in both languages (expected verdict from the label severity:
contraindicated/major -> avoid, moderate/minor -> caution, negatives -> no_known_interaction), from the
retrieval set's dose / contraindication / adverse-reaction questions (verdict `info`, with their gold passage
ids), and with a leaflet photo attached for some pairs (the question then names only the second drug; the first
comes from the photo). Written to evals/data/questions/questions.jsonl; the stress set is hand-written in
evals/data/stress/stress.jsonl and loaded with the same record type.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from evals.datasets.interactions import Pair

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "evals" / "data" / "questions" / "questions.jsonl"
STRESS = ROOT / "evals" / "data" / "stress" / "stress.jsonl"
_RETRIEVAL = ROOT / "evals" / "data" / "retrieval" / "questions.jsonl"

_EN = ("Can I take {a} with {b}?", "Is it safe to use {a} and {b} together?", "I'm on {a}. Can I also take {b}?")
_ZH = ("{a}和{b}能一起吃吗？", "{a}跟{b}一起用安全吗", "我在吃{a}，还能吃{b}吗？")
_IMAGE_EN = "Can I take this medicine with {b}?"
_IMAGE_ZH = "这个药能和{b}一起吃吗？"


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    expected: str  # avoid | caution | no_known_interaction | insufficient_data | info
    kind: str  # interaction | info | stress
    pair: str | None = None  # the interaction gold set's item id
    drugs: tuple[str, ...] = ()  # INNs the question is about
    severity: str | None = None
    gold: tuple[str, ...] = ()  # ids of knowledge-base passages that support the answer, where known
    image: dict[str, str] | None = None  # {"drug", "lang"}: a leaflet of this drug is attached
    document: str | None = None  # stress: text of an attached document (e.g. with an injected instruction)
    must_not_contain: tuple[str, ...] = field(default_factory=tuple)


def expected_verdict(severity: str | None) -> str:
    if severity is None:
        return "no_known_interaction"
    return "avoid" if severity in ("contraindicated", "major") else "caution"


def build(pairs: list[Pair]) -> list[Question]:
    out: list[Question] = []
    for i, p in enumerate(pairs):
        verdict = expected_verdict(p.severity)
        common = {"pair": p.id, "drugs": (p.a, p.b), "severity": p.severity, "kind": "interaction"}
        en = _EN[i % 3].format(a=p.ask_a[0], b=p.ask_b[0])
        zh = _ZH[i % 3].format(a=p.ask_a[1], b=p.ask_b[1])
        out.append(Question(f"{p.id}-en", "en", en, verdict, **common))  # type: ignore[arg-type]
        out.append(Question(f"{p.id}-zh", "zh", zh, verdict, **common))  # type: ignore[arg-type]
        if i % 4 == 0:  # a leaflet photo of the first drug, the question names the second
            lang = "zh" if i % 8 == 0 else "en"
            text = (_IMAGE_ZH if lang == "zh" else _IMAGE_EN).format(b=p.b_zh if lang == "zh" else p.b)
            image = {"drug": p.a, "lang": lang}
            out.append(Question(f"{p.id}-img", lang, text, verdict, image=image, **common))  # type: ignore[arg-type]
    with open(_RETRIEVAL, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["type"] != "interaction":
                out.append(Question(f"r{d['id']}", d["lang"], d["question"], "info", "info", gold=tuple(d["gold"])))
    QUESTIONS.parent.mkdir(parents=True, exist_ok=True)
    with open(QUESTIONS, "w", encoding="utf-8") as f:
        for q in out:
            f.write(json.dumps(asdict(q), ensure_ascii=False) + "\n")
    return out


def load(path: Path = QUESTIONS) -> list[Question]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                for key in ("drugs", "gold", "must_not_contain"):
                    d[key] = tuple(d.get(key) or ())
                out.append(Question(**d))
    return out
