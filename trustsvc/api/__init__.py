"""The HTTP API (FastAPI): the routes, their security, uploads, problems, logs and metrics."""
