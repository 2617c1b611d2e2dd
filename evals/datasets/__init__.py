"""The evaluation datasets: each module builds its files under evals/data/<name>/ from curated inputs and
loads them as typed records. `python -m evals.datasets` regenerates them all."""
