"""Alembic migrations of the user-data database: `env.py` and one file per revision in `versions/`."""
