"""gan_zoo: generative adversarial networks as PyTorch Lightning modules, each next to its paper."""

from gan_zoo.callbacks import SampleGrid
from gan_zoo.core import AdversarialModule, ExponentialMovingAverage
from gan_zoo.data import (
    CIFAR10,
    LSUN,
    MNIST,
    DatasetNotFoundError,
    Digits,
    FashionMNIST,
    ImageDataModule,
    ImageFolder,
    StanfordDogs,
)
from gan_zoo.losses import LOSSES, AdversarialLoss, get_loss
from gan_zoo.models import ACGAN, CGAN, DCGAN, GAN, LSGAN, MODELS, WGAN, WGANGP, SemiSupervisedGAN

__version__ = "0.1.0"

__all__ = [
    "ACGAN",
    "CGAN",
    "CIFAR10",
    "DCGAN",
    "GAN",
    "LOSSES",
    "LSGAN",
    "LSUN",
    "MNIST",
    "MODELS",
    "WGAN",
    "WGANGP",
    "AdversarialLoss",
    "AdversarialModule",
    "DatasetNotFoundError",
    "Digits",
    "ExponentialMovingAverage",
    "FashionMNIST",
    "ImageDataModule",
    "ImageFolder",
    "SampleGrid",
    "SemiSupervisedGAN",
    "StanfordDogs",
    "get_loss",
]
