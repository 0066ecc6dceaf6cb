# syntax=docker/dockerfile:1
# The voicebot image: docs/deployment.md. tests/test_image.py performs this file's run
# stage outside Docker (no engine there): keep its COPY, ENV, USER and ENTRYPOINT lines
# simple, one instruction per line.

# The base image, for both stages; a mirror's copy of it works the same.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Build stage: a virtual environment with the project and its dependencies.
FROM ${PYTHON_IMAGE} AS build
# A package index mirror (e.g. --build-arg PIP_INDEX_URL=https://…/simple); empty: pip's default.
ARG PIP_INDEX_URL=
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
# pip would take an empty PIP_INDEX_URL for an index at "": unset it instead.
RUN if [ -z "$PIP_INDEX_URL" ]; then unset PIP_INDEX_URL; fi \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir .

# Run stage: espeak-ng, the venv copied whole (no wheels layer), the app read-only and
# the data on a volume that any UID in group 0 can write (OpenShift's arbitrary UIDs).
FROM ${PYTHON_IMAGE}
# A Debian mirror's base URL, under which debian/ and debian-security/ live; empty: the
# sources the base image names.
ARG APT_MIRROR=
RUN if [ -n "$APT_MIRROR" ]; then \
      sed -ri "s#^URIs: *[a-z]+://[^/]+/#URIs: ${APT_MIRROR%/}/#" /etc/apt/sources.list.d/debian.sources; \
    fi \
 && apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY flows /app/flows
COPY knowledge/data /app/knowledge/data
# The app is root's and read-only: flows change by a new image or a mounted /app/flows.
# /app/var is group 0 with the owner's rights, so any UID of group 0 can write there.
RUN chmod -R a-w /app/flows /app/knowledge \
 && mkdir -p /app/var \
 && chown -R 10001:0 /app/var \
 && chmod -R g=u /app/var
ENV PATH=/opt/venv/bin:$PATH
ENV PYTHONDONTWRITEBYTECODE=1
ENV PYTHONUNBUFFERED=1
ENV VOICEBOT_DATA_DIR=/app/var
ENV VOICEBOT_FLOWS_DIR=/app/flows
# The knowledge base lives on the volume (the admin API writes it), seeded at the first
# start from the image's read-only copy (knowledge/seed.py).
ENV VOICEBOT_KB_DIR=/app/var/knowledge
ENV VOICEBOT_KB_SEED_DIR=/app/knowledge/data
# The text tables (jieba's dictionary by character pair, pypinyin's readings) are built at the
# first start and kept beside the data, so a restart with the same volume is quicker.
ENV XDG_CACHE_HOME=/app/var/cache
USER 10001:0
VOLUME ["/app/var"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
# Serving on every address, it refuses to start without VOICEBOT_ADMIN_TOKEN and
# VOICEBOT_PUBLIC_URL (docker run -e …; docs/security.md).
ENTRYPOINT ["voicebot", "serve", "--host", "0.0.0.0", "--port", "8080"]
