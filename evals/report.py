"""report.md for a person and results.json for a machine, from the suites' results."""

from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from evals.base import EvalResult


def write(results: list[EvalResult], out: Path, quick: bool, seconds: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "quick": quick,
        "seconds": round(seconds, 1),
        "python": platform.python_version(),
        "time": time.time(),
        "commit": _commit(),
    }
    payload = {"meta": meta, "suites": {r.suite: {"primary": r.primary, **asdict(r)} for r in results}}
    (out / "results.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [
        f"# RxLens evaluation{' (quick slice)' if quick else ''}",
        "",
        f"{seconds:.0f} s in all, commit {meta['commit'] or 'unknown'}.",
        "",
    ]
    lines += ["| suite | primary metric | value | dataset | n |", "|---|---|---|---|---|"]
    for r in results:
        m = r.primary_metric
        lines.append(f"| {r.suite} | {m.name} | {m.value:.3f} | {m.dataset} | {m.size} |")
    for r in results:
        lines += ["", f"## {r.suite}", "", "| metric | value | dataset | n | settings |", "|---|---|---|---|---|"]
        for m in r.metrics:
            settings = ", ".join(f"{k}={v}" for k, v in m.settings.items())
            lines.append(f"| {m.name} | {m.value:.3f} | {m.dataset} | {m.size} | {settings} |")
        for table in r.tables:
            lines += ["", table]
        for plot in r.plots:
            lines += ["", f"![{plot}]({plot})"]
        for note in r.notes:
            lines += ["", note]
        if r.failures:
            lines += ["", f"<details><summary>{len(r.failures)} items to look at</summary>", ""]
            lines += [f"- {json.dumps(f, ensure_ascii=False)}" for f in r.failures[:40]]
            lines += ["", "</details>"]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _commit() -> str:
    """The git commit the run measured ("" outside a git checkout), so two reports can be told apart."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
