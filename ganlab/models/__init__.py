"""The course's models, one folder each (``ganlab/models/<name>/``): networks, GAN class, declaration.

Each folder's ``__init__`` declares its model once (``ganlab.registry``); the
builders and configs are re-exported here, as notebooks import them.
"""

from ganlab.models.dcgan import DCGANConfig, build_dcgan_discriminator, build_dcgan_generator
from ganlab.models.progressive import (
    ProgressiveConfig,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    build_progressive_discriminator,
    build_progressive_generator,
)
from ganlab.models.vanilla import (
    VanillaConfig,
    build_vanilla_discriminator,
    build_vanilla_generator,
)

__all__ = [
    "DCGANConfig",
    "ProgressiveConfig",
    "ProgressiveDiscriminator",
    "ProgressiveGenerator",
    "build_progressive_discriminator",
    "build_progressive_generator",
    "VanillaConfig",
    "build_dcgan_discriminator",
    "build_dcgan_generator",
    "build_vanilla_discriminator",
    "build_vanilla_generator",
]

from ganlab.models.biggan import (  # noqa: E402
    BigGANConfig,
    BigGANDiscriminator,
    BigGANGenerator,
    build_biggan_discriminator,
    build_biggan_generator,
)

__all__ += [
    "BigGANConfig",
    "BigGANDiscriminator",
    "BigGANGenerator",
    "build_biggan_discriminator",
    "build_biggan_generator",
]
