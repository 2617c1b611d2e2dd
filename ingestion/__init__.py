"""From an uploaded image to text, structured fields and drug mentions.

The entry point is `ingestion.pipeline.OcrPipeline.read(data, filename) -> ParsedDocument`, built from plain
settings by `ingestion.pipeline.build_pipeline(OcrConfig(...), mention_finder)`.
"""
