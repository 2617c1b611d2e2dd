"""`python -m evals.render --out DIR --count N --seed S`: write N rendered pages and their ground truth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evals.render.pages import PLAN, render_page


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=len(PLAN))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(args.count):
        spec = PLAN[i % len(PLAN)]
        name = f"{i:03d}_{spec.kind}_{spec.columns}col_{spec.degradation}_r{spec.rotation}"
        data, ext, truth = render_page(spec, seed=args.seed * 100_000 + i)
        (args.out / f"{name}.{ext}").write_bytes(data)
        (args.out / f"{name}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
        total += len(data)
    print(f"wrote {args.count} pages ({total / 1e6:.1f} MB) to {args.out}")


if __name__ == "__main__":
    main()
