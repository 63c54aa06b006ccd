"""Whole-tensor image operations: done once at setup on uint8 tensors, or once per batch on the device."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def normalize(images: Tensor) -> Tensor:
    """uint8 [0, 255] → float [-1, 1] (x / 127.5 − 1), the range every generator outputs."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: Tensor) -> Tensor:
    """float [-1, 1] → uint8 [0, 255], rounding to nearest."""
    return images.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def resize_uint8(images: Tensor, size: int, chunk: int = 4096) -> Tensor:
    """Resize uint8 ``[N, C, H, W]`` to ``[N, C, size, size]`` with antialiased bilinear filtering.

    Done in chunks so a 60 000-image dataset never needs a float copy of itself.
    """
    if images.shape[-2:] == (size, size):
        return images
    out = torch.empty((*images.shape[:2], size, size), dtype=torch.uint8)
    for start in range(0, images.shape[0], chunk):
        block = images[start : start + chunk].float()
        block = F.interpolate(block, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[start : start + chunk] = block.round_().clamp_(0, 255).to(torch.uint8)
    return out


def to_channels(images: Tensor, channels: int) -> Tensor:
    """Convert ``[N, C, H, W]`` between gray (1) and RGB (3): gray is repeated; RGB uses ITU-R 601 luma."""
    have = images.shape[1]
    if have == channels:
        return images
    if have == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if have == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        return (images.float() * weights).sum(1, keepdim=True).round_().clamp_(0, 255).to(torch.uint8)
    raise ValueError(f"cannot convert {have}-channel images to {channels} channels (supported: 1 ↔ 3)")
