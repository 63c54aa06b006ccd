"""AC-GAN — Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs" (ICML).

Every generated sample has a class label c ~ p_c besides its noise: X_fake = G(c, z). The discriminator
sees only the image and gives a distribution over sources and one over classes, P(S | X), P(C | X) =
D(X). With

    L_S = E[log P(S = real | X_real)] + E[log P(S = fake | X_fake)]              (Eq. 2)
    L_C = E[log P(C = c | X_real)] + E[log P(C = c | X_fake)]                     (Eq. 3)

D is trained to maximize L_S + L_C and G to maximize L_C − L_S. Written as losses to minimize:

    D: −(L_S + L_C) = [softplus(−s_real) + softplus(s_fake)] + [CE(k_real, c) + CE(k_fake, c)]
    G: L_S − L_C   → E[log P(S = fake | X_fake)] − E[log P(C = c | X_fake)]
                   =  −softplus(s_fake) + CE(k_fake, c)

with s the source logit (P(S = real | X) = σ(s)) and k the class logits (P(C | X) = softmax(k)). G's
loss drops the two terms on X_real, which do not depend on G (same gradient). The source terms are
the model's ``loss`` objective: the default :class:`~gan_zoo.losses.Minimax` is Eq. 2 exactly, and
another objective (``non_saturating``, ``least_squares``, one-sided label smoothing …) swaps only the
source part.

Networks (Appendix, CIFAR-10 table): G maps [z; one-hot c] (110 = 100 + 10) through a linear layer
to 384 feature maps of 4×4 (ReLU), then three 5×5 transposed convolutions with stride 2 to 192, 96 and
3 channels (BN + ReLU, tanh at the output). D is six 3×3 convolutions, 16 → 32 → 64 → 128 → 256 → 512
channels with strides 2, 1, 2, 1, 2, 1, LeakyReLU(0.2), dropout 0.5, batch norm on all but the first,
then one linear layer with 11 outputs: the source logit and the 10 class logits ("Soft-Sigmoid").
Adam(2e-4, β1 = 0.5, β2 = 0.999), batch 100, 50 000 iterations; weights ~ N(0, 0.02), biases 0.
Other square sides that are powers of two ≥ 16 change the number of stride-2 stages.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule
from gan_zoo.core.step import Step
from gan_zoo.layers import init_normal_
from gan_zoo.models.dcgan import DCGAN_ADAM, dcgan_stages
from gan_zoo.models.registry import MODELS


class ACGANGenerator(nn.Module):
    """(z [N, latent_dim], c [N]) → images [N, C, H, W] in [-1, 1]."""

    def __init__(
        self, latent_dim: int, num_classes: int, image_shape: tuple[int, int, int], width: int = 96
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        stages = dcgan_stages(image_shape)
        channels = width * 2 ** (stages - 1)  # 384 at 32×32
        self.channels = channels
        self.project = nn.Sequential(
            nn.Linear(latent_dim + num_classes, channels * 16), nn.ReLU(inplace=True)
        )
        layers: list[nn.Module] = []
        for stage in range(stages):  # 5×5, stride 2: 4 → 8 → 16 → 32
            last = stage == stages - 1
            out = image_shape[0] if last else channels // 2
            layers.append(nn.ConvTranspose2d(channels, out, 5, 2, 2, output_padding=1, bias=last))
            layers += [nn.Tanh()] if last else [nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            channels = out
        self.net = nn.Sequential(*layers)
        self.apply(init_normal_)

    def forward(self, z: Tensor, c: Tensor) -> Tensor:
        h = self.project(torch.cat([z, F.one_hot(c, self.num_classes).to(z.dtype)], dim=1))
        return self.net(h.view(z.shape[0], self.channels, 4, 4))


class ACGANDiscriminator(nn.Module):
    """images [N, C, H, W] → ``[N, 1 + K]``: the source logit, then K class logits.

    ``feature_layer`` names the last convolution block, for feature matching.
    """

    def __init__(
        self, image_shape: tuple[int, int, int], num_classes: int, width: int = 16, dropout: float = 0.5
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels, channels = image_shape[0], width
        for stage in range(dcgan_stages(image_shape)):  # each stage: stride 2 then stride 1 → 4×4
            for stride in (2, 1):
                first = stage == 0 and stride == 2  # no batch norm on the input layer
                layers.append(nn.Conv2d(in_channels, channels, 3, stride, 1, bias=first))
                layers += [] if first else [nn.BatchNorm2d(channels)]
                layers += [nn.LeakyReLU(0.2, inplace=True), nn.Dropout(dropout)]
                in_channels, channels = channels, channels * 2
        self.feature_layer = f"net.{len(layers) - 2}"  # the last LeakyReLU
        layers += [nn.Flatten(), nn.Linear(in_channels * 16, 1 + num_classes)]
        self.net = nn.Sequential(*layers)
        self.apply(init_normal_)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


@MODELS.register()
class ACGAN(AdversarialModule):
    """Auxiliary classifier GAN: a class-conditional G and a D with a source and a class head.

    Logged besides the losses: ``d_source`` (−L_S), ``d_class`` (−L_C), ``d_accuracy`` (D's class
    accuracy on real images), ``g_accuracy`` (D's class accuracy on G's samples, i.e. how recognisably
    G draws the class it was asked for, judged by D).

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`; the
    defaults are the paper's: the source objective ``minimax`` (Eq. 2 exactly), Adam(2e-4, β = (0.5,
    0.999)).

    Args:
        g_width: channels of G's last hidden layer (96); ×2 per stage towards the 4×4 input.
        d_width: channels of D's first layer (16); ×2 per layer.
        dropout: dropout after every D convolution (0.5).
    """

    conditional = True
    defaults = {
        "image_shape": (3, 32, 32),
        "num_classes": 10,
        "loss": "minimax",
        "g_optimizer": DCGAN_ADAM,
        "d_optimizer": DCGAN_ADAM,
    }

    def __init__(self, g_width: int = 96, d_width: int = 16, dropout: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def build_generator(self) -> nn.Module:
        return ACGANGenerator(self.latent_dim, self.num_classes, self.image_shape, self.hparams.g_width)

    def build_discriminator(self) -> nn.Module:
        h = self.hparams
        return ACGANDiscriminator(self.image_shape, self.num_classes, h.d_width, h.dropout)

    def heads(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """D(x) split into the source logit ``[N]`` (P(S = real | x) = σ) and class logits ``[N, K]``."""
        out = self.discriminator(x)
        return out[:, 0], out[:, 1:]

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The source logit ``[N]``; D does not see labels (regularizers such as the gradient penalty
        act on this output)."""
        return self.heads(x)[0]

    def discriminator_step(self, step: Step) -> dict[str, Tensor]:
        real_source, real_class = self.heads(step.real)
        fake_source, fake_class = self.heads(step.fake)
        step.real_logits, step.fake_logits = real_source, fake_source
        source = self.loss.d_loss(real_source, fake_source)  # −L_S
        classes = F.cross_entropy(real_class, step.real_labels) + F.cross_entropy(
            fake_class, step.fake_labels
        )  # −L_C
        return {
            "loss": source + classes,
            "source": source.detach(),
            "class": classes.detach(),
            "real": self.loss.output(real_source.detach()).mean(),
            "fake": self.loss.output(fake_source.detach()).mean(),
            "accuracy": _accuracy(real_class, step.real_labels),
        }

    def generator_step(self, step: Step) -> dict[str, Tensor]:
        fake_source, fake_class = self.heads(step.fake)
        step.fake_logits = fake_source
        source = self.loss.g_loss(fake_source)  # minimax: E[log P(S = fake | X_fake)], L_S's part in G
        classes = F.cross_entropy(fake_class, step.fake_labels)  # −E[log P(C = c | X_fake)]
        return {
            "loss": source + classes,
            "source": source.detach(),
            "class": classes.detach(),
            "accuracy": _accuracy(fake_class, step.fake_labels),
        }


def _accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    return (logits.detach().argmax(1) == labels).float().mean()
