# One image for every hookhouse service: `docker run hookhouse <ingest|router|...>`.
# Kafka and ClickHouse come from their official images (docker-compose.yml).
# The dashboard's npm packages, from its lock file.
FROM node:20-bookworm-slim AS dashboard
WORKDIR /dashboard
COPY services/api/dashboard/package.json services/api/dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm

WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    HOOKHOUSE_HOST=0.0.0.0 \
    HOOKHOUSE_HOME=/var/lib/hookhouse

COPY pyproject.toml README.md ./
COPY services ./services
COPY --from=dashboard /dashboard/node_modules ./services/api/dashboard/node_modules
COPY schemas ./schemas
# A wheel's install: the migrations, the topics' schemas and the dashboard (with the npm
# packages copied in above) are package data.
RUN pip install --no-cache-dir . && mkdir -p /var/lib/hookhouse

ENTRYPOINT ["hookhouse"]
CMD ["--help"]
