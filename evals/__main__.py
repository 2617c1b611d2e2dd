"""`python -m evals [--suite ocr|fields|retrieval|interactions|qa|latency|all] [--quick] [--out DIR]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.runner import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite", default="all")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("var/eval/report"))
    args = parser.parse_args()
    run(args.suite, args.quick, args.out)


if __name__ == "__main__":
    main()
