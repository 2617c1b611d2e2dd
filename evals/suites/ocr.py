"""OCR and field extraction on rendered pages with ground truth.

ocr: CER (primary) and word accuracy per degradation and page kind, orientation and document-type accuracy,
with Debian Tesseract (chi_sim+eng) on the same pages as the baseline. fields: precision/recall/F1 per field
(a field is right when its value is within 10% CER of the truth), prescription frequency accuracy and drug-mention
recall after the lexicon's correction.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
from collections import defaultdict

import matplotlib.pyplot as plt
from tqdm import tqdm

from evals.base import EvalResult, Evaluator, Metric
from evals.metrics import cer, normalise
from evals.suites.pages import Page, dataset_name, read_pages

_FIELD_CER = 0.10
_TESSERACT_PAGES = (2, 40)  # quick, full: Tesseract is the slow baseline


def word_accuracy(truth: str, read: str) -> float:
    """Share of the truth's words (English words, or Chinese runs split by punctuation) found in the reading."""
    import re

    words = [w for w in re.split(r"[\s,.;:，。；：、()（）【】]+", truth) if w]
    got = normalise(read)
    return sum(1 for w in words if normalise(w) in got) / max(1, len(words))


def _label(page: Page) -> str:
    return page.truth["degradation"] if not page.truth["rotation"] else f"rot{page.truth['rotation']}"


class OcrEvaluator(Evaluator):
    name = "ocr"

    def run(self) -> EvalResult:
        pages = read_pages(self.ctx)
        ds = dataset_name(self.ctx)
        settings = {"engine": "rapidocr pipeline", "quick": self.ctx.quick}
        by_label: dict[str, list[float]] = defaultdict(list)
        by_kind: dict[str, list[float]] = defaultdict(list)
        for p in pages:
            error = cer(p.truth["text"], p.doc.text)
            by_label[_label(p)].append(error)
            by_kind[p.truth["kind"]].append(error)
        cers = [cer(p.truth["text"], p.doc.text) for p in pages]
        metrics = [
            Metric("cer", statistics.mean(cers), ds, len(pages), settings, False),
            Metric(
                "word_accuracy",
                statistics.mean(word_accuracy(p.truth["text"], p.doc.text) for p in pages),
                ds,
                len(pages),
                settings,
            ),
            Metric(
                "orientation_accuracy",
                sum(p.doc.rotation == (360 - p.truth["rotation"]) % 360 for p in pages) / len(pages),
                ds,
                len(pages),
                settings,
            ),
            Metric(
                "doc_type_accuracy",
                sum(p.doc.doc_type == p.truth["doc_type"] for p in pages) / len(pages),
                ds,
                len(pages),
                settings,
            ),
        ]
        for label, errors in sorted(by_label.items()):
            metrics.append(Metric(f"cer_{label}", statistics.mean(errors), ds, len(errors), settings, False))
        for kind, errors in sorted(by_kind.items()):
            metrics.append(Metric(f"cer_{kind}", statistics.mean(errors), ds, len(errors), settings, False))
        tess = self._tesseract(pages)
        if tess:
            n = len(tess)
            ours = statistics.mean(cers[:n])
            tset = {"engine": "tesseract chi_sim+eng psm 3", "quick": self.ctx.quick}
            metrics.append(Metric("cer_tesseract_baseline", statistics.mean(tess), ds, n, tset, False))
            metrics.append(Metric("cer_pipeline_same_pages", ours, ds, n, settings, False))
        plot = self._plot(by_label)
        return EvalResult(self.name, "cer", metrics, plots=[plot])

    def _tesseract(self, pages: list[Page]) -> list[float]:
        if shutil.which("tesseract") is None:
            return []
        out = []
        for p in tqdm(pages[: _TESSERACT_PAGES[0 if self.ctx.quick else 1]], desc="tesseract", unit="page"):
            done = subprocess.run(
                ["tesseract", str(p.path), "stdout", "-l", "chi_sim+eng", "--psm", "3"],
                capture_output=True,
                text=True,
                check=False,
            )
            out.append(cer(p.truth["text"], done.stdout))
        return out

    def _plot(self, by_label: dict[str, list[float]]) -> str:
        labels = sorted(by_label)
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.bar(labels, [statistics.mean(by_label[k]) for k in labels], color="#4c72b0")
        ax.set_ylabel("mean CER")
        ax.set_title("CER by degradation / rotation (RxLens OCR pipeline)")
        fig.tight_layout()
        name = "cer_by_degradation.png"
        fig.savefig(self.ctx.out / name, dpi=100)
        plt.close(fig)
        return name


class FieldsEvaluator(Evaluator):
    name = "fields"

    def run(self) -> EvalResult:
        pages = read_pages(self.ctx)
        ds = dataset_name(self.ctx)
        settings = {"match": f"value CER <= {_FIELD_CER}", "quick": self.ctx.quick}
        tp: dict[str, int] = defaultdict(int)
        fp: dict[str, int] = defaultdict(int)
        fn: dict[str, int] = defaultdict(int)
        drug_hit = drug_n = freq_ok = freq_n = 0
        failures: list[dict[str, object]] = []
        for p in pages:
            truth: dict[str, str] = p.truth.get("fields", {})
            got = {k: f.value for k, f in p.doc.fields.items()}
            for key in set(truth) | set(got):
                if key in truth and key in got and cer(truth[key], got[key]) <= _FIELD_CER:
                    tp[key] += 1
                else:
                    fp[key] += key in got
                    fn[key] += key in truth
                    failures.append({"id": p.name, "field": key, "truth": truth.get(key), "got": got.get(key)})
            found = {i for d in p.doc.drugs for i in d.ingredients}
            for d in p.truth.get("drugs", []):
                drug_n += 1
                drug_hit += d["ingredient"] in found
            if p.truth["doc_type"] == "prescription":
                expected = [m["frequency"] for m in p.truth.get("medications", [])]
                read = [m.frequency for m in p.doc.medications]
                freq_n += len(expected)
                freq_ok += sum(a == b for a, b in zip(expected, read, strict=False))
        micro_tp, micro_fp, micro_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
        metrics = [
            Metric("field_f1_micro", _f1(micro_tp, micro_fp, micro_fn), ds, micro_tp + micro_fn, settings),
            Metric("field_precision_micro", micro_tp / max(1, micro_tp + micro_fp), ds, micro_tp + micro_fp, settings),
            Metric("field_recall_micro", micro_tp / max(1, micro_tp + micro_fn), ds, micro_tp + micro_fn, settings),
            Metric(
                "drug_mention_recall",
                drug_hit / max(1, drug_n),
                ds,
                drug_n,
                {**settings, "after": "lexicon correction"},
            ),
            Metric("prescription_frequency_accuracy", freq_ok / max(1, freq_n), ds, freq_n, settings),
        ]
        rows = ["| field | P | R | F1 | n truth |", "|---|---|---|---|---|"]
        for key in sorted(set(tp) | set(fp) | set(fn)):
            prec = tp[key] / max(1, tp[key] + fp[key])
            rec = tp[key] / max(1, tp[key] + fn[key])
            f1 = _f1(tp[key], fp[key], fn[key])
            rows.append(f"| {key} | {prec:.2f} | {rec:.2f} | {f1:.2f} | {tp[key] + fn[key]} |")
            metrics.append(Metric(f"f1_{key}", f1, ds, tp[key] + fn[key], settings))
        return EvalResult(self.name, "field_f1_micro", metrics, tables=["\n".join(rows)], failures=failures)


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / max(1, 2 * tp + fp + fn)
