"""The pre-activation residual blocks of SNGAN (Miyato et al. 2018, Appendix B.4), which SAGAN
(Zhang et al. 2019) and BigGAN (Brock et al. 2019, Figure 15) build their networks from."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.layers.conditional_batch_norm import ConditionalBatchNorm2d


class ResidualUpBlock(nn.Module):
    """Generator block, doubling the resolution:

        h = conv₃(ReLU(BN₂(conv₃(up(ReLU(BN₁(x)))))))
        y = h + conv₁(up(x))

    ``up`` is nearest-neighbour ×2. With ``condition_dim`` the batch norms are conditional
    (:class:`ConditionalBatchNorm2d`) and ``forward`` takes the condition vector.

    Shapes: x ``[N, C_in, H, W]`` (c ``[N, condition_dim]``) → ``[N, C_out, 2H, 2W]``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, condition_dim: int | None = None, bn_eps: float = 1e-5
    ) -> None:
        super().__init__()
        self.conditional = condition_dim is not None
        if condition_dim is not None:
            self.bn1 = ConditionalBatchNorm2d(in_channels, condition_dim, eps=bn_eps)
            self.bn2 = ConditionalBatchNorm2d(out_channels, condition_dim, eps=bn_eps)
        else:
            self.bn1 = nn.BatchNorm2d(in_channels, eps=bn_eps)
            self.bn2 = nn.BatchNorm2d(out_channels, eps=bn_eps)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def _norm(self, norm: nn.Module, x: Tensor, condition: Tensor | None) -> Tensor:
        return norm(x, condition) if self.conditional else norm(x)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        h = F.relu(self._norm(self.bn1, x, condition))
        h = self.conv1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.conv2(F.relu(self._norm(self.bn2, h, condition)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class ResidualDownBlock(nn.Module):
    """Discriminator block, halving the resolution when ``downsample``:

        h = pool(conv₃(ReLU(conv₃(ReLU(x)))))
        y = h + pool(conv₁(x))

    ``pool`` is 2×2 average pooling. The first block of D (``preactivation=False``) skips the leading
    ReLU, since its input is the image, and pools before its shortcut convolution (SNGAN's
    "optimized block"). The shortcut is the identity when the block keeps both shape and width.

    Shapes: ``[N, C_in, H, W] -> [N, C_out, H/2, W/2]`` (or ``[N, C_out, H, W]``).
    """

    def __init__(
        self, in_channels: int, out_channels: int, downsample: bool = True, preactivation: bool = True
    ) -> None:
        super().__init__()
        self.downsample, self.preactivation = downsample, preactivation
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        learnable = downsample or in_channels != out_channels
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1) if learnable else nn.Identity()

    def _pool(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, 2) if self.downsample else x

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self._pool(self.conv2(F.relu(self.conv1(h))))
        skip = self._pool(self.shortcut(x)) if self.preactivation else self.shortcut(self._pool(x))
        return h + skip
