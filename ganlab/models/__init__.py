"""Generator and discriminator builders, one file per architecture."""

from ganlab.models.dcgan import DCGANConfig, build_dcgan_discriminator, build_dcgan_generator
from ganlab.models.vanilla import (
    VanillaConfig,
    build_vanilla_discriminator,
    build_vanilla_generator,
)

__all__ = [
    "DCGANConfig",
    "VanillaConfig",
    "build_dcgan_discriminator",
    "build_dcgan_generator",
    "build_vanilla_discriminator",
    "build_vanilla_generator",
]
