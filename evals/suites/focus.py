"""Does the answer answer the asked pair? Photo questions over documents that name many other drugs.

Each page of evals/data/focus is rendered (`evals.render.documents`) and read by the real OCR pipeline once;
every question about it goes through the answer chain with that document, as `rxlens ask --image` does. Scored
on the answer's structured result (`Answer.to_json()`; fields that only newer answers carry are read with .get):

- first_finding_is_asked: the first finding is the asked pair (a = the subject, b = the asked drug or a member of
  the asked class, either order; `via_class` naming the class counts), over questions whose pair has a finding;
- first_sentence_is_asked: the answer's first line (after a leading urgent warning) names both sides, in the
  user's words or their zh/en names;
- mentioned_pairs: findings between two drugs the document merely names (must be 0);
- verdict accuracy for the asked pair (the `asked` entry's verdict where the answer has one, else the headline
  verdict), and unsafe answers (no_known_interaction where avoid is expected; must be 0);
- median answer length, zh and en;
- follow_up_kept: through the HTTP API (FastAPI TestClient), turn 1 sends the photo, turn 2 only the
  conversation id and "那和阿司匹林呢？"; the second answer must still be about the document's subject.
"""

from __future__ import annotations

import base64
import statistics
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from evals.base import EvalResult, Evaluator, Metric
from evals.datasets import focus as focus_set
from evals.datasets.focus import FocusItem, Turn

if TYPE_CHECKING:
    from app.chain import DocumentContext
    from knowledge.lexicon import Lexicon

QUICK_ITEMS = 8
API_ITEMS = 10
QUICK_API_ITEMS = 2


# ---- scoring (pure functions of an answer's JSON) ----------------------------------------------------------


def _ingredients(side: Any) -> set[str]:
    """An `asked` side ({"input", "ingredients", ...}) or a finding's plain INN."""
    if isinstance(side, dict):
        return set(side.get("ingredients") or ())
    return {str(side)}


def is_asked_pair(finding: dict[str, Any], a: str, turn: Turn, class_members: Iterable[str] = ()) -> bool:
    """A finding about the asked pair: one side the subject, the other the asked drug or a member of the asked
    class (or found through it), in either order."""
    sides = [finding.get("a"), finding.get("b")]
    if turn.b_kind == "class":
        members = set(class_members)
        if finding.get("via_class") == turn.b:
            return a in sides
        return (sides[0] == a and sides[1] in members) or (sides[1] == a and sides[0] in members)
    return set(sides) == {a, turn.b} or (a == turn.b and sides == [a, a])


def first_finding_is_asked(result: dict[str, Any], a: str, turn: Turn, class_members: Iterable[str] = ()) -> bool:
    findings = result.get("findings") or []
    return bool(findings) and is_asked_pair(findings[0], a, turn, class_members)


def first_line(result: dict[str, Any]) -> str:
    """The answer's first line, past a leading urgent-warning line."""
    lines = [ln.strip() for ln in str(result.get("answer", "")).splitlines() if ln.strip()]
    if len(lines) > 1 and result.get("urgent"):
        return lines[1]
    return lines[0] if lines else ""


def side_names(lexicon: Lexicon | None, inn_or_class: str, kind: str, words: Iterable[str]) -> set[str]:
    names = {w.lower() for w in words if w}
    names.add(inn_or_class.lower())
    if lexicon is not None:
        for lang in ("zh", "en"):
            name = (
                lexicon.class_name(inn_or_class, lang) if kind == "class" else lexicon.display_name(inn_or_class, lang)
            )
            names.add(name.lower())
            if kind == "class" and "（" in name:  # "血管紧张素II受体拮抗剂（沙坦类）": either part will do
                names.update(p.strip("）").lower() for p in name.split("（"))
    return {n for n in names if n}


def first_sentence_is_asked(
    result: dict[str, Any], item: FocusItem, turn: Turn, lexicon: Lexicon | None = None
) -> bool:
    line = first_line(result).lower()
    a_names = side_names(lexicon, item.a, "drug", item.a_words)
    b_names = side_names(lexicon, turn.b, turn.b_kind, turn.b_words)
    return any(n in line for n in a_names) and any(n in line for n in b_names)


def mentioned_pairs(result: dict[str, Any], mentioned: Iterable[str]) -> int:
    merely = set(mentioned)
    return sum(1 for f in result.get("findings") or [] if f.get("a") in merely and f.get("b") in merely)


def asked_verdict(result: dict[str, Any]) -> str:
    """The verdict for the asked pair: the first `asked` entry's where the answer has one, else the headline."""
    asked = result.get("asked") or []
    if asked and isinstance(asked[0], dict) and asked[0].get("verdict"):
        return str(asked[0]["verdict"])
    return str(result.get("verdict", ""))


