"""Every GAN in the zoo, one file per paper. ``MODELS`` lists them by name."""

from gan_zoo.models.cgan import CGAN
from gan_zoo.models.dcgan import DCGAN
from gan_zoo.models.gan import GAN
from gan_zoo.models.registry import MODELS
from gan_zoo.models.singan import SinGAN
from gan_zoo.models.text_to_image import TextToImageGAN

__all__ = ["CGAN", "DCGAN", "GAN", "MODELS", "SinGAN", "TextToImageGAN"]
