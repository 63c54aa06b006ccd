"""Few labels: n labelled examples per class, the rest of the training set unlabelled.

The training set becomes N + L examples: all N images with their labels hidden (label ``-1``,
:data:`UNLABELLED`), followed by the L = n · K labelled ones. Each training batch holds ``batch_size``
unlabelled images (every image once per epoch) and ``batch_size`` labelled ones (the few labelled
examples cycled in a fresh order on each pass), as in Salimans et al. 2016's code: a model sees both
kinds in every step and tells them apart by the label. An epoch is N // batch_size steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import ConcatDataset, Dataset, Sampler, Subset

from gan_zoo.data.in_memory import InMemoryImages

#: The label of an example whose label is hidden.
UNLABELLED = -1


def labels_of(dataset: Dataset) -> Tensor:
    """All labels of ``dataset`` as a long tensor ``[N]`` (one pass over it unless it holds them)."""
    if isinstance(dataset, InMemoryImages):
        return dataset.labels
    return torch.as_tensor([int(dataset[i][1]) for i in range(len(dataset))], dtype=torch.long)


def choose_labelled(labels: Tensor, per_class: int, num_classes: int, seed: int) -> Tensor:
    """Indices of ``per_class`` examples of every class, drawn with a seeded permutation.

    Raises:
        ValueError: a class has fewer than ``per_class`` examples.
    """
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    chosen = []
    for k in range(num_classes):
        of_class = order[labels[order] == k]
        if len(of_class) < per_class:
            raise ValueError(f"class {k} has {len(of_class)} training examples; labels_per_class={per_class}")
        chosen.append(of_class[:per_class])
    return torch.cat(chosen)


class _HiddenLabels(Dataset):
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.dataset[index][0], UNLABELLED


def partially_labelled(dataset: Dataset, labelled: Tensor) -> Dataset:
    """The N images of ``dataset`` unlabelled, then the examples at ``labelled`` with their labels."""
    if isinstance(dataset, InMemoryImages):  # one tensor again: batches stay single gathers
        hidden = torch.full_like(dataset.labels, UNLABELLED)
        images = torch.cat([dataset.images, dataset.images[labelled]])
        return InMemoryImages(images, torch.cat([hidden, dataset.labels[labelled]]))
    return ConcatDataset([_HiddenLabels(dataset), Subset(dataset, labelled.tolist())])


class UnlabelledAndLabelledBatches(Sampler[list[int]]):
    """Batches of ``batch_size`` indices from ``[0, unlabelled)`` followed by ``batch_size`` from the
    ``labelled`` examples after them.

    The unlabelled part is a fresh permutation each epoch (the last partial batch is dropped); the
    labelled part cycles through the labelled examples, reshuffled on every pass.
    """

    def __init__(self, unlabelled: int, labelled: int, batch_size: int) -> None:
        self.unlabelled, self.labelled, self.batch_size = unlabelled, labelled, batch_size

    def __len__(self) -> int:
        return max(self.unlabelled // self.batch_size, 1)

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.unlabelled)
        passes = -(-len(self) * self.batch_size // self.labelled)  # enough passes over the labelled set
        cycled = torch.cat([torch.randperm(self.labelled) for _ in range(passes)]) + self.unlabelled
        for b in range(len(self)):
            window = slice(b * self.batch_size, (b + 1) * self.batch_size)
            yield order[window].tolist() + cycled[window].tolist()
