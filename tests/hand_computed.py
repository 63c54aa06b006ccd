"""What tests check the code against: computations independent of it (numpy), networks whose outputs
are known by hand, and a fit that leaves them as they are (to check what a training step optimizes
and logs)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

#: An optimizer with learning rate 0: every batch of a fit sees the networks it started with.
frozen = partial(torch.optim.SGD, lr=0.0)


class ConstantImages(nn.Module):
    """G(z) = the same learnable image ``[1, C, H, W]`` for every z, so G's output is known by hand."""

    def __init__(self, image: torch.Tensor) -> None:
        super().__init__()
        self.image = nn.Parameter(image.clone().float())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.image.expand(z.shape[0], *self.image.shape[1:])


def fit_on(
    model: Any, real: torch.Tensor, trainer_factory: Callable[..., Any], batches: int = 1
) -> dict[str, float]:
    """Fit ``model`` for one epoch of ``batches`` batches, each the images ``real`` ``[N, C, H, W]``;
    returns the logged metrics (the ``_epoch`` values are the batch means)."""
    loader = DataLoader(TensorDataset(real.repeat(batches, 1, 1, 1)), batch_size=real.shape[0])
    trainer = trainer_factory(limit_train_batches=batches, limit_val_batches=0)
    trainer.fit(model, train_dataloaders=loader, val_dataloaders=loader)  # no validation, no warning
    return {name: value.item() for name, value in trainer.callback_metrics.items()}


def numpy_batch_norm(x: np.ndarray, eps: float) -> np.ndarray:
    """Training-mode batch norm without affine parameters, ``[N, C, H, W]``: each channel minus its
    mean over (N, H, W), divided by √(biased variance + ε)."""
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(variance + eps)
