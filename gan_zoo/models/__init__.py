"""Every GAN in the zoo, one file per paper. ``MODELS`` lists them by name."""

from gan_zoo.models.acgan import ACGAN
from gan_zoo.models.biggan import BigGAN
from gan_zoo.models.cgan import CGAN
from gan_zoo.models.dcgan import DCGAN
from gan_zoo.models.gan import GAN
from gan_zoo.models.improved_gan import SemiSupervisedGAN
from gan_zoo.models.lsgan import LSGAN
from gan_zoo.models.progan import ProGAN
from gan_zoo.models.registry import MODELS
from gan_zoo.models.sagan import SAGAN
from gan_zoo.models.singan import SinGAN
from gan_zoo.models.text_to_image import TextToImageGAN
from gan_zoo.models.wgan import WGAN, WGANGP

__all__ = [
    "ACGAN",
    "CGAN",
    "DCGAN",
    "GAN",
    "LSGAN",
    "MODELS",
    "SAGAN",
    "WGAN",
    "WGANGP",
    "BigGAN",
    "ProGAN",
    "SemiSupervisedGAN",
    "SinGAN",
    "TextToImageGAN",
]
