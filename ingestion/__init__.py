"""From an uploaded image to text, structured fields and drug mentions."""
