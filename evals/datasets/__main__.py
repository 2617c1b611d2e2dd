"""`python -m evals.datasets`: regenerate every generated dataset file from its curated inputs."""

from __future__ import annotations

from evals.datasets import interactions, questions


def main() -> None:
    pairs = interactions.build()
    print(f"interactions: {len(pairs)} pairs -> {interactions.PAIRS}")
    qs = questions.build(pairs)
    print(f"questions: {len(qs)} -> {questions.QUESTIONS}")


if __name__ == "__main__":
    main()
