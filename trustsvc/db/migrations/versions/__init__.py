"""Revisions, oldest first; each one runs unchanged on SQLite (batch mode) and PostgreSQL."""
