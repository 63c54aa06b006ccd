"""Conditional batch normalization (de Vries et al. 2017; Dumoulin et al. 2017), as SAGAN and BigGAN
use it in their generators."""

from __future__ import annotations

from torch import Tensor, nn


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose affine parameters are predicted from a condition vector c:

        y = x̂ · (1 + W_γ c) + W_β c,     x̂ = (x − E[x]) / √(Var[x] + ε)

    With a one-hot class as c, the columns of W_γ and W_β are per-class gains and biases (SAGAN's
    per-layer class embeddings). BigGAN feeds every layer the same *shared* class embedding, concatenated
    with that block's chunk of z (Brock et al. 2019, §3 and Figure 15): each layer learns its own
    linear projection of it. The gain is parameterized around 1 (BigGAN's code) so a zero
    projection gives plain batch norm.

    At construction W_γ = W_β = 0: γ = 1 and β = 0 for every condition, plain batch norm until
    training moves them, as SAGAN's code initializes its per-class tables (``gamma`` ones, ``beta``
    zeros). :func:`~gan_zoo.layers.init_weights_` leaves them so unless asked otherwise; BigGAN's
    generator asks, since BigGAN's code initializes the projections of its shared embedding like
    any other linear layer (orthogonally).

    Shapes: x ``[N, C, H, W]``, c ``[N, condition_dim]`` → ``[N, C, H, W]``.

    Args:
        num_features: C.
        condition_dim: size of c.
        eps / momentum: as in :class:`torch.nn.BatchNorm2d`.
    """

    def __init__(
        self, num_features: int, condition_dim: int, eps: float = 1e-5, momentum: float = 0.1
    ) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, eps=eps, momentum=momentum, affine=False)
        self.gain = nn.Linear(condition_dim, num_features, bias=False)
        self.bias = nn.Linear(condition_dim, num_features, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """W_γ = W_β = 0: γ = 1, β = 0 whatever the condition."""
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        gain = 1.0 + self.gain(condition)[:, :, None, None]  # [N, C, 1, 1]
        bias = self.bias(condition)[:, :, None, None]
        return self.norm(x) * gain + bias
