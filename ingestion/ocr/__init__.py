"""OCR engines behind one Protocol: the bundled RapidOCR model (default) and a remote vision-language model."""
