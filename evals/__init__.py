"""Measurements of every stage against data with known answers, and the performance benchmarks."""