def follow_up_kept(result: dict[str, Any], subject: str, turn: Turn, class_members: Iterable[str] = ()) -> bool:
    """The second turn is still about the document's subject: the subject is among the drugs it considered and
    its first finding, where it has one, is the subject with the new drug."""
    considered = {i for d in result.get("drugs") or [] for i in d.get("ingredients") or ()}
    for side in result.get("asked") or []:
        if isinstance(side, dict):
            considered |= _ingredients(side.get("a")) | _ingredients(side.get("b"))
    if subject not in considered:
        return False
    findings = result.get("findings") or []
    return not findings or is_asked_pair(findings[0], subject, turn, class_members)


# ---- the evaluator -----------------------------------------------------------------------------------------


@dataclass
class Scored:
    item: FocusItem
    result: dict[str, Any]
    first_finding: bool | None  # None: the pair has no finding to put first
    first_sentence: bool
    mentioned: int
    verdict: str
    headline: str
    length: int


def _rate(name: str, dataset: str, flags: list[bool], settings: dict[str, Any], better: bool = True) -> Metric:
    return Metric(name, sum(flags) / max(1, len(flags)), dataset, len(flags), settings, better)


class FocusEvaluator(Evaluator):
    name = "focus"
    dataset = "evals/data/focus/focus.jsonl"

    def run(self) -> EvalResult:
        comps = self.ctx.components
        items = focus_set.load()
        if self.ctx.quick:
            items = items[:: max(1, len(items) // QUICK_ITEMS)][:QUICK_ITEMS]
        contexts = self._read(items)
        lexicon = comps.lexicon
        scored = []
        for item in tqdm(items, desc="focus", unit="q"):
            answer = comps.chain.ask(item.turn.question, [contexts[item.doc]])
            scored.append(self._score(item, answer.to_json(), lexicon))
        follow = [i for i in items if i.follow_up is not None][: QUICK_API_ITEMS if self.ctx.quick else API_ITEMS]
        kept = self._follow_ups(follow)
        return self._result(scored, kept)

    def members(self, turn: Turn) -> set[str]:
        return self.ctx.components.kb.members(turn.b) if turn.b_kind == "class" else set()

    def _read(self, items: list[FocusItem]) -> dict[str, DocumentContext]:
        from app.documents import document_context
        from evals.render.documents import render_document

        comps = self.ctx.components
        folder = self.ctx.out / "focus_pages"
        folder.mkdir(parents=True, exist_ok=True)
        contexts: dict[str, DocumentContext] = {}
        first = {i.doc: i for i in reversed(items)}  # one reading per document
        for item in tqdm(list(first.values())[::-1], desc="focus pages", unit="page"):
            data, ext, _ = render_document(item.image)
            (folder / f"{item.doc}.{ext}").write_bytes(data)
            doc = comps.ocr.read(data, f"{item.doc}.{ext}")
            contexts[item.doc] = document_context(item.doc, doc, comps.lexicon)
        return contexts

    def _score(self, item: FocusItem, result: dict[str, Any], lexicon: Lexicon) -> Scored:
        members = self.members(item.turn)
        has_pair = item.turn.expected != "no_known_interaction"
        return Scored(
            item=item,
            result=result,
            first_finding=first_finding_is_asked(result, item.a, item.turn, members) if has_pair else None,
            first_sentence=first_sentence_is_asked(result, item, item.turn, lexicon),
            mentioned=mentioned_pairs(result, item.mentioned),
            verdict=asked_verdict(result),
            headline=str(result.get("verdict", "")),
            length=len(str(result.get("answer", ""))),
        )

    def _follow_ups(self, items: list[FocusItem]) -> list[tuple[FocusItem, bool, dict[str, Any]]]:
        """Turn 1 with the photo, turn 2 with only the conversation id, through the HTTP API."""
        if not items:
            return []
        from fastapi.testclient import TestClient

        from app.api.main import create_app
        from app.components import Components
        from app.config import Settings
        from evals.render.documents import render_document

        comps = self.ctx.components
        out: list[tuple[FocusItem, bool, dict[str, Any]]] = []
        with tempfile.TemporaryDirectory() as tmp:
            base = comps.settings
            settings = Settings(  # type: ignore[call-arg]
                var_dir=Path(tmp),
                kb_path=base.knowledge_base,
                kb_index_path=base.kb_index_dir,
                database_url=f"sqlite:///{Path(tmp) / 'rxlens.sqlite'}",
            )
            api = Components(settings)
            for name in ("kb", "lexicon", "engine", "composer", "names", "ocr"):  # loaded once, shared
                api.__dict__[name] = getattr(comps, name)
            with TestClient(create_app(settings, api)) as client:
                for item in tqdm(items, desc="focus follow-ups (API)", unit="conv"):
                    assert item.follow_up is not None
                    data, ext, _ = render_document(item.image)
                    mime = "image/png" if ext == "png" else "image/jpeg"
                    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
                    first = client.post(
                        "/v1/chat/completions",
                        json={
                            "messages": [
                                {
                                    "role": "user",
                                    "content": [
                                        {"type": "text", "text": item.turn.question},
                                        {"type": "image_url", "image_url": {"url": url}},
                                    ],
                                }
                            ]
                        },
                    )
                    if first.status_code != 200:
                        out.append((item, False, {"error": first.status_code, "body": first.text[:300]}))
                        continue
                    conversation = first.json()["rxlens"]["conversation_id"]
                    second = client.post(
                        "/v1/chat/completions",
                        json={
                            "messages": [{"role": "user", "content": item.follow_up.question}],
                            "rxlens": {"conversation_id": conversation},
                        },
                    )
                    if second.status_code != 200:
                        out.append((item, False, {"error": second.status_code, "body": second.text[:300]}))
                        continue
                    body = second.json()
                    result = {**body["rxlens"], "answer": body["choices"][0]["message"]["content"]}
                    ok = follow_up_kept(result, item.a, item.follow_up, self.members(item.follow_up))
                    out.append((item, ok, result))
        return out

    def _result(self, scored: list[Scored], kept: list[tuple[FocusItem, bool, dict[str, Any]]]) -> EvalResult:
        settings = {"composer": self.ctx.components.composer.name, "quick": self.ctx.quick}
        ds = self.dataset
        with_pair = [s for s in scored if s.first_finding is not None]
        avoid = [s for s in scored if s.item.turn.expected == "avoid"]
        metrics = [
            _rate("first_finding_is_asked", ds, [bool(s.first_finding) for s in with_pair], settings),
            _rate("first_sentence_is_asked", ds, [s.first_sentence for s in scored], settings),
            Metric(
                "mentioned_pairs",
                float(sum(s.mentioned for s in scored)),
                ds,
                len(scored),
                {**settings, "unit": "findings"},
                False,
            ),
            _rate("answers_with_mentioned_pairs", ds, [s.mentioned > 0 for s in scored], settings, False),
            _rate("verdict_accuracy", ds, [s.verdict == s.item.turn.expected for s in scored], settings),
            _rate("headline_verdict_accuracy", ds, [s.headline == s.item.turn.expected for s in scored], settings),
            _rate("unsafe_rate", ds, [s.verdict == "no_known_interaction" for s in avoid], settings, False),
        ]
        for lang in ("zh", "en"):
            lengths = [s.length for s in scored if s.item.lang == lang]
            metrics.append(
                Metric(
                    f"median_answer_chars_{lang}",
                    float(statistics.median(lengths) if lengths else 0),
                    ds,
                    len(lengths),
                    {**settings, "unit": "characters", "aim": 600 if lang == "zh" else 900},
                    False,
                )
            )
        for doc_type in ("leaflet", "package", "label", "prescription"):
            sub = [s for s in with_pair if s.item.doc_type == doc_type]
            if sub:
                metrics.append(
                    _rate(f"first_finding_is_asked_{doc_type}", ds, [bool(s.first_finding) for s in sub], settings)
                )
        metrics.append(_rate("follow_up_kept", ds + " (HTTP API, 2 turns)", [k for _, k, _ in kept], settings))
        rows = ["| id | asked | expected | got | first finding | first line |", "|---|---|---|---|---|---|"]
        for s in scored[:200]:
            first = (s.result.get("findings") or [{}])[0]
            line = first_line(s.result)[:80].replace("|", "/")
            rows.append(
                f"| {s.item.id} | {s.item.a} + {s.item.turn.b} | {s.item.turn.expected} | {s.verdict} | "
                f"{first.get('a', '-')} + {first.get('b', '-')} | {line} |"
            )
        failures: list[dict[str, Any]] = [
            {
                "id": s.item.id,
                "q": s.item.turn.question,
                "asked": [s.item.a, s.item.turn.b],
                "expected": s.item.turn.expected,
                "got": s.verdict,
                "first_finding": (s.result.get("findings") or [{}])[0].get("a", "-")
                + " + "
                + (s.result.get("findings") or [{}])[0].get("b", "-"),
                "first_line": first_line(s.result)[:120],
                "chars": s.length,
            }
            for s in scored
            if s.first_finding is False or not s.first_sentence or s.mentioned or s.verdict != s.item.turn.expected
        ]
        failures += [
            {
                "id": i.id,
                "follow_up": i.follow_up.question if i.follow_up else "",
                "kept": False,
                "first_finding": (r.get("findings") or [{}])[0].get("a", "-")
                + " + "
                + (r.get("findings") or [{}])[0].get("b", "-")
                if "findings" in r
                else r,
            }
            for i, ok, r in kept
            if not ok
        ]
        unsafe = [s.item.id for s in avoid if s.verdict == "no_known_interaction"]
        notes = [f"**Unsafe answers ({len(unsafe)})**: " + (", ".join(unsafe) or "none")]
        return EvalResult(
            self.name, "first_finding_is_asked", metrics, tables=["\n".join(rows)], notes=notes, failures=failures
        )
