"""Captions as tensors: UTF-8 bytes, zero-padded to a fixed length.

Bytes need no vocabulary, so a caption never seen in training still has a representation, the same
tensor works for a character-level encoder and (decoded back) for a pretrained sentence encoder, and
captions can live in buffers and batches like any other tensor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


def encode_text(captions: Sequence[str], max_length: int = 128) -> Tensor:
    """Captions → uint8 ``[N, max_length]``: UTF-8 bytes, zero-padded, cut after ``max_length`` bytes."""
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    padded = b"".join(c.encode("utf-8")[:max_length].ljust(max_length, b"\0") for c in captions)
    return torch.from_numpy(np.frombuffer(padded, dtype=np.uint8).reshape(len(captions), max_length).copy())


def decode_text(text: Tensor) -> list[str]:
    """uint8 ``[..., L]`` → the captions, flattened over the leading dimensions."""
    rows = text.reshape(-1, text.shape[-1]).cpu().tolist()
    return [bytes(b for b in row if b).decode("utf-8", errors="ignore") for row in rows]


def as_captions(captions: str | Sequence[str] | Tensor, n: int | None, max_length: int) -> Tensor:
    """Captions in any form → uint8 ``[n, k, L]`` (k captions per image, averaged by encoders).

    Accepts one string (for all ``n`` images), a list of strings (one per image) or a tensor
    ``[n, L]`` / ``[n, k, L]``.
    """
    if isinstance(captions, str):
        captions = [captions] * (n or 1)
    if not torch.is_tensor(captions):
        if isinstance(captions, Sequence) and all(isinstance(c, str) for c in captions):
            captions = encode_text(list(captions), max_length)
        else:
            raise ValueError("captions must be a string, a list of strings or a uint8 tensor [n, (k,) L]")
    text = captions[:, None] if captions.ndim == 2 else captions
    if text.ndim != 3 or text.dtype != torch.uint8:
        raise ValueError(
            f"caption tensors are uint8 [n, L] or [n, k, L], got {text.dtype} {tuple(text.shape)}"
        )
    if n is not None and text.shape[0] != n:
        raise ValueError(f"{text.shape[0]} captions for {n} images")
    return text
