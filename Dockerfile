# noiselab: one image for ingest, api, alerts and the simulator (the command picks the role).
# Build: docker build -t noiselab .    Run: see docker-compose.yml and docs/deployment.md.

FROM python:3.11.14-slim-bookworm AS build
WORKDIR /src
# Build a wheel of noiselab with its production extras; nothing of the build stays in the image.
COPY pyproject.toml README.md LICENSE ./
COPY noiselab ./noiselab
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[influx,postgres]"

FROM python:3.11.14-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NOISELAB_LOG_JSON=true
RUN useradd --system --uid 10001 --home-dir /var/lib/noiselab --create-home noiselab \
    && install -d -o noiselab -g noiselab /var/lib/noiselab/state
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "noiselab[influx,postgres]" \
    && rm -rf /wheels
USER noiselab
WORKDIR /var/lib/noiselab
EXPOSE 8000
# The API answers /healthz; other roles override this check in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["noiselab"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
