"""Self-attention over feature-map positions (SAGAN, Zhang et al. 2019, §3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class SelfAttention2d(nn.Module):
    """SAGAN's attention block, Eqs. (1)–(3):

        s_ij = f(x_i)ᵀ g(x_j),   β_j,i = exp(s_ij) / Σ_i exp(s_ij)
        o_j  = v( Σ_i β_j,i h(x_i) )
        y_i  = γ o_i + x_i

    f, g, h are 1×1 convolutions to C̄ = C / k channels (k = 8 in the paper), v a 1×1 convolution
    back to C. γ is a learned scalar initialised to 0, so the block starts as the identity and the
    network "first relies on the cues in the local neighborhood" (§3).

    The attention matrix is formed explicitly, ``[N, HW, HW]`` (4 MB per image on 32×32 maps), so the
    block stays twice differentiable for gradient penalties; the authors' code max-pools keys and
    values by 2 to save memory, which the paper's equations do not.

    Shapes: ``[N, C, H, W] -> [N, C, H, W]``.

    Args:
        channels: C.
        reduction: k; the attention works in C̄ = max(1, C // k) channels.
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.f = nn.Conv2d(channels, hidden, 1, bias=False)  # keys
        self.g = nn.Conv2d(channels, hidden, 1, bias=False)  # queries
        self.h = nn.Conv2d(channels, hidden, 1, bias=False)  # values
        self.v = nn.Conv2d(hidden, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        n, _, height, width = x.shape
        f = self.f(x).flatten(2)  # [N, C̄, HW]
        g = self.g(x).flatten(2)  # [N, C̄, HW]
        h = self.h(x).flatten(2)  # [N, C̄, HW]
        s = torch.bmm(g.transpose(1, 2), f)  # s[n, j, i] = f(x_i)ᵀ g(x_j)   [N, HW, HW]
        beta = s.softmax(dim=2)  # normalized over the attended positions i
        o = torch.bmm(h, beta.transpose(1, 2))  # o[n, :, j] = Σ_i β_j,i h(x_i)   [N, C̄, HW]
        o = self.v(o.view(n, -1, height, width))
        return self.gamma * o + x
