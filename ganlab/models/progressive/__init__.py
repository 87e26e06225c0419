"""Lesson 04's Progressive GAN (Karras et al. 2018): growing 4x4 -> 32x32 with fade-in.

- ``networks.py``: ``ProgressiveConfig``, the generator and discriminator that grow;
- ``gan.py``: ``ProgressiveGAN`` (its train step, losses and growth state),
  ``GrowthSchedule`` and ``GrowthCallback``;
- its layers (pixel norm, minibatch stddev, equalized learning rate, fade-in):
  ``ganlab.layers``; its exercise checks: ``ganlab.checks.progressive_gan``.
"""

from ganlab.models.progressive.gan import (
    PROGRESSIVE_LOSSES,
    GrowthCallback,
    GrowthSchedule,
    Phase,
    ProgressiveGAN,
    check_progressive_loss,
    growing_dataset,
    reset_optimizer_state,
)
from ganlab.models.progressive.networks import (
    FIRST_RESOLUTION,
    LEAKY_RELU_SLOPE,
    ProgressiveConfig,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    build_progressive_discriminator,
    build_progressive_generator,
    downsample,
    upsample,
)

__all__ = [
    "FIRST_RESOLUTION", "LEAKY_RELU_SLOPE", "PROGRESSIVE_LOSSES", "GrowthCallback", "GrowthSchedule", "Phase",
    "ProgressiveConfig", "ProgressiveDiscriminator", "ProgressiveGAN", "ProgressiveGenerator",
    "build_progressive_discriminator", "build_progressive_generator", "check_progressive_loss", "downsample",
    "growing_dataset", "reset_optimizer_state", "upsample",
]
