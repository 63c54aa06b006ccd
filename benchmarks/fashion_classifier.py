"""A small Fashion-MNIST classifier for judging generated images (kept apart so that a shared domain
classifier can replace it): two conv blocks and a linear layer, a couple of epochs with Adam."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SmallCNN(nn.Module):
    """images ``[N, 1, S, S]`` in [-1, 1] (S divisible by 4) → class logits ``[N, classes]``."""

    def __init__(self, size: int = 32, classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * (size // 4) ** 2, classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def train_classifier(
    images: Tensor, labels: Tensor, epochs: int = 2, batch_size: int = 128, seed: int = 0
) -> nn.Module:
    """Fit :class:`SmallCNN` on float images ``[N, 1, S, S]`` in [-1, 1] and labels ``[N]``."""
    torch.manual_seed(seed)
    model = SmallCNN(images.shape[-1], int(labels.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(images)).split(batch_size):
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, batch_size: int = 512) -> Tensor:
    """Predicted classes ``[N]``."""
    return torch.cat([model(chunk).argmax(1) for chunk in images.split(batch_size)])
