"""Acceptance policies per pilot: declarative YAML (schema), read and checked (catalogue), judged (evaluate, apply)."""
