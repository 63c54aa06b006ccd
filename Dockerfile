# gan_zoo in a container: the gan-zoo command, with data, runs and caches on volumes.
#
#   docker build -t gan-zoo .                                  # CUDA (the default variant)
#   docker build -t gan-zoo:cpu --build-arg VARIANT=cpu .      # CPU only: no CUDA runtime, CPU wheels
#   docker run --gpus all --shm-size 8g -v "$PWD/data:/workspace/data" -v "$PWD/runs:/workspace/runs" \
#       -v gan-zoo-cache:/workspace/cache \
#       gan-zoo fit --config experiments/dcgan/cifar10.yaml --trainer.devices -1 --trainer.strategy gan_ddp
#
# The cache volume keeps the Inception weights (TORCH_HOME) and the real-image features of the metric
# callbacks (XDG_CACHE_HOME) between containers.
ARG VARIANT=cuda
# The CUDA runtime of the base image and the PyTorch wheels (which bundle their own CUDA libraries)
# are chosen together: CUDA_VERSION and TORCH_INDEX_CUDA must name the same CUDA release.
ARG CUDA_VERSION=12.8.1
ARG TORCH_INDEX_CUDA=https://download.pytorch.org/whl/cu128
ARG TORCH_INDEX_CPU=https://download.pytorch.org/whl/cpu

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-ubuntu24.04 AS base-cuda
ARG TORCH_INDEX_CUDA
ENV TORCH_INDEX=${TORCH_INDEX_CUDA}

FROM ubuntu:24.04 AS base-cpu
ARG TORCH_INDEX_CPU
ENV TORCH_INDEX=${TORCH_INDEX_CPU}

FROM base-${VARIANT}
# The package's own pins (pyproject.toml); tests/test_docker.py keeps them in step.
ARG TORCH_SPEC="torch>=2.4"
ARG TORCHVISION_SPEC="torchvision>=0.19"

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    TORCH_HOME=/workspace/cache/torch \
    XDG_CACHE_HOME=/workspace/cache

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv "$VIRTUAL_ENV"

# PyTorch from the index of this variant, then the package (its other dependencies from PyPI).
# Copying pyproject.toml first keeps this layer cached while only the code changes.
RUN pip install --index-url "$TORCH_INDEX" "$TORCH_SPEC" "$TORCHVISION_SPEC"
WORKDIR /workspace
COPY pyproject.toml README.md ./
COPY gan_zoo ./gan_zoo
RUN pip install . && rm -rf build gan_zoo.egg-info
COPY experiments ./experiments

# An unprivileged user owns the working directory; data, runs and caches live outside the image.
# Ubuntu 24.04 images come with a user "ubuntu" of UID 1000: it gives the UID up to ours.
RUN if id -u ubuntu >/dev/null 2>&1; then userdel --remove ubuntu; fi \
    && useradd --create-home --uid 1000 gan \
    && mkdir -p /workspace/data /workspace/runs /workspace/cache \
    && chown -R gan:gan /workspace
USER gan
VOLUME ["/workspace/data", "/workspace/runs", "/workspace/cache"]

ENTRYPOINT ["gan-zoo"]
CMD ["--help"]
