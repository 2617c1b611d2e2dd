"""The HTTP service: an OpenAI-compatible chat endpoint, documents, OCR, interaction checks and drug search."""
