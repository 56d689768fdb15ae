"""Alembic migrations shipped with the package, applied by :func:`trustsvc.db.migrate` (no alembic.ini needed)."""
