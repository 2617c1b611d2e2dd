"""One evaluator per stage: ocr, fields, retrieval, interactions, qa, latency."""
