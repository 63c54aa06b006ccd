"""gan_zoo: generative adversarial networks as PyTorch Lightning modules, each next to its paper."""

from gan_zoo.callbacks import SampleGrid
from gan_zoo.core import AdversarialModule, ExponentialMovingAverage
from gan_zoo.data import (
    CIFAR10,
    MNIST,
    CaptionedImages,
    DatasetNotFoundError,
    Digits,
    FashionMNIST,
    FashionMNISTCaptions,
    ImageDataModule,
    SingleImage,
)
from gan_zoo.losses import LOSSES, AdversarialLoss, get_loss
from gan_zoo.models import CGAN, DCGAN, GAN, MODELS, SinGAN, TextToImageGAN

__version__ = "0.1.0"

__all__ = [
    "CGAN",
    "CIFAR10",
    "DCGAN",
    "GAN",
    "LOSSES",
    "MNIST",
    "MODELS",
    "AdversarialLoss",
    "AdversarialModule",
    "CaptionedImages",
    "DatasetNotFoundError",
    "Digits",
    "ExponentialMovingAverage",
    "FashionMNIST",
    "FashionMNISTCaptions",
    "ImageDataModule",
    "SampleGrid",
    "SinGAN",
    "SingleImage",
    "TextToImageGAN",
    "get_loss",
]
