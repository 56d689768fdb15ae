# trustsvc HTTP service: docker build -t trustsvc . && docker run -p 8080:8080 trustsvc
# Defaults to SQLite in the container's volume and the demo trusted lists (offline); see docs/deployment.md.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY trustsvc ./trustsvc
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TRUSTSVC_TRUST_LISTS_DIR=/opt/trustsvc/trust_lists \
    TRUSTSVC_POLICIES_DIR=/opt/trustsvc/policies \
    TRUSTSVC_DATABASE_URL=sqlite:////var/lib/trustsvc/trustsvc.db \
    TRUSTSVC_LOG_FORMAT=json
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/trustsvc --create-home trustsvc
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "trustsvc[postgres]" && rm -rf /wheels
COPY trust_lists /opt/trustsvc/trust_lists
COPY policies /opt/trustsvc/policies
USER trustsvc
WORKDIR /var/lib/trustsvc
VOLUME /var/lib/trustsvc
EXPOSE 8080
# /health answers 200 when ok or degraded (stale lists: still serving) and 503 when it cannot validate.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]
CMD ["trustsvc", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
