"""`rxlens-eval` (or `python -m evals`): measure every stage on data with known answers.

rxlens-eval [--suite ocr|fields|handwriting|retrieval|interactions|qa|focus|consumer|latency|all] [--quick] [--out DIR]

The evaluation has its own entry point: the product (app/) never imports evals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evals.runner import SUITES, run


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="rxlens-eval",
        description="Measure every stage on data with known answers; write report.md, results.json and PNG plots.",
    )
    parser.add_argument("--suite", default="all", help=f"{', '.join(SUITES)}, a comma-separated list, or all")
    parser.add_argument("--quick", action="store_true", help="a small slice of every dataset (a few minutes)")
    parser.add_argument("--out", type=Path, default=Path("var/eval/report"), help="folder for the report")
    args = parser.parse_args()
    try:
        run(args.suite, args.quick, args.out)
    except ValueError as e:
        print(e, file=sys.stderr)
        sys.exit(2)
    print(f"report: {args.out / 'report.md'}")


if __name__ == "__main__":
    main()
