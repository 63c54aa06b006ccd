"""The few-labels option: n labelled examples per class, the rest unlabelled, both in every batch."""

from __future__ import annotations

from typing import ClassVar

import pytest
import torch
from torch.utils.data import TensorDataset

from gan_zoo.data import Digits, InMemoryImageDataModule
from gan_zoo.data.semi_supervised import UNLABELLED, choose_labelled, labels_of, partially_labelled


def few_labels(**kwargs) -> Digits:
    data = Digits(image_size=8, batch_size=20, labels_per_class=3, **kwargs)
    data.setup("fit")
    return data


def test_exactly_n_labelled_examples_per_class_the_rest_hidden():
    data = few_labels()
    labels = data.train_set.labels
    assert len(labels) == 1500 + 30  # every image unlabelled, then the 30 labelled ones
    assert (labels[:1500] == UNLABELLED).all()
    assert torch.bincount(labels[1500:], minlength=10).tolist() == [3] * 10
    original = Digits(image_size=8)
    original.setup("fit")
    # the labelled copies are real training images with their true labels
    for image, label in zip(data.train_set.images[1500:], labels[1500:], strict=True):
        matches = (original.train_set.images == image).flatten(1).all(1)
        assert label in original.train_set.labels[matches]


def test_each_batch_holds_unlabelled_then_labelled_images():
    data = few_labels()
    loader = data.train_dataloader()
    assert len(loader) == 1500 // 20
    seen_unlabelled = 0
    for images, labels in loader:
        assert images.shape[0] == 40
        assert (labels[:20] == UNLABELLED).all() and (labels[20:] >= 0).all()
        seen_unlabelled += 20
    assert seen_unlabelled == 1500  # every image once per epoch as unlabelled data


def test_labelled_examples_cycle_evenly():
    data = few_labels()
    labelled = torch.cat([labels[20:] for _, labels in data.train_dataloader()])
    # 75 batches × 20 = 1500 draws = 50 full passes over the 30 labelled examples
    assert torch.bincount(labelled, minlength=10).tolist() == [150] * 10


def test_the_choice_is_seeded_and_validation_and_test_keep_their_labels():
    a, b, c = few_labels(), few_labels(), few_labels(seed=1)
    assert torch.equal(a.train_set.images[1500:], b.train_set.images[1500:])
    assert not torch.equal(a.train_set.images[1500:], c.train_set.images[1500:])
    data = Digits(image_size=8, batch_size=20, labels_per_class=3, val_split=100)
    data.setup()
    assert (data.val_set.labels >= 0).all() and (data.test_set.labels >= 0).all()
    assert len(data.train_set) == 1400 + 30


def test_choose_labelled_needs_enough_examples_per_class():
    labels = torch.tensor([0, 0, 1, 1, 1])
    chosen = choose_labelled(labels, 2, 2, seed=0)
    assert sorted(labels[chosen].tolist()) == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="class 0 has 2 training examples; labels_per_class=3"):
        choose_labelled(labels, 3, 2, seed=0)


def test_datasets_not_held_in_memory_work_too():
    dataset = TensorDataset(torch.arange(6).view(6, 1, 1, 1).byte(), torch.tensor([0, 1, 0, 1, 0, 1]))
    assert labels_of(dataset).tolist() == [0, 1, 0, 1, 0, 1]
    mixed = partially_labelled(dataset, torch.tensor([1, 2]))
    assert len(mixed) == 8
    assert [int(mixed[i][1]) for i in range(8)] == [UNLABELLED] * 6 + [1, 0]
    assert int(mixed[6][0].flatten()[0]) == 1


class Unlabelled(InMemoryImageDataModule):
    native_shape = (1, 2, 2)
    classes: ClassVar[tuple[str, ...]] = ()

    def load_split(self, split):
        return torch.zeros(4, 1, 2, 2, dtype=torch.uint8), torch.zeros(4, dtype=torch.long)


def test_bad_values_fail_clearly():
    with pytest.raises(ValueError, match="labels_per_class must be >= 1"):
        Digits(labels_per_class=0)
    with pytest.raises(ValueError, match="needs labelled data"):
        Unlabelled(labels_per_class=1).setup("fit")
