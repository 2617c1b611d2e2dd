"""Hard prescriptions: handwritten (Chinese, English) and printed in Chinese hospital layouts (usage on its own
line, a table with a column per usage part, two columns), rendered by `evals.render.handwriting` with truth.

Per subset and overall: drug recall (the truth's drug among the page's recognised drugs), the medication row
found for it, strength and dose exact match (same amount and unit; 0.5 g = 500 mg, 1# = 1 片 = 1 tab), frequency
(normalised code), duration (days), quantity (count), document type, header fields (value within 10% CER) and
CER. A field is wrong when its row is missing. Confirmation: of the medications read wrong (a field wrong or the
row missing), the share whose row is marked `needs_confirmation` (recall); of those read right, the share marked
anyway (burden); and the share of all that are wrong and not marked (unflagged errors). Primary metric: the mean
of drug recall, strength, dose and frequency over all pages ("prescription_accuracy").
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from evals.base import EvalResult, Evaluator, Metric
from evals.metrics import cer
from evals.render.handwriting import SUBSETS, plan, render_hard
from ingestion.document import Medication, ParsedDocument

SEED = 1515
_FIELD_CER = 0.10
_MASS_MG = {"mg": 1.0, "g": 1000.0, "mcg": 0.001}
_UNIT_WORDS = {"片": "unit", "粒": "unit", "#": "unit", "tab": "unit", "cap": "unit", "丸": "unit"}


@dataclass
class HardPage:
    name: str
    spec_subset: str
    truth: dict[str, Any]
    doc: ParsedDocument
    seconds: float


def amount_key(text: str) -> tuple[float, str] | None:
    """(amount, canonical unit) of a strength or dose: masses in mg, 片/粒/#/tab/cap as one unit, IU, ml."""
    t = text.strip().lower().replace("µ", "μ").replace("μg", "mcg").replace("ug", "mcg").replace("units", "iu")
    m = re.match(r"^(\d+(?:\.\d+)?)\s*(mg|g|mcg|ml|iu|u|片|粒|#|tabs?|caps?|丸|支|袋)?", t)
    if not m or not m.group(2):
        return None
    amount, unit = float(m.group(1)), m.group(2)
    unit = {"tabs": "tab", "caps": "cap", "u": "iu"}.get(unit, unit)
    if unit in _MASS_MG:
        return round(amount * _MASS_MG[unit], 6), "mg"
    return amount, _UNIT_WORDS.get(unit, unit)


def days_of(text: str) -> int:
    m = re.search(r"(\d+)\s*(天|日|d|days?)", text, re.I)
    if m:
        return int(m.group(1))
    m = re.search(r"(\d+)\s*周", text)
    return int(m.group(1)) * 7 if m else 0


def count_of(text: str) -> int | None:
    m = re.search(r"\d+", text)
    return int(m.group(0)) if m else None


def match_rows(truth: list[dict[str, Any]], doc: ParsedDocument, resolve: Any) -> list[Medication | None]:
    """For each truth medication, the read row for the same drug (its name resolved by the lexicon), else None."""
    rows = list(doc.medications)
    inns = [set(resolve(m.name).ingredients) for m in rows]
    used: set[int] = set()
    out: list[Medication | None] = []
    for t in truth:
        hit = next((k for k, found in enumerate(inns) if k not in used and t["drug"] in found), None)
        if hit is None:  # a name the lexicon does not resolve: the nearest written name
            scored = [(cer(t["name"], m.name), k) for k, m in enumerate(rows) if k not in used]
            best = min(scored, default=(1.0, -1))
            hit = best[1] if best[0] <= 0.34 else None
        if hit is not None:
            used.add(hit)
        out.append(rows[hit] if hit is not None else None)
    return out


