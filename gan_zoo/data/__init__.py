"""Data modules: uint8 images in, [-1, 1] floats on the device."""

from gan_zoo.data.base import ImageDataModule, InMemoryImageDataModule
from gan_zoo.data.captioned import CaptionedDataModule, CaptionedImages
from gan_zoo.data.cifar import CIFAR10
from gan_zoo.data.digits import Digits
from gan_zoo.data.errors import DatasetNotFoundError
from gan_zoo.data.generated_captions import DigitsCaptions, FashionMNISTCaptions
from gan_zoo.data.in_memory import InMemoryImages
from gan_zoo.data.mnist import MNIST, FashionMNIST
from gan_zoo.data.single_image import SingleImage, load_image
from gan_zoo.data.transforms import normalize, to_uint8

__all__ = [
    "CIFAR10",
    "MNIST",
    "CaptionedDataModule",
    "CaptionedImages",
    "DatasetNotFoundError",
    "Digits",
    "DigitsCaptions",
    "FashionMNIST",
    "FashionMNISTCaptions",
    "ImageDataModule",
    "InMemoryImageDataModule",
    "InMemoryImages",
    "SingleImage",
    "load_image",
    "normalize",
    "to_uint8",
]
