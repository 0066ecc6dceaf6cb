# syntax=docker/dockerfile:1
# Build stage: a wheel of the project and its dependencies.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Run stage: espeak-ng for speech, the wheels, a non-root user.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 voicebot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY --chown=voicebot:voicebot flows ./flows
# Created and owned before VOLUME, so a new volume is writable by the non-root user.
RUN mkdir -p /app/var && chown voicebot:voicebot /app/var
USER voicebot
ENV VOICEBOT_DATA_DIR=/app/var \
    VOICEBOT_FLOWS_DIR=/app/flows
VOLUME ["/app/var"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz').status != 200)"
ENTRYPOINT ["voicebot", "serve", "--host", "0.0.0.0", "--port", "8080"]
