"""What the benchmarks measure and how it is reported: a `Figure` is one contender's samples at one stage, with
the contender it is compared with and the targets it should meet; a `BenchReport` turns figures into a JSON
document and a markdown table (stage | contender | median | p95 | ratio vs baseline | target | met?).

Pure bookkeeping, no measuring: timing helpers (`time_ms`, `percentile`) live here too so every section takes
its medians and p95s the same way.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Statistic = Literal["median", "mean", "value"]


@dataclass(frozen=True)
class Target:
    """A goal for one statistic of a figure: `on` the median ("median"), the p95, or the ratio to the baseline."""

    limit: float
    on: Literal["median", "p95", "ratio"] = "median"
    below: bool = True  # met when the statistic is below the limit (latency); False: at least the limit (rate)

    def met(self, value: float) -> bool:
        return value < self.limit if self.below else value >= self.limit

    def describe(self, unit: str) -> str:
        label = {"median": "", "p95": "p95 ", "ratio": "ratio "}[self.on]
        shown = f"{self.limit:g}" if self.on == "ratio" else f"{self.limit:g} {unit}"
        return f"{label}{'<' if self.below else '>='} {shown}"


@dataclass
class Figure:
    """One contender at one stage.

    Attributes:
        stage: what is measured ("OCR of a page", "check, 10 drugs, Python API").
        contender: who does it ("RxLens pipeline", "bare RapidOCR", "4 clients").
        unit: of the samples ("ms", "s", "MB", "req/s", "% CER").
        samples: every measured value (after warm-up).
        statistic: what the table shows: the median (with a p95), the mean (CER), or a single value.
        baseline: the contender of the same stage this one is divided by in the ratio column.
        targets: goals from the issue, each on the median, the p95 or the ratio.
        settings: what produced the samples (sizes, repeats, parameters).
        section: the section of `make bench` that measured it.
    """

    stage: str
    contender: str
    unit: str
    samples: list[float]
    statistic: Statistic = "median"
    baseline: str | None = None
    targets: tuple[Target, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    section: str = ""  # the benchmark section that measured it (set by BenchReport.add)

    @property
    def value(self) -> float:
        if not self.samples:
            return float("nan")
        if self.statistic == "mean":
            return statistics.fmean(self.samples)
        return statistics.median(self.samples)

    @property
    def p95(self) -> float | None:
        return percentile(self.samples, 0.95) if self.statistic == "median" and len(self.samples) > 1 else None


class BenchReport:
    """Figures from one run of the benchmarks, the machine they ran on, and notes on the choices made."""

    def __init__(self, machine: dict[str, Any], sections: list[str], quick: bool) -> None:
        self.machine = machine
        self.sections = sections  # in the order the table shows them
        self.quick = quick
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        self.seconds = 0.0

    def add(self, figures: list[Figure], section: str = "") -> None:
        for fig in figures:
            fig.section = fig.section or section
        self.figures += figures

    def table_order(self) -> list[Figure]:
        """Figures grouped by stage, each stage's baseline first; stages in the order of `sections` (the section
        where a stage first appears), then as measured. Sections add contenders to a stage at different times."""
        rank = {name: i for i, name in enumerate(self.sections)}
        first: dict[str, tuple[int, int]] = {}
        for i, fig in enumerate(self.figures):
            key = (rank.get(fig.section, len(rank)), i)
            first[fig.stage] = min(first.get(fig.stage, key), key)
        baselines = {(f.stage, f.baseline) for f in self.figures}
        return [
            fig
            for _, fig in sorted(
                enumerate(self.figures),
                key=lambda p: (first[p[1].stage], (p[1].stage, p[1].contender) not in baselines, p[0]),
            )
        ]

    def baseline_of(self, fig: Figure) -> Figure | None:
        if fig.baseline is None:
            return None
        return next((f for f in self.figures if f.stage == fig.stage and f.contender == fig.baseline), None)

    def ratio(self, fig: Figure) -> float | None:
        base = self.baseline_of(fig)
        if base is None or not base.value:
            return None
        return fig.value / base.value

    def verdicts(self, fig: Figure) -> list[bool | None]:
        """One verdict per target: met, missed, or None where the statistic it needs is missing."""
        out: list[bool | None] = []
        for target in fig.targets:
            value = {"median": fig.value, "p95": fig.p95, "ratio": self.ratio(fig)}[target.on]
            out.append(None if value is None or value != value else target.met(value))
        return out

    def to_json(self) -> dict[str, Any]:
        rows = []
        for fig in self.figures:
            ratio = self.ratio(fig)
            row = asdict(fig)
            row.update(
                value=_round(fig.value),
                p95=None if fig.p95 is None else _round(fig.p95),
                n=len(fig.samples),
                ratio=None if ratio is None else _round(ratio),
                targets=[
                    {**asdict(t), "describe": t.describe(fig.unit), "met": met}
                    for t, met in zip(fig.targets, self.verdicts(fig), strict=True)
                ],
                samples=[_round(s) for s in fig.samples],
            )
            rows.append(row)
        return {
            "machine": self.machine,
            "sections": self.sections,
            "quick": self.quick,
            "seconds": round(self.seconds, 1),
            "notes": self.notes,
            "figures": rows,
        }

    def to_markdown(self) -> str:
        lines = [
            "| stage | contender | median | p95 | ratio vs baseline | target | met? |",
            "|---|---|---|---|---|---|---|",
        ]
        for fig in self.table_order():
            ratio = self.ratio(fig)
            value = f"{_fmt(fig.value)} {fig.unit}".strip() + (" (mean)" if fig.statistic == "mean" else "")
            p95 = f"{_fmt(fig.p95)} {fig.unit}".strip() if fig.p95 is not None else ""
            shown_ratio = f"{ratio:.2f}x {fig.baseline}" if ratio is not None else ""
            target = "; ".join(t.describe(fig.unit) for t in fig.targets)
            met = "; ".join({True: "yes", False: "**no**", None: "?"}[v] for v in self.verdicts(fig))
            lines.append(f"| {fig.stage} | {fig.contender} | {value} | {p95} | {shown_ratio} | {target} | {met} |")
        m = self.machine
        lines.append("")
        lines.append(
            f"Machine: {m.get('cpu_model', '?')}, {m.get('cpus', '?')} usable cores, {m.get('ram_gb', '?')} GB RAM; "
            f"Python {m.get('python', '?')}, onnxruntime {m.get('onnxruntime', '?')} "
            f"({', '.join(m.get('onnxruntime_providers', []))}), faiss {m.get('faiss', '?')} "
            f"({m.get('faiss_gpus', 0)} GPUs); OCR on {m.get('ocr_device', '?')}; "
            f"load average at start {m.get('load_average', '?')}; {m.get('date', '?')}."
        )
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, out: Path) -> tuple[Path, Path]:
        out.mkdir(parents=True, exist_ok=True)
        json_path, md_path = out / "bench.json", out / "bench.md"
        json_path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
        md_path.write_text(self.to_markdown(), encoding="utf-8")
        return json_path, md_path


def percentile(samples: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..1) of the samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_ms(fn: Callable[[], object], repeat: int, warm_up: int = 1) -> list[float]:
    """Milliseconds of `repeat` calls of `fn`, after `warm_up` untimed calls."""
    for _ in range(warm_up):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _round(x: float) -> float | None:
    """Four significant digits; None for NaN, which JSON cannot hold."""
    return float(f"{x:.4g}") if x == x else None


def _fmt(x: float | None) -> str:
    if x is None or x != x:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"
