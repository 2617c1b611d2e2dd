"""Rendered test pages with ground truth: leaflets, prescriptions, drug boxes and pharmacy labels.

Text comes from the project's real, redistributable sources (CMeKG drug products for Chinese sections,
DailyMed / openFDA label sections for English ones); names of patients, doctors and hospitals are made up.
`python -m evals.render --out DIR --count N --seed S` writes N images, each with a JSON ground truth.
"""

from evals.render.pages import PLAN, PageSpec, render_page

__all__ = ["PLAN", "PageSpec", "render_page"]
