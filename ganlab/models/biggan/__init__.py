"""Lessons 05-06's BigGAN (Brock et al. 2019), class-conditional at 32x32.

- ``networks.py``: ``BigGANConfig``, the generator (shared embedding, hierarchical
  latents, conditional batch norm, self-attention) and the projection discriminator;
- ``gan.py``: ``BigGAN`` (hinge loss, orthogonal regularization, DiffAugment, EMA
  with standing statistics, sampling by class);
- its layers: ``ganlab.layers``; its exercise checks: ``ganlab.checks.biggan``;
  the shipped trained models: ``ganlab.shipped``; lesson 06's explorer: ``ganlab.explorer``.
"""

from ganlab.models.biggan.gan import STANDING_STATISTICS_BATCHES, BigGAN, check_standing_statistics_batches
from ganlab.models.biggan.networks import (
    BATCH_NORM_EPSILON,
    BATCH_NORM_MOMENTUM,
    FIRST_RESOLUTION,
    BigGANConfig,
    BigGANDiscriminator,
    BigGANGenerator,
    DiscriminatorBlock,
    GeneratorBlock,
    build_biggan_discriminator,
    build_biggan_generator,
    config_from_dict,
)

__all__ = [
    "BATCH_NORM_EPSILON", "BATCH_NORM_MOMENTUM", "FIRST_RESOLUTION", "STANDING_STATISTICS_BATCHES", "BigGAN",
    "BigGANConfig", "BigGANDiscriminator", "BigGANGenerator", "DiscriminatorBlock", "GeneratorBlock",
    "build_biggan_discriminator", "build_biggan_generator", "check_standing_statistics_batches", "config_from_dict",
]
