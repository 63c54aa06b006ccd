"""Data modules: uint8 images in, [-1, 1] floats on the device."""

from gan_zoo.data.base import ImageDataModule, InMemoryImageDataModule
from gan_zoo.data.captioned import CaptionedDataModule, CaptionedImages
from gan_zoo.data.cifar import CIFAR10
from gan_zoo.data.digits import Digits
from gan_zoo.data.encoded import EncodedImageDataModule, UnreadableSampleWarning
from gan_zoo.data.errors import DatasetNotFoundError
from gan_zoo.data.folder import ImageFolder
from gan_zoo.data.generated_captions import DigitsCaptions, FashionMNISTCaptions
from gan_zoo.data.in_memory import InMemoryImages
from gan_zoo.data.lsun import LSUN
from gan_zoo.data.mnist import MNIST, FashionMNIST
from gan_zoo.data.single_image import SingleImage, load_image
from gan_zoo.data.stanford_dogs import StanfordDogs
from gan_zoo.data.transforms import normalize, to_uint8

__all__ = [
    "CIFAR10",
    "LSUN",
    "MNIST",
    "CaptionedDataModule",
    "CaptionedImages",
    "DatasetNotFoundError",
    "Digits",
    "DigitsCaptions",
    "EncodedImageDataModule",
    "FashionMNIST",
    "FashionMNISTCaptions",
    "ImageDataModule",
    "ImageFolder",
    "InMemoryImageDataModule",
    "InMemoryImages",
    "SingleImage",
    "StanfordDogs",
    "UnreadableSampleWarning",
    "load_image",
    "normalize",
    "to_uint8",
]
