"""Measured trials: scripts that compare a candidate part with what the pipeline does today (not imported by
the package or its tests)."""
