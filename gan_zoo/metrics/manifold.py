"""Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
Assessing Generative Models", NeurIPS), a torchmetrics metric on precomputed features.

Each set of features estimates its manifold as the union of balls around its points, each ball reaching
the point's k-th nearest neighbour in the same set (Eq. 1, k = 3 in the paper):

    f(φ, Φ) = 1  if ‖φ − φ'‖₂ ≤ ‖φ' − NN_k(φ', Φ)‖₂ for some φ' ∈ Φ,  else 0
    precision = (1/|Φ_g|) Σ_{φ_g ∈ Φ_g} f(φ_g, Φ_r)        (Eq. 2)
    recall    = (1/|Φ_r|) Σ_{φ_r ∈ Φ_r} f(φ_r, Φ_g)

Precision is the share of generated samples that fall on the real manifold (quality); recall the share
of real samples that fall on the generated manifold (coverage). A collapsed generator keeps a high
precision and loses its recall. The k-th neighbour excludes the point itself, as in the authors' code
(``distances`` includes the zero self-distance, so the radius is the (k + 1)-th smallest).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

#: Rows of the distance matrix computed at once: a 1000 × 10 000 float64 block is 80 MB.
ROW_BLOCK = 1000


def knn_radii(features: Tensor, k: int) -> Tensor:
    """Distance from each row of ``features`` ``[N, D]`` to its k-th nearest other row: ``[N]``."""
    if features.shape[0] <= k:
        raise ValueError(f"precision/recall with k = {k} needs more than {k} samples per set")
    radii = [
        torch.cdist(block, features).kthvalue(k + 1, dim=1).values for block in features.split(ROW_BLOCK)
    ]
    return torch.cat(radii)


def coverage(points: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
    """Share of ``points`` ``[M, D]`` inside at least one ball (``centres`` ``[N, D]``, ``radii`` ``[N]``)."""
    inside = [(torch.cdist(block, centres) <= radii).any(dim=1) for block in points.split(ROW_BLOCK)]
    return torch.cat(inside).double().mean()


def manifold_precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> tuple[Tensor, Tensor]:
    """(precision, recall) of ``fake`` ``[M, D]`` against ``real`` ``[N, D]``, in float64."""
    real, fake = real.double(), fake.double()
    precision = coverage(fake, real, knn_radii(real, k))
    recall = coverage(real, fake, knn_radii(fake, k))
    return precision, recall


class ManifoldPrecisionRecall(Metric):
    """Kynkäänniemi et al.'s precision and recall of generated against real features.

    ``update(features [N, D], real: bool)`` as torchmetrics' FID; ``compute()`` returns
    ``{"precision": …, "recall": …}``. Every feature is kept (list states), so memory grows with the
    number of samples; the distances are computed in blocks of :data:`ROW_BLOCK` rows.

    Args:
        k: the neighbour that sets each ball's radius (3, the paper's choice).
    """

    higher_is_better = True
    full_state_update = False

    def __init__(self, k: int = 3, **kwargs) -> None:
        super().__init__(**kwargs)
        if k < 1:
            raise ValueError(f"k must be a positive integer, got {k}")
        self.k = k
        self.add_state("real_features", default=[], dist_reduce_fx="cat")
        self.add_state("fake_features", default=[], dist_reduce_fx="cat")

    def update(self, features: Tensor, real: bool) -> None:
        (self.real_features if real else self.fake_features).append(features)

    def compute(self) -> dict[str, Tensor]:
        if not self.real_features or not self.fake_features:
            raise ValueError("precision/recall needs both real and generated features")
        real, fake = dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features)
        precision, recall = manifold_precision_recall(real, fake, self.k)
        return {"precision": precision, "recall": recall}


__all__ = ["ManifoldPrecisionRecall", "knn_radii", "manifold_precision_recall"]
