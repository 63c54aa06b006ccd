"""gan_zoo: generative adversarial networks as PyTorch Lightning modules, each next to its paper."""

from gan_zoo.callbacks import FID, KID, InceptionScore, MiFID, SampleGrid
from gan_zoo.core import AdversarialModule, ExponentialMovingAverage
from gan_zoo.data import CIFAR10, MNIST, DatasetNotFoundError, Digits, FashionMNIST, ImageDataModule
from gan_zoo.losses import LOSSES, AdversarialLoss, get_loss
from gan_zoo.models import CGAN, DCGAN, GAN, MODELS

__version__ = "0.1.0"

__all__ = [
    "CGAN",
    "CIFAR10",
    "DCGAN",
    "FID",
    "GAN",
    "KID",
    "LOSSES",
    "MNIST",
    "MODELS",
    "AdversarialLoss",
    "AdversarialModule",
    "DatasetNotFoundError",
    "Digits",
    "ExponentialMovingAverage",
    "FashionMNIST",
    "ImageDataModule",
    "InceptionScore",
    "MiFID",
    "SampleGrid",
    "get_loss",
]
