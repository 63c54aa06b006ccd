"""``ImageDataModule``: what every data module in the zoo shares."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler, Subset
from torchdata.stateful_dataloader import StatefulDataLoader

from gan_zoo.arguments import DeclaredArguments, constructor_arguments
from gan_zoo.data.in_memory import InMemoryImages, keep_batch
from gan_zoo.data.sampler import ResumableRandomSampler
from gan_zoo.data.semi_supervised import (
    UnlabelledAndLabelledBatches,
    choose_labelled,
    labels_of,
    partially_labelled,
)
from gan_zoo.data.transforms import normalize, resize_uint8, to_channels
from gan_zoo.errors import ConfigError, InvalidDataError
from gan_zoo.lightning_compat import NOISE, LightningDataModule, save_arguments_as_hyperparameters

Split = Literal["train", "test"]

# ``val_dataloader`` returns [] when no validation split is asked for; Lightning then skips validation
# as intended, but warns about it on every fit.
warnings.filterwarnings("ignore", message="Total length of `list` across ranks is zero")
# torchdata 0.11's StatefulDataLoader calls torch.set_vital, which torch 2.14 deprecates with a warning on
# every loader built; nothing for a user to do.
warnings.filterwarnings(
    "ignore", message="'set_vital' is deprecated", category=UserWarning, module="torchdata"
)


class ImageDataModule(LightningDataModule, metaclass=DeclaredArguments):
    """Images (and labels) for GAN training.

    Datasets yield **uint8** images ``[C, H, W]``; they are turned into floats in [-1, 1] after the
    batch reaches the device (:meth:`on_after_batch_transfer`), so the host moves 4× fewer bytes and
    does no per-pixel work. Batches are ``(images, labels)`` with long labels (zeros for unlabelled
    data, whose ``num_classes`` is ``None``).

    Args:
        data_dir: where the dataset lives (or is downloaded to).
        image_size: side of the square images the model sees; ``None`` keeps the native size.
        channels: 1 or 3 to convert gray ↔ RGB; ``None`` keeps the native channels.
        batch_size: images per training batch (the last incomplete batch is dropped).
        num_workers: DataLoader worker processes.
        download: fetch the files when they are missing.
        val_split: fraction (0–1) or number of training images held out for validation; 0 (default)
            means no validation during ``fit``.
        seed: seed of the training order, the validation split and the choice of labelled examples.
        labels_per_class: keep the labels of only this many training examples per class and hide
            the others (label ``-1``); each training batch then holds ``batch_size`` unlabelled and
            ``batch_size`` labelled images (semi-supervised learning, see
            :mod:`gan_zoo.data.semi_supervised`). ``None`` keeps every label.

    These are the arguments of every data module: a subclass declares only its own and passes these
    on with ``**kwargs``, and gives its own defaults for them in its ``defaults`` class attribute
    (see :mod:`gan_zoo.arguments`). ``self.hparams`` holds all of them, as resolved.
    """

    #: ``(C, H, W)`` of the images as stored.
    native_shape: ClassVar[tuple[int, int, int]]
    #: Readable class names, empty for unlabelled datasets.
    classes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        data_dir: str | Path = "data",
        image_size: int | None = None,
        channels: int | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
        download: bool = False,
        val_split: float = 0.0,
        seed: int = 0,
        labels_per_class: int | None = None,
    ) -> None:
        super().__init__()
        # datamodule.hparams, not sent to the loggers: the model's hyperparameters go there, and both
        # may name one argument differently (max_caption_length), which Lightning refuses to merge
        save_arguments_as_hyperparameters(self, constructor_arguments(self), logger=False)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if image_size is not None and image_size < 1:
            raise ConfigError(f"image_size must be >= 1, got {image_size}")
        if channels not in (None, 1, 3):
            raise ConfigError(f"channels must be 1, 3 or None, got {channels}")
        if val_split < 0:
            raise ConfigError(f"val_split must be >= 0, got {val_split}")
        if labels_per_class is not None and labels_per_class < 1:
            raise ConfigError(f"labels_per_class must be >= 1, got {labels_per_class}")
        self.data_dir = Path(data_dir)
        self.image_size = image_size
        self.channels = channels
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.download = download
        self.val_split = val_split
        self.seed = seed
        self.labels_per_class = labels_per_class
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.test_set: Dataset | None = None
        self._legacy_position: dict[str, int] | None = None  # see load_state_dict

    # ------------------------------------------------------------------ what the model is linked to
    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of the batches, known before any file is read."""
        c, h, w = self.native_shape
        if self.image_size is not None:
            h = w = self.image_size
        return (self.channels or c, h, w)

    @property
    def num_classes(self) -> int | None:
        return len(self.classes) or None

    # ------------------------------------------------------------------ datasets
    def make_dataset(self, split: Split) -> Dataset:
        """The ``split`` of the dataset, yielding ``(uint8 image [C, H, W], label)``."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if stage in ("fit", "validate", None) and self.train_set is None:
            self.train_set, self.val_set = self._split_validation(self.make_dataset("train"))
            if self.labels_per_class is not None:
                self.train_set = self._keep_few_labels(self.train_set)
        if stage in ("test", None) and self.test_set is None:
            self.test_set = self.make_dataset("test")

    def _split_validation(self, dataset: Dataset) -> tuple[Dataset, Dataset | None]:
        size = len(dataset)
        n_val = round(self.val_split * size) if self.val_split < 1 else int(self.val_split)
        if n_val == 0:
            return dataset, None
        if n_val >= size:
            raise ValueError(f"val_split={self.val_split} leaves no training images (dataset has {size})")
        order = torch.randperm(size, generator=torch.Generator().manual_seed(self.seed))
        train_idx, val_idx = order[n_val:], order[:n_val]
        if isinstance(dataset, InMemoryImages):
            return dataset.subset(train_idx), dataset.subset(val_idx)
        return Subset(dataset, train_idx.tolist()), Subset(dataset, val_idx.tolist())

    def _keep_few_labels(self, dataset: Dataset) -> Dataset:
        if self.num_classes is None:
            raise ValueError(f"labels_per_class needs labelled data; {type(self).__name__} has no classes")
        labelled = choose_labelled(labels_of(dataset), self.labels_per_class, self.num_classes, self.seed)
        return partially_labelled(dataset, labelled)

    # ------------------------------------------------------------------ loaders
    def train_dataloader(self) -> DataLoader:
        if self.train_set is None:
            raise RuntimeError(f"{type(self).__name__}.setup() has not been called for this split")
        if self.labels_per_class is not None:
            # Each epoch's order comes from the global RNG: such a run resumes at the start of an epoch,
            # and Lightning says so when it resumes mid-epoch.
            labelled = self.labels_per_class * self.num_classes
            batches = UnlabelledAndLabelledBatches(len(self.train_set) - labelled, labelled, self.batch_size)
            return self._loader(self.train_set, batch_sampler=batches)
        # The order is a function of (seed, epoch), not of the global RNG, and resumes mid-epoch: the
        # loader's state (the sampler's position, the workers' seeds) is saved and restored by Lightning.
        sampler = ResumableRandomSampler(len(self.train_set), self.batch_size, self.seed, self._epoch_length)
        if self._legacy_position is not None:
            sampler.load_state_dict(self._legacy_position)
            self._legacy_position = None
        return self._loader(self.train_set, drop_last=True, sampler=sampler, loader=StatefulDataLoader)

    def _epoch_length(self) -> float:
        """Batches in a training epoch as the trainer runs it; all of them without a trainer."""
        if self.trainer is None:
            return len(self.train_set) // self.batch_size
        return self.trainer.num_training_batches

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Reads the training order's position from checkpoints written before the loader kept it."""
        if "train_sampler" in state_dict:
            legacy = state_dict["train_sampler"]
            self._legacy_position = {
                "epoch": legacy["epoch"],
                "yielded": legacy["consumed"] * self.batch_size,
            }

    def val_dataloader(self) -> DataLoader | list:
        # No held-out split: Lightning skips validation for an empty list.
        return self._loader(self.val_set, shuffle=False, drop_last=False) if self.val_set is not None else []

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False, drop_last=False)

    def _loader(
        self,
        dataset: Dataset | None,
        shuffle: bool = False,
        drop_last: bool = False,
        batch_sampler: Sampler[list[int]] | None = None,
        sampler: ResumableRandomSampler | None = None,
        loader: type[DataLoader] = DataLoader,
    ) -> DataLoader:
        if dataset is None:
            raise RuntimeError(f"{type(self).__name__}.setup() has not been called for this split")
        in_memory = isinstance(dataset, InMemoryImages)
        if in_memory and self.num_workers == 0:  # workers cannot speed up a gather from memory
            warnings.filterwarnings("ignore", message=NOISE["workers"])
        batching: dict[str, Any] = {"batch_sampler": batch_sampler}
        if batch_sampler is None:
            batching = {
                "batch_size": self.batch_size,
                "shuffle": shuffle,
                "sampler": sampler,
                "drop_last": drop_last and len(dataset) >= self.batch_size,
            }
        return loader(
            dataset,
            **batching,
            # Its own generator: creating an iterator then draws nothing from the global RNG.
            generator=torch.Generator().manual_seed(self.seed),
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            collate_fn=keep_batch if in_memory else None,
            # Only host memory can be pinned; data kept on the device needs no copy at all.
            pin_memory=torch.cuda.is_available() and not (in_memory and dataset.device.type != "cpu"),
        )

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        images, labels = batch
        return (normalize(images) if images.dtype == torch.uint8 else images), labels