class HandwritingEvaluator(Evaluator):
    name = "handwriting"
    dataset = "evals.render.handwriting"

    def run(self) -> EvalResult:
        pages = self._read()
        lexicon = self.ctx.components.lexicon
        ds = f"{self.dataset} seed={SEED} pages={len(pages)}"
        settings: dict[str, Any] = {"quick": self.ctx.quick}
        counts: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        failures: list[dict[str, Any]] = []
        for p in pages:
            groups = (p.spec_subset, "all")
            found = {i for d in p.doc.drugs for i in d.ingredients}
            rows = match_rows(p.truth["medications"], p.doc, lexicon.resolve)

            def add(
                metric: str,
                ok: bool,
                *,
                truth: Any = None,
                got: Any = None,
                page: HardPage = p,
                groups: tuple[str, ...] = groups,
            ) -> None:
                for g in groups:
                    counts[g][metric].append(float(ok))
                if not ok:
                    failures.append({"id": page.name, "metric": metric, "truth": truth, "got": got})

            add(
                "doc_type_accuracy",
                p.doc.doc_type == p.truth["doc_type"],
                truth=p.truth["doc_type"],
                got=p.doc.doc_type,
            )
            for g in groups:
                counts[g]["cer"].append(cer(p.truth["text"], p.doc.text))
            got_fields = {k: f.value for k, f in p.doc.fields.items()}
            for key, value in p.truth["fields"].items():
                ok = key in got_fields and cer(value, got_fields[key]) <= _FIELD_CER
                add("header_field_accuracy", ok, truth=f"{key}={value}", got=got_fields.get(key))
            for t, row in zip(p.truth["medications"], rows, strict=True):
                add("drug_recall", t["drug"] in found, truth=t["name"], got=sorted(found))
                wrong = row is None or not (
                    (not t["strength"] or amount_key(row.strength) == amount_key(t["strength"]))
                    and amount_key(row.dose) == amount_key(t["dose"])
                    and row.frequency == t["frequency"]
                    and t["drug"] in set(lexicon.resolve(row.name).ingredients)
                )
                flagged = row is not None and row.needs_confirmation
                for g in groups:
                    counts[g]["confirmation_recall" if wrong else "confirmation_burden"].append(float(flagged))
                    counts[g]["unflagged_error_rate"].append(float(wrong and not flagged))
                add("medication_row_found", row is not None, truth=t["name"])
                if t["strength"]:
                    got = row.strength if row else None
                    add("strength_exact", bool(got) and amount_key(got or "") == amount_key(t["strength"]),
                        truth=t["strength"], got=got)  # fmt: skip
                got = row.dose if row else None
                add(
                    "dose_exact", bool(got) and amount_key(got or "") == amount_key(t["dose"]), truth=t["dose"], got=got
                )
                got = row.frequency if row else None
                add("frequency_accuracy", got == t["frequency"], truth=t["frequency_text"], got=got)
                got = row.duration if row else None
                ok = row is not None and days_of(got or "") == t["duration_days"]
                add("duration_accuracy", ok, truth=t["duration_days"], got=got)
                got = row.quantity if row else None
                add("quantity_accuracy", count_of(got or "") == count_of(t["quantity"]), truth=t["quantity"], got=got)
        metrics: list[Metric] = []
        core = ("drug_recall", "strength_exact", "dose_exact", "frequency_accuracy")
        overall = statistics.mean(statistics.mean(counts["all"][k]) for k in core if counts["all"][k])
        metrics.append(Metric("prescription_accuracy", overall, ds, len(pages), settings))
        table = ["| subset | " + " | ".join(self._columns()) + " |", "|---" * (len(self._columns()) + 1) + "|"]
        for group in (*SUBSETS, "all"):
            cells = []
            for key in self._columns():
                values = counts[group].get(key, [])
                if not values:
                    cells.append("-")
                    continue
                value = statistics.mean(values)
                name = key if group == "all" else f"{key}_{group}"
                higher = key not in {"cer", "confirmation_burden", "unflagged_error_rate"}
                metrics.append(Metric(name, value, ds, len(values), {**settings, "subset": group}, higher))
                cells.append(f"{value:.3f} (n={len(values)})")
            table.append(f"| {group} | " + " | ".join(cells) + " |")
        notes = [f"{len(pages)} pages; mean OCR time {statistics.mean(p.seconds for p in pages):.1f} s per page"]
        return EvalResult(self.name, "prescription_accuracy", metrics, tables=["\n".join(table)], notes=notes,
                          failures=failures)  # fmt: skip

    @staticmethod
    def _columns() -> tuple[str, ...]:
        return (
            "drug_recall",
            "medication_row_found",
            "strength_exact",
            "dose_exact",
            "frequency_accuracy",
            "duration_accuracy",
            "quantity_accuracy",
            "doc_type_accuracy",
            "header_field_accuracy",
            "confirmation_recall",
            "confirmation_burden",
            "unflagged_error_rate",
            "cer",
        )

    def _read(self) -> list[HardPage]:
        folder = self.ctx.out / "handwriting"
        folder.mkdir(parents=True, exist_ok=True)
        ocr = self.ctx.components.ocr
        pages = []
        for spec in tqdm(plan(self.ctx.quick), desc="hard prescriptions", unit="page"):
            data, ext, truth = render_hard(spec, seed=SEED * 1000 + spec.number)
            name = spec.name
            (folder / f"{name}.{ext}").write_bytes(data)
            (folder / f"{name}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
            started = time.perf_counter()
            doc = ocr.read(data, f"{name}.{ext}")
            seconds = time.perf_counter() - started
            (folder / f"{name}.read.json").write_text(json.dumps(doc.to_json(), ensure_ascii=False), encoding="utf-8")
            pages.append(HardPage(name, spec.subset, truth, doc, seconds))
        return pages
