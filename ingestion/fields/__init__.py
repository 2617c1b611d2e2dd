"""Structured fields from lines in reading order: the document type, then the fields that type carries."""
