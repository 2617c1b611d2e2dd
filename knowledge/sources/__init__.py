"""One loader per data source under knowledge/data/. Each turns its files into typed records; none writes SQL."""
