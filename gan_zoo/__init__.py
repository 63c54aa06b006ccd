"""gan_zoo: generative adversarial networks as PyTorch Lightning modules, each next to its paper."""

from gan_zoo.callbacks import SampleGrid
from gan_zoo.core import AdversarialModule, ExponentialMovingAverage
from gan_zoo.data import (
    CIFAR10,
    LSUN,
    MNIST,
    CaptionedImages,
    DatasetNotFoundError,
    Digits,
    FashionMNIST,
    FashionMNISTCaptions,
    ImageDataModule,
    ImageFolder,
    SingleImage,
    StanfordDogs,
)
from gan_zoo.losses import LOSSES, AdversarialLoss, get_loss
from gan_zoo.models import (
    ACGAN,
    CGAN,
    DCGAN,
    GAN,
    LSGAN,
    MODELS,
    SAGAN,
    WGAN,
    WGANGP,
    BigGAN,
    ProGAN,
    SemiSupervisedGAN,
    SinGAN,
    TextToImageGAN,
)

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
    "SAGAN",
    "WGAN",
    "WGANGP",
    "AdversarialLoss",
    "AdversarialModule",
    "BigGAN",
    "CaptionedImages",
    "DatasetNotFoundError",
    "Digits",
    "ExponentialMovingAverage",
    "FashionMNIST",
    "FashionMNISTCaptions",
    "ImageDataModule",
    "ImageFolder",
    "ProGAN",
    "SampleGrid",
    "SemiSupervisedGAN",
    "SinGAN",
    "SingleImage",
    "StanfordDogs",
    "TextToImageGAN",
    "get_loss",
]
