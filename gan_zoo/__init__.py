"""gan_zoo: generative adversarial networks as PyTorch Lightning modules, each next to its paper."""

from gan_zoo.callbacks import SampleGrid
from gan_zoo.core import (
    AdversarialDDPStrategy,
    AdversarialModule,
    ExponentialMovingAverage,
    interpolate,
    latent_arithmetic,
    load_model,
)
from gan_zoo.data import CIFAR10, MNIST, DatasetNotFoundError, Digits, FashionMNIST, ImageDataModule
from gan_zoo.losses import LOSSES, REGULARIZERS, AdversarialLoss, Regularizer, get_loss, get_regularizer
from gan_zoo.models import CGAN, DCGAN, GAN, MODELS

__version__ = "0.1.0"

__all__ = [
    "CGAN",
    "CIFAR10",
    "DCGAN",
    "GAN",
    "LOSSES",
    "MNIST",
    "MODELS",
    "REGULARIZERS",
    "AdversarialDDPStrategy",
    "AdversarialLoss",
    "AdversarialModule",
    "DatasetNotFoundError",
    "Digits",
    "ExponentialMovingAverage",
    "FashionMNIST",
    "ImageDataModule",
    "Regularizer",
    "SampleGrid",
    "get_loss",
    "get_regularizer",
    "interpolate",
    "latent_arithmetic",
    "load_model",
]
