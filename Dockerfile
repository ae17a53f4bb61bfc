# lotto-gpt HTTP server, CPU only. Not built in this repository's CI (no container engine there).
#
#   docker build -t lotto-gpt .
#   docker run --rm -p 8000:8000 -v "$PWD/outputs/cpu:/model:ro" lotto-gpt          # a mounted model folder
#   docker run --rm -p 8000:8000 -e LOTTO_GPT_MODEL=owner/lotto-gpt -e HF_HUB_OFFLINE=0 \
#       -v "$HOME/.cache/huggingface:/cache" lotto-gpt                                # a Hub id (downloaded once)
#   docker run --rm -p 8000:8000 -v "$PWD/outputs/cpu:/models/a:ro" lotto-gpt --model /models/a   # a flag wins
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/cache \
    HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    LOTTO_GPT_MODEL=/model

# torch first, from the CPU index: the default index would pull multi-GB CUDA wheels
RUN pip install "torch==2.*" --index-url https://download.pytorch.org/whl/cpu

WORKDIR /app
COPY pyproject.toml README.md ./
COPY lotto_gpt ./lotto_gpt
RUN pip install . \
    && useradd --create-home --uid 10001 lotto \
    && mkdir -p /cache /model \
    && chown lotto /cache

USER lotto
EXPOSE 8000
VOLUME ["/cache"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"

# the model: $LOTTO_GPT_MODEL (default /model, a mounted folder), or append `--model <folder or owner/name>`
ENTRYPOINT ["lotto-gpt", "serve", "--host", "0.0.0.0", "--port", "8000"]
