"""Lesson 04's Progressive GAN (Karras et al. 2018): growing 4x4 -> 32x32 with fade-in.

- ``networks.py``: ``ProgressiveConfig``, the generator and discriminator that grow;
- ``gan.py``: ``ProgressiveGAN`` (its train step, losses and growth state),
  ``GrowthSchedule`` and ``GrowthCallback``;
- ``options.py``: ``ProgressiveOptions``, the recipe settings only this model
  reads (``recipe.options``: the schedule, the R1 and gradient penalties);
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
from ganlab.models.progressive.options import ProgressiveOptions

__all__ = [
    "FIRST_RESOLUTION", "LEAKY_RELU_SLOPE", "PROGRESSIVE_LOSSES", "GrowthCallback", "GrowthSchedule", "Phase",
    "ProgressiveConfig", "ProgressiveOptions", "ProgressiveDiscriminator", "ProgressiveGAN", "ProgressiveGenerator",
    "build_progressive_discriminator", "build_progressive_generator", "check_progressive_loss", "downsample",
    "growing_dataset", "reset_optimizer_state", "upsample",
]

# The declaration (ganlab.registry): the GAN class, the builders and the recipes, in one place.
import dataclasses  # noqa: E402

from ganlab.recipes import Recipe  # noqa: E402
from ganlab.registry import ModelDeclaration  # noqa: E402


def check_progressive_recipe(recipe):
    """The progressive GAN's own checks of a recipe: its loss, R1 and penalty settings go together."""
    from ganlab.losses import check_penalty_samples

    options = recipe.options
    check_penalty_samples(options.penalty_samples)
    check_progressive_loss(recipe.loss, options.r1_weight, options.r1_interval, options.penalty_samples)


# Not the paper's WGAN-GP: StyleGAN's non-saturating loss (the recipe's loss="bce") with R1
# (gamma 1) every 8th step, weighted by 8 (StyleGAN2's lazy regularization). The `full` recipe
# keeps the paper's loss; `--set loss=wasserstein --set r1_weight=none` trains with it here.
CPU_OPTIONS = ProgressiveOptions(
    # 8,000 images per phase and the paper's batch of 16 at 32x32 (small batches buy more updates).
    schedule=GrowthSchedule(
        resolutions=(4, 8, 16, 32), stable_images=8_000, transition_images=8_000, batch_sizes=(64, 64, 32, 16),
    ),
    r1_weight=1.0,
    r1_interval=8,
)


DECLARATION = ModelDeclaration(
    name="progressive",
    title="the progressive GAN",
    gan_class=ProgressiveGAN,
    build_generator=build_progressive_generator,
    build_discriminator=build_progressive_discriminator,
    check_recipe=check_progressive_recipe,
    # Lesson 04 and `ganlab train progressive`: Karras et al.'s settings (Adam 1e-3 with
    # beta_1 0, beta_2 0.99, epsilon 1e-8, equalized learning rate, pixel norm, minibatch
    # stddev) on MNIST padded to 32x32, the schedule scaled down from 600 thousand images
    # per phase to about ten minutes of a 2-core CPU. Each departure from the paper below
    # was measured: docs/results.md, "Progressive GAN".
    recipe=Recipe(
        model="progressive",
        network=ProgressiveConfig(latent_dim=128, channel_base=512, channel_max=32),
        image_size=32,
        batch_size=64,
        d_learning_rate=1e-3,
        g_learning_rate=1e-3,
        beta_1=0.0,
        beta_2=0.99,
        epsilon=1e-8,
        # Not the paper's 0.999: its 693-step half-life is most of the schedule's 1,000 steps at 32x32.
        ema_decay=0.99,
        loss="bce",  # with CPU_OPTIONS' R1 penalty
        options=CPU_OPTIONS,
        steps_per_round=250,
    ),
    # Every resolution and both phases, a few steps each.
    fast=dict(
        network=ProgressiveConfig(latent_dim=16, channel_base=64, channel_max=8),
        options=dataclasses.replace(CPU_OPTIONS, schedule=GrowthSchedule(
            resolutions=(4, 8, 16, 32), stable_images=48, transition_images=48, batch_sizes=(16, 16, 8, 8),
        )),
        steps_per_round=10, evaluation_every_rounds=3, evaluation_samples=200, number_of_samples=500,
    ),
    # The paper's loss, its widths at 32x32, its one-GPU batch sizes and its G average
    # (0.999: the phases are long enough again).
    full=dict(
        ema_decay=0.999,
        loss="wasserstein",  # the paper's WGAN-GP with drift (no R1)
        network=ProgressiveConfig(latent_dim=512, channel_base=16384, channel_max=512),
        options=ProgressiveOptions(schedule=GrowthSchedule(
            resolutions=(4, 8, 16, 32), stable_images=300_000, transition_images=300_000,
            batch_sizes=(128, 128, 128, 64),
        )),
        steps_per_round=1000,
    ),
)
