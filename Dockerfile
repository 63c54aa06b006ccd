# gan_zoo on a CUDA machine: the gan-zoo command with data and runs on volumes.
#
#   docker build -t gan-zoo .
#   docker run --gpus all --shm-size 8g -v "$PWD/data:/workspace/data" -v "$PWD/runs:/workspace/runs" \
#       gan-zoo fit --config experiments/dcgan/cifar10.yaml --trainer.devices -1 --trainer.strategy gan_ddp
#
# The CUDA runtime of the base image and the PyTorch wheels (which bundle their own CUDA libraries)
# are chosen together: CUDA_VERSION and TORCH_INDEX must name the same CUDA release.
ARG CUDA_VERSION=12.8.1
FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-ubuntu24.04

ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128
# The package's own pins (pyproject.toml); tests/test_docker.py keeps them in step.
ARG TORCH_SPEC="torch>=2.4"
ARG TORCHVISION_SPEC="torchvision>=0.19"

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv "$VIRTUAL_ENV"

# PyTorch from the index that matches the CUDA runtime, then the package (its other dependencies
# from PyPI). Copying pyproject.toml first keeps this layer cached while only the code changes.
RUN pip install --index-url "$TORCH_INDEX" "$TORCH_SPEC" "$TORCHVISION_SPEC"
WORKDIR /workspace
COPY pyproject.toml README.md ./
COPY gan_zoo ./gan_zoo
RUN pip install . && rm -rf build gan_zoo.egg-info
COPY experiments ./experiments

# An unprivileged user owns the working directory; data and runs live outside the image.
RUN useradd --create-home --uid 1000 gan \
    && mkdir -p /workspace/data /workspace/runs \
    && chown -R gan:gan /workspace
USER gan
VOLUME ["/workspace/data", "/workspace/runs"]

ENTRYPOINT ["gan-zoo"]
CMD ["--help"]