def check_labels(labels: Tensor, num_classes: int | None, source: str) -> None:
    """Raise :class:`InvalidDataError` for labels outside ``[0, num_classes)`` (once per split, not per
    batch: a class-conditional model would otherwise fail deep inside an embedding lookup)."""
    if num_classes is None or labels.numel() == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise InvalidDataError(
            f"{source}: labels must lie in [0, {num_classes}), found values from {low} to {high}"
        )


class InMemoryImageDataModule(ImageDataModule):
    """A data module whose whole split fits in memory as one uint8 tensor (MNIST family, CIFAR, Digits).

    Subclasses implement :meth:`load_split`; resizing and channel conversion happen once, here.

    Args:
        on_device: keep the splits on the trainer's device (a GPU's memory, say) as uint8 — 47 MB
            for MNIST, 150 MB for CIFAR-10 — so a batch is one gather there and only its indices
            cross the bus; normalisation to [-1, 1] happens on the device as always. Needs
            ``num_workers=0`` (worker processes cannot share accelerator memory). Without a trainer
            (``setup`` called by hand) the data stays where it is.
        Other arguments: see :class:`ImageDataModule`.
    """

    def __init__(self, on_device: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if on_device and self.num_workers > 0:
            raise ConfigError(
                f"on_device=True keeps the images in the accelerator's memory, which worker processes "
                f"cannot share; set num_workers=0 (got {self.num_workers})"
            )
        self.on_device = on_device

    def setup(self, stage: str | None = None) -> None:
        super().setup(stage)
        if self.on_device and self.trainer is not None:
            device = self.trainer.strategy.root_device
            for dataset in (self.train_set, self.val_set, self.test_set):
                if isinstance(dataset, InMemoryImages):
                    dataset.to(device)

    def load_split(self, split: Split) -> tuple[Tensor, Tensor]:
        """uint8 images ``[N, C, H, W]`` at native size and labels ``[N]``."""
        raise NotImplementedError

    def make_dataset(self, split: Split) -> InMemoryImages:
        images, labels = self.load_split(split)
        check_labels(labels, self.num_classes, f"{type(self).__name__} ({split})")
        _, height, _ = self.image_shape
        images = to_channels(resize_uint8(images, height), self.image_shape[0])
        return InMemoryImages(images, labels)
