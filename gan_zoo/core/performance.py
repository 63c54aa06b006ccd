"""Opt-in speed switches for G and D: channels_last memory format and ``torch.compile``.

In a config, add the callback (it applies the switches before the optimizers are built)::

    trainer:
      callbacks:
        - class_path: gan_zoo.core.performance.Performance
          init_args: {channels_last: true, compile: false}

Both are off by default: channels_last helps convolutions on GPUs with tensor cores and on CPUs with
oneDNN, but not every layer is faster in it; ``torch.compile`` pays a compilation of tens of seconds
to minutes at the first step, which only long runs earn back.

With ``trainer.precision: bf16-mixed`` turn channels_last on: the bf16 convolution kernels (oneDNN's
AMX ones on CPUs, tensor cores on GPUs) work on NHWC data, and NCHW tensors would be reordered
around every convolution. ``experiments/_base/bf16.yaml`` sets both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

from gan_zoo.lightning_compat import Callback


def apply_performance(module: nn.Module, *, channels_last: bool = False, compile: bool = False) -> nn.Module:
    """Switch ``module.generator`` and ``module.discriminator`` (in place) to the requested modes.

    Args:
        module: an :class:`~gan_zoo.core.AdversarialModule` (anything with ``generator`` and
            ``discriminator`` submodules).
        channels_last: store 4-D weights as NHWC; convolutions then run (and output) channels_last.
        compile: ``nn.Module.compile()`` each network in place, so parameter names and checkpoints
            stay those of the eager model (no ``_orig_mod.`` prefix).

    Returns:
        ``module``, for chaining.
    """
    for network in (module.generator, module.discriminator):
        if channels_last:
            network.to(memory_format=torch.channels_last)
        if compile:
            network.compile()
    return module


#: CPU flags (Linux ``/proc/cpuinfo``) of instructions that compute in bf16: Intel AMX and AVX512-BF16
#: on x86, the BF16 extension on Arm.
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16", "bf16")


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str] | None:
    """The CPU's feature flags, ``None`` where the system does not list them."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86 / Arm
            flags.update(value.split())
    return flags or None


def slow_bf16_warning(precision: str, device_type: str, flags: set[str] | None) -> str | None:
    """The one-line warning for bf16 on a CPU without bf16 instructions, ``None`` when there is none to
    give. Such CPUs emulate bf16 with float32 instructions and conversions: on an AVX2 CPU a DCGAN step
    in ``bf16-mixed`` took ~10× as long as in ``32-true`` (see docs/performance.md)."""
    if not precision.startswith("bf16") or device_type != "cpu" or flags is None:
        return None
    if flags & set(NATIVE_BF16_FLAGS):
        return None
    return (
        f"precision {precision} on a CPU without bf16 instructions (no {'/'.join(NATIVE_BF16_FLAGS)} in "
        "/proc/cpuinfo) runs about 10x slower than 32-true here; use --trainer.precision 32-true"
    )


def fast_adam_options(grad_clip: bool = False) -> dict[str, Any]:
    """Keyword arguments that pick Adam's fastest implementation on this PyTorch: ``fused=True``.

    The fused kernel updates all parameters of a group in one pass (CPU since PyTorch 2.4, CUDA
    since 2.0), instead of a Python loop over parameters or a chain of ``foreach`` ops.

    Args:
        grad_clip: the network's gradients are clipped. Then PyTorch's default implementation is
            kept: a fused optimizer unscales mixed-precision gradients inside its step, after the
            point where clipping happens, and Lightning refuses to clip for it.
    """
    return {} if grad_clip else {"fused": True}


class Performance(Callback):
    """Applies :func:`apply_performance` when training or evaluation starts (YAML-configurable).

    Args:
        channels_last: store G's and D's weights in channels_last format.
        compile: ``torch.compile`` G and D.
    """

    def __init__(self, channels_last: bool = False, compile: bool = False) -> None:
        self.channels_last = channels_last
        self.compile = compile

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        apply_performance(pl_module, channels_last=self.channels_last, compile=self.compile)
