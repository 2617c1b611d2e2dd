"""The evaluator base class: every suite names its dataset, runs, and returns one `EvalResult` with one primary
metric, every other metric, and the dataset, size and settings that produced them (after sentence-transformers'
`SentenceEvaluator`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.components import Components


@dataclass
class Metric:
    name: str
    value: float
    dataset: str
    size: int
    settings: dict[str, Any] = field(default_factory=dict)
    higher_is_better: bool = True


@dataclass
class EvalResult:
    suite: str
    primary: str  # the name of the primary metric
    metrics: list[Metric]
    tables: list[str] = field(default_factory=list)  # markdown tables for report.md
    plots: list[str] = field(default_factory=list)  # PNG file names written into the output folder
    notes: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)  # items a person should look at

    @property
    def primary_metric(self) -> Metric:
        return next(m for m in self.metrics if m.name == self.primary)

    def metric(self, name: str) -> float:
        return next(m.value for m in self.metrics if m.name == name)


@dataclass
class EvalContext:
    """What every suite gets: the shared components, the output folder and whether this is the quick slice."""

    components: Components
    out: Path
    quick: bool
    shared: dict[str, Any] = field(default_factory=dict)  # work one suite does that another reuses (OCR readings)


class Evaluator(ABC):
    name: str = ""
    dataset: str = ""

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def run(self) -> EvalResult: ...
