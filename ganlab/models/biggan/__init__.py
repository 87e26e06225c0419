"""Lessons 05-06's BigGAN (Brock et al. 2019), class-conditional at 32x32.

- ``networks.py``: ``BigGANConfig``, the generator (shared embedding, hierarchical
  latents, conditional batch norm, self-attention) and the projection discriminator;
- ``gan.py``: ``BigGAN`` (hinge loss, orthogonal regularization, DiffAugment, EMA
  with standing statistics, sampling by class);
- ``options.py``: ``BigGANOptions``, the recipe settings only this model reads
  (``recipe.options``: orthogonal strength, DiffAugment, standing statistics);
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
from ganlab.models.biggan.options import BigGANOptions

__all__ = [
    "BATCH_NORM_EPSILON", "BATCH_NORM_MOMENTUM", "FIRST_RESOLUTION", "STANDING_STATISTICS_BATCHES", "BigGAN",
    "BigGANConfig", "BigGANOptions", "BigGANDiscriminator", "BigGANGenerator", "DiscriminatorBlock", "GeneratorBlock",
    "build_biggan_discriminator", "build_biggan_generator", "check_standing_statistics_batches", "config_from_dict",
]

# The declaration (ganlab.registry): the GAN class, the builders and the recipes, in one place.
import dataclasses  # noqa: E402

from ganlab.recipes import Recipe  # noqa: E402
from ganlab.registry import ModelDeclaration  # noqa: E402


def check_biggan_recipe(recipe):
    """BigGAN's own checks of a recipe: its DiffAugment policy and its standing statistics' batches."""
    from ganlab.augment import parse_policy

    parse_policy(recipe.options.augment)
    if recipe.options.standing_statistics_batches is not None:
        check_standing_statistics_batches(recipe.options.standing_statistics_batches)


# Orthogonal regularization 1e-4 (the paper's) and DiffAugment (Zhao et al. 2020) on all D sees,
# against D memorizing the few offline digits: measured in docs/results.md, "BigGAN". Every budget's.
DEFAULT_OPTIONS = BigGANOptions(orthogonal_strength=1e-4, augment="translation,cutout")


DECLARATION = ModelDeclaration(
    name="biggan",
    title="BigGAN",
    gan_class=BigGAN,
    build_generator=build_biggan_generator,
    build_discriminator=build_biggan_discriminator,
    conditional=True,
    check_recipe=check_biggan_recipe,
    # Lessons 05-06 and `ganlab train biggan`: Brock et al.'s BigGAN at 32x32 (shared class
    # embedding, hierarchical latents, conditional batch norm, self-attention at 16x16,
    # projection D, spectral norm in both networks, hinge loss, orthogonal regularization
    # 1e-4, Adam with beta_1 0 and beta_2 0.999, G EMA), sized for a CPU.
    recipe=Recipe(
        model="biggan",
        network=BigGANConfig(latent_dim=120, embedding_dim=32, generator_width=32, discriminator_width=32),
        image_size=32,
        batch_size=64,
        steps=1000,  # lesson 05's training; its time on the machines measured: docs/results.md, "BigGAN"
        # Two D steps per G step (BigGAN's), 4e-4 for both learning rates (SA-GAN's D rate;
        # BigGAN's own D 2e-4 / G 5e-5 learn the classes far more slowly in a CPU budget):
        # measured in docs/results.md, "BigGAN".
        d_learning_rate=4e-4,
        g_learning_rate=4e-4,
        beta_1=0.0,
        beta_2=0.999,
        loss="hinge",
        d_steps=2,
        options=DEFAULT_OPTIONS,
        steps_per_round=100,
        evaluation_every_rounds=5,
    ),
    fast=dict(
        network=BigGANConfig(latent_dim=16, embedding_dim=8, generator_width=8, discriminator_width=8),
        batch_size=16, steps=20, d_steps=1, steps_per_round=10, evaluation_every_rounds=2, evaluation_samples=200,
        number_of_samples=500,
        # 4 batches for the sampling generator's statistics (each is an eager pass through G).
        options=dataclasses.replace(DEFAULT_OPTIONS, standing_statistics_batches=4),
    ),
    # BigGAN-PyTorch's 32x32 widths (ch 64 x 4), embedding 128, batch 64, 2 D steps.
    full=dict(
        network=BigGANConfig(latent_dim=120, embedding_dim=128, generator_width=256, discriminator_width=256),
        steps=20000, steps_per_round=1000,
    ),
)
